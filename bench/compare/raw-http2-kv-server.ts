// A gRPC server for quorumkv's KV.Put and KV.Get written directly on `node:http2`, with
// no grpc-js underneath: the floor under the grpc-js no-op server (`qkv bench
// noop-server`), to split a unary call's server CPU into grpc-js's JavaScript and what
// Node's HTTP/2 (nghttp2) and TLS cost below it (issue 15; docs/operations/performance.md,
// "Under grpc-js: a unary call on node:http2 alone").
//
// It answers every call as a no-op, like the grpc-js no-op server, but does per call what
// a node's client port does before its handler runs, so that it is not cheaper for doing
// less than a node must:
// - TLS with a node certificate, asking for a client certificate without requiring one
//   in the handshake (as clientPortCredentials does); the caller's identity is worked out
//   once per connection and the method's role checked on every call (the decisions of
//   call-guards.ts: no verified certificate -> UNAUTHENTICATED, a node or a user without
//   the role -> PERMISSION_DENIED);
// - the request's length prefix checked against the method's limit (request-limits.ts)
//   as soon as its five bytes arrive, before the message is buffered, and one message
//   per call;
// - the request decoded by the deserializer a node uses (checked-service.ts over the
//   hand-written codecs of message-codecs.ts: the limit again, the bounds scan, the fast
//   decoder with protobufjs behind it) and the reply encoded by the node's encoder.
// Its certificates are read once at start (a node's are watched and rotated). What it
// leaves out, and a lean path in a node would have to keep, is listed in
// docs/decisions/0261-unary-calls-stay-on-grpc-js.md: deadlines (grpc-timeout), keepalive
// pings, the receive gate, metrics.
//
// The wire, per the gRPC over HTTP/2 protocol: a POST with content-type application/grpc
// carries one length-prefixed message (a 1-byte compressed flag and a 4-byte big-endian
// length); the answer is HEADERS (:status 200), one DATA frame with the length-prefixed
// reply, and trailers with grpc-status 0. A refusal is a trailers-only answer: one
// HEADERS frame with grpc-status, grpc-message and quorumkv's qkv-error-code.
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError, type QkvError } from '../../src/errors/errors.js';
import { GRPC_CONNECTION_STREAMS_MAX } from '../../src/limits.js';
import { checkedDeserializer, MalformedMessage } from '../../src/protocol/checked-service.js';
import { ERROR_CODE_METADATA_KEY, ERROR_STATUS } from '../../src/protocol/error-status.js';
import { kvServiceWithFastCodecs } from '../../src/protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { requestLimits } from '../../src/protocol/request-limits.js';
import { identityOfCertificate, type CertificateIdentity } from '../../src/security/certificate-identity.js';
import { roleNeededFor } from '../../src/security/method-roles.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';

export interface RawHttp2KvServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Size of the value every Get answers with, as the grpc-js no-op server does. */
  readonly valueBytes: number;
  /** A node's TLS directory (node.crt, node.key, ca.crt) and that node's id; absent = plaintext (h2c). */
  readonly tls?: { readonly dir: string; readonly nodeId: string };
}

export interface RawHttp2KvServer {
  readonly port: number;
  close(): Promise<void>;
}

/** What the server's program prints once it accepts calls (raw-http2-kv-main.ts). */
export const RAW_HTTP2_READY_LINE = 'raw-http2 listening on';

/** The gRPC wire's message prefix: a compressed flag byte and a 4-byte big-endian length. */
const MESSAGE_PREFIX_BYTES = 5;
const GRPC_CONTENT_TYPE = 'application/grpc';
const VERSION = { stamp: '1', nodeId: 'noop' };

/** One served method: how its request is read and how its no-op reply is written. */
interface RawMethod {
  readonly path: string;
  readonly requestBytesMax: number;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly reply: () => Buffer;
}

function servedMethods(valueBytes: number): ReadonlyMap<string, RawMethod> {
  const kv = kvServiceWithFastCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service);
  const value = Buffer.alloc(valueBytes, 0x61);
  const method = (name: 'Put' | 'Get', response: () => object): RawMethod => {
    const definition = kv[name]!;
    return {
      path: definition.path,
      requestBytesMax: requestLimits(definition.path).bytesMax,
      deserialize: checkedDeserializer(definition),
      // Encoded on every call, as a handler's reply is.
      reply: () => definition.responseSerialize(response()),
    };
  };
  const methods = [method('Put', () => ({ version: VERSION, acks: 1 })), method('Get', () => ({ found: true, value, version: VERSION, acks: 1 }))];
  return new Map(methods.map((served) => [served.path, served]));
}

/** The length-prefixed form of one message. */
function framed(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, MESSAGE_PREFIX_BYTES);
  return frame;
}

/** grpc-message is percent-encoded (the gRPC HTTP/2 protocol's Percent-Encoded). */
function grpcMessageText(text: string): string {
  return encodeURIComponent(text);
}

/** Ends the call with `status` and nothing else (a trailers-only answer). */
function refuse(stream: http2.ServerHttp2Stream, status: grpc.status, details: string, errorCode?: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': GRPC_CONTENT_TYPE,
      'grpc-status': String(status),
      'grpc-message': grpcMessageText(details),
      ...(errorCode === undefined ? {} : { [ERROR_CODE_METADATA_KEY]: errorCode }),
    },
    { endStream: true },
  );
  // A request still arriving is not read any further: RST_STREAM(NO_ERROR) after the
  // trailers, as the protocol allows a server that has answered.
  if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

function refuseWith(stream: http2.ServerHttp2Stream, error: QkvError): void {
  refuse(stream, ERROR_STATUS[error.code], error.message, error.code);
}

