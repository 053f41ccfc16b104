// Server interceptors that decide, from the TLS connection alone, whether a call may
// start; the connection's identity is worked out once per connection
// (connection-identity.ts). They run when the call's metadata arrives, before its
// message is read or decoded, so a refused caller costs the node no decoding and
// reaches no handler.
//
// Client port: the caller's identity is the user named by a client certificate that
// the cluster's CA signed (grpc-js reports a peer certificate only for a verified
// connection); the method needs a role the user holds (method-roles.ts). No verified
// certificate -> UNAUTHENTICATED; a node's certificate, an unknown user or a missing
// role -> PERMISSION_DENIED. Health needs a certificate but no role.
//
// Peer port: the TLS handshake already refused a caller without a certificate of this
// CA (the server requires one). The certificate must name a node, and the call's
// `qkv-from` metadata must name that same node: a member cannot speak for another, and
// a client certificate cannot speak for any member -> PEER_IDENTITY_MISMATCH. Message
// bodies that name a sender again (Probe's `sender`) are checked against `qkv-from` by
// the Replica service.
import * as grpc from '@grpc/grpc-js';
import { PeerIdentityMismatchError, PermissionDeniedError, UnauthenticatedError, type QkvError } from '../errors/errors.js';
import { serviceErrorOf } from '../protocol/error-status.js';
import { senderOf } from '../protocol/sender-metadata.js';
import { connectionIdentityOf, type CallWithAuthContext } from './connection-identity.js';
import type { CertificateIdentity } from './certificate-identity.js';
import { ANY_IDENTITY_METHODS, roleNeededFor } from './method-roles.js';
import type { UserRoles } from './user-roles.js';

/** An interceptor that runs `check` on the metadata and ends the call with its error, if any. */
function guard(check: (call: grpc.ServerInterceptingCallInterface, method: string, metadata: grpc.Metadata) => QkvError | undefined, onRefused?: (error: QkvError, method: string) => void): grpc.ServerInterceptor {
  return (methodDescriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const refusal = check(call, methodDescriptor.path, metadata);
            if (refusal === undefined) {
              nextMetadata(metadata);
              return;
            }
            onRefused?.(refusal, methodDescriptor.path);
            call.sendStatus(serviceErrorOf(refusal));
          },
        });
      },
    });
}

export interface GuardOptions {
  /** Told of every refusal (counted and logged by the node). */
  readonly onRefused?: (error: QkvError, method: string) => void;
}

/** Whether `identity` may call `method`: the refusal, or undefined. */
function clientRefusal(identity: CertificateIdentity | undefined, method: string, users: () => UserRoles): QkvError | undefined {
  if (identity === undefined) return new UnauthenticatedError('the call carries no client certificate signed by this cluster\'s CA');
  if (ANY_IDENTITY_METHODS.has(method)) return undefined;
  const role = roleNeededFor(method);
  if (identity.kind !== 'user') return new PermissionDeniedError(`node ${identity.name}`, method, role);
  if (!users().allows(identity.name, role)) return new PermissionDeniedError(identity.name, method, role);
  return undefined;
}

/** The client port's guard; `users` is read on every call, so live changes apply at once. */
export function clientPortGuard(users: () => UserRoles, options: GuardOptions = {}): grpc.ServerInterceptor {
  return guard((call, method) => clientRefusal(connectionIdentityOf(call), method, users), options.onRefused);
}

/**
 * For a stream that carries requests of several methods (KV.Multiplex): the guard let
 * the stream open, and each request inside it is then checked as a unary call of its
 * method would have been. The certificate is read once per stream (a connection's
 * identity does not change); `users` on every request, so live changes apply at once.
 */
export function clientRequestAuthorizer(users: () => UserRoles, options: GuardOptions = {}): (call: CallWithAuthContext) => (method: string) => QkvError | undefined {
  return (call) => {
    const identity = connectionIdentityOf(call);
    return (method) => {
      const refusal = clientRefusal(identity, method, users);
      if (refusal !== undefined) options.onRefused?.(refusal, method);
      return refusal;
    };
  };
}

/** The peer port's guard: the certificate names a node, and the call says it is from that node. */
export function peerPortGuard(options: GuardOptions = {}): grpc.ServerInterceptor {
  return guard((call, _method, metadata) => {
    const identity = connectionIdentityOf(call);
    const claimed = senderOf(metadata) ?? '(no sender)';
    if (identity === undefined) return new UnauthenticatedError('the peer port takes only calls with a member certificate of this cluster\'s CA');
    if (identity.kind !== 'node') return new PeerIdentityMismatchError(`user ${identity.name}`, claimed);
    if (identity.name !== claimed) return new PeerIdentityMismatchError(identity.name, claimed);
    return undefined;
  }, options.onRefused);
}
