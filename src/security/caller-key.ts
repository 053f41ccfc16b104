// Whom a call counts against at the receive gate (receive-gate.ts), which shares its
// turns out by caller so that one caller cannot hold them all
// (docs/decisions/0240-receive-turns-shared-by-caller.md).
//
// With TLS, the caller is the verified certificate's identity (a user or a member),
// known once per connection (connection-identity.ts): every connection and every
// address of one user count as one caller, so opening more connections buys nothing.
// The call guards have already refused calls without one, so on a secure port every
// call that reaches the gate has an identity.
//
// With --insecure there is no identity, and the caller is the remote IP address: one
// host cannot take more turns by opening more connections, and clients behind one
// address (a proxy, a NAT) share one caller's turns. Anyone may do anything on an
// insecure port anyway; this keeps the turns fair between honest clients.
import type * as grpc from '@grpc/grpc-js';
import { connectionIdentityOf } from './connection-identity.js';

/** A caller's key: `user:NAME` or `node:NAME` with TLS, `address:IP` without. */
export function callerKeyOf(call: grpc.ServerInterceptingCallInterface): string {
  const identity = connectionIdentityOf(call);
  if (identity !== undefined) return `${identity.kind}:${identity.name}`;
  return `address:${addressOfPeer(call.getPeer())}`;
}

/** grpc-js's peer is `IP:PORT` (IPv6 without brackets); the port is left out. */
export function addressOfPeer(peer: string): string {
  return peer.replace(/:\d+$/, '');
}