/** Each connection's identity once known; null = the connection has none. */
const identities = new WeakMap<http2.Http2Session, CertificateIdentity | null>();

function identityOfSession(session: http2.Http2Session): CertificateIdentity | undefined {
  const known = identities.get(session);
  if (known !== undefined) return known ?? undefined;
  const socket = session.socket as TLSSocket;
  // Node's HTTP/2 layer refuses TLS renegotiation on every connection it serves (RFC 9113,
  // 9.2.1), so the identity of the first handshake is the connection's for its life.
  let identity: CertificateIdentity | undefined;
  if (socket.authorized === true && !socket.authorizationError) {
    const certificate = socket.getPeerCertificate();
    identity = certificate.raw === undefined ? undefined : identityOfCertificate(certificate);
  }
  identities.set(session, identity ?? null);
  return identity;
}

/** The refusal of `identity` calling `path` (call-guards.ts's decisions), or undefined. */
function callerRefusal(identity: CertificateIdentity | undefined, path: string, users: UserRoles): QkvError | undefined {
  if (identity === undefined) return new UnauthenticatedError('the call carries no client certificate signed by this cluster\'s CA');
  const role = roleNeededFor(path);
  if (identity.kind !== 'user') return new PermissionDeniedError(`node ${identity.name}`, path, role);
  if (!users.allows(identity.name, role)) return new PermissionDeniedError(identity.name, path, role);
  return undefined;
}

/** Reads one call's request message and answers it. */
function serveCall(stream: http2.ServerHttp2Stream, method: RawMethod): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let messageBytes = -1;
  let refused = false;
  const refuseOnce = (error: QkvError): void => {
    refused = true;
    chunks.length = 0;
    refuseWith(stream, error);
  };
  stream.on('data', (chunk: Buffer) => {
    if (refused) return;
    chunks.push(chunk);
    received += chunk.length;
    if (messageBytes < 0 && received >= MESSAGE_PREFIX_BYTES) {
      const prefix = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      if (prefix[0] !== 0) return refuseOnce(new InvalidArgumentError(`${method.path}: compressed messages are not accepted (no grpc-encoding is offered)`));
      messageBytes = prefix.readUInt32BE(1);
      // Before the message is buffered: a client cannot make the server hold more than
      // the method's limit (the node's grpc-js has one server-wide receive limit here).
      if (messageBytes > method.requestBytesMax) {
        return refuseOnce(new InvalidArgumentError(`${method.path}: the request is ${messageBytes} bytes; the limit of this method is ${method.requestBytesMax}`));
      }
    }
    if (messageBytes >= 0 && received > MESSAGE_PREFIX_BYTES + messageBytes) {
      refuseOnce(new InvalidArgumentError(`${method.path}: a unary call carries one request message; more bytes followed it`));
    }
  });
  stream.on('end', () => {
    if (refused) return;
    if (messageBytes < 0 || received < MESSAGE_PREFIX_BYTES + messageBytes) {
      return refuseWith(stream, new InvalidArgumentError(`${method.path}: the call ended before its request message was whole`));
    }
    const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    const request = method.deserialize(whole.subarray(MESSAGE_PREFIX_BYTES));
    if (request instanceof MalformedMessage) return refuseWith(stream, request.error);
    // The no-op: the request is decoded and dropped; the reply is what a node would send.
    stream.respond({ ':status': 200, 'content-type': GRPC_CONTENT_TYPE }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(framed(method.reply()));
  });
  // A reset by the client (a cancelled call) or a broken connection ends the call; nothing to clean up.
  stream.on('error', () => undefined);
}

export async function startRawHttp2KvServer(options: RawHttp2KvServerOptions): Promise<RawHttp2KvServer> {
  const methods = servedMethods(options.valueBytes);
  // The users file of a cluster without one: the built-in admin holds every role.
  const users = new UserRoles([]);
  const certificates = options.tls === undefined ? undefined : await WatchedCertificates.open({ dir: options.tls.dir, expected: { kind: 'node', name: options.tls.nodeId } });
  const settings: http2.Settings = { maxConcurrentStreams: GRPC_CONNECTION_STREAMS_MAX };
  const server =
    certificates === undefined
      ? http2.createServer({ settings })
      : http2.createSecureServer({
          settings,
          key: certificates.set.privateKey,
          cert: certificates.set.certificate,
          ca: certificates.set.ca,
          requestCert: true,
          rejectUnauthorized: false,
        });
  server.on('stream', (stream, headers) => {
    const path = headers[':path'] ?? '';
    const contentType = headers['content-type'] ?? '';
    if (headers[':method'] !== 'POST' || !contentType.startsWith(GRPC_CONTENT_TYPE)) {
      // Not a gRPC call: an HTTP error, as the protocol says for a wrong content-type.
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    if (certificates !== undefined) {
      const refusal = callerRefusal(identityOfSession(stream.session!), path, users);
      if (refusal !== undefined) return refuseWith(stream, refusal);
    }
    const method = methods.get(path);
    if (method === undefined) return refuse(stream, grpc.status.UNIMPLEMENTED, `${path} is not served here (only KV.Put and KV.Get)`);
    serveCall(stream, method);
  });
  // A connection that breaks mid-handshake or mid-call must not take the server down.
  server.on('sessionError', () => undefined);
  server.on('tlsClientError', () => undefined);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    certificates?.close();
    throw error;
  }
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open connections get a GOAWAY; calls under way finish.
      for (const session of sessions) session.close();
      await closed;
      certificates?.close();
    },
  };
}
