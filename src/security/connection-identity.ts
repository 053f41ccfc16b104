// The verified certificate identity of a call's TLS connection, worked out once per
// connection instead of once per call (ADR 0210).
//
// Why once: grpc-js answers getAuthContext() by calling the socket's
// getPeerCertificate() on every call, which builds the certificate's whole JavaScript
// object (three fingerprints, the public key, every name) each time: 16 % of a
// coordinator's busy time under unary TLS gets (measured in ADR 0210).
//
// Why it is safe to keep: a connection's certificate could change only through a TLS 1.2
// renegotiation, and Node's TLS server lets a client renegotiate. After one it keeps
// `authorized` true from the first handshake, only sets `authorizationError` when the
// new certificate fails verification, and getPeerCertificate() returns the new one; so
// a reader that renegotiated with a self-made certificate naming `admin` would have been
// admin to anything reading the certificate per call. Two layers stop that:
// - Node's HTTP/2 layer turns renegotiation off on every connection it serves, as
//   HTTP/2 requires (RFC 9113, 9.2.1): an attempt ends the connection. All our calls come
//   through it, and the real node refuses the attack for this reason alone.
// - Here, independently of that: when a connection is first seen, renegotiation is turned
//   off on it again, and its identity counts only when `authorized` is true and
//   `authorizationError` is empty, which also refuses a bad certificate shown in a
//   renegotiation before the first call. After that the connection's identity cannot
//   change, and a WeakMap keeps it for as long as the socket lives.
// connection-identity.test.ts runs a real renegotiating client against both layers and
// against this one alone.
import { TLSSocket } from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { identityOfCertificate, type CertificateIdentity } from './certificate-identity.js';

/** What gives a call's auth context: grpc-js's intercepting calls and handler call objects. */
export type CallWithAuthContext = Pick<grpc.ServerInterceptingCallInterface, 'getAuthContext'>;

/**
 * The fields grpc-js 1.14 keeps its call's HTTP/2 stream in, not public API:
 * BaseServerInterceptingCall.stream, ServerInterceptingCall.nextCall (the call an
 * interceptor wraps) and the handler objects' `call`. tlsSocketOf() follows them; a
 * test (connection-identity.test.ts) fails when a grpc-js upgrade moves them. Until then
 * every call would take the slower getAuthContext() path: still correct, with Node's
 * HTTP/2 layer the one guard against renegotiation.
 */
interface CallInternals {
  readonly stream?: { readonly session?: { readonly socket?: unknown } };
  readonly nextCall?: unknown;
  readonly call?: unknown;
}

/** How many wrappers tlsSocketOf looks through: one per interceptor and the handler's object. */
const MAX_CALL_WRAPPERS = 8;

/** The TLS socket a call arrived on, or undefined for plaintext or when it cannot be found. */
export function tlsSocketOf(call: object): TLSSocket | undefined {
  let current: unknown = call;
  for (let depth = 0; depth < MAX_CALL_WRAPPERS && typeof current === 'object' && current !== null; depth++) {
    const internals = current as CallInternals;
    const socket = internals.stream?.session?.socket;
    if (socket !== undefined) return socket instanceof TLSSocket ? socket : undefined;
    current = internals.nextCall ?? internals.call;
  }
  return undefined;
}

/** Each connection's identity once known; null = the connection has none. */
const identities = new WeakMap<TLSSocket, CertificateIdentity | null>();

/** The identity of a verified peer certificate on `socket`, or undefined. */
function identityOfSocket(socket: TLSSocket): CertificateIdentity | undefined {
  if (!socket.authorized || socket.authorizationError) return undefined;
  const certificate = socket.getPeerCertificate();
  // Without a certificate Node returns an empty object; grpc-js tests `raw` the same way.
  if (certificate.raw === undefined) return undefined;
  return identityOfCertificate(certificate);
}

/** The verified certificate identity of the call's connection, if any. */
export function connectionIdentityOf(call: CallWithAuthContext): CertificateIdentity | undefined {
  const socket = tlsSocketOf(call);
  if (socket === undefined) {
    const certificate = call.getAuthContext().sslPeerCertificate;
    return certificate === undefined ? undefined : identityOfCertificate(certificate);
  }
  const known = identities.get(socket);
  if (known !== undefined) return known ?? undefined;
  socket.disableRenegotiation();
  const identity = identityOfSocket(socket);
  identities.set(socket, identity ?? null);
  return identity;
}
