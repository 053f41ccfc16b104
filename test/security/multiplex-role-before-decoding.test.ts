// KV.Multiplex checks the caller's role for each request before anything reads the
// request's body (docs/decisions/0190-multiplex-bodies-decoded-after-the-role-check.md).
// A real gRPC server with mutual TLS, the client port's real guard and per-request
// authorizer, and the node's real KV codecs; only the work behind each request is the
// test's (it records what reaches it), and each body decoder is the node's own, counted.
// A reader's 16 MiB BatchPut on the stream must be refused PERMISSION_DENIED with its
// body never decoded; a writer's same-kind request is decoded and served.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { addCheckedService } from '../../src/protocol/checked-service.js';
import { kvServiceWithFastCodecs } from '../../src/protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { kvStreamBodyDecoders, serveKvStream, type KvStreamBodyDecoders, type KvStreamWork } from '../../src/api/kv-stream.js';
import { apiRequestCounter } from '../../src/metrics/api-prometheus.js';
import type { KvStreamEnvelope } from '../../src/protocol/kv-stream-envelope.js';
import type { KvStreamReply, KvStreamReply__Output } from '../../src/protocol/generated/quorumkv/v1/KvStreamReply.js';
import { clientPortGuard, clientRequestAuthorizer } from '../../src/security/call-guards.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';
import { clientChannelCredentials, clientPortCredentials } from '../../src/security/tls-credentials.js';
import { silentLogger } from '../../src/logging/logger.js';
import { GRPC_MESSAGE_BYTES_MAX, PUT_REQUEST_BYTES_MAX } from '../../src/limits.js';
import { RawGrpcClient, decodeResponse, encodeRequest } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';

const MULTIPLEX = '/quorumkv.v1.KV/Multiplex';
const users = new UserRoles([
  { name: 'reader', roles: ['read'] },
  { name: 'writer', roles: ['write'] },
  { name: 'nobody', roles: [] },
]);

let server: grpc.Server;
let certificates: WatchedCertificates;
let address: string;
let certsDir: string;
/** Bodies each decoder was given, by kind. */
const decoded = new Map<string, number>();
/** Requests that reached the work behind the stream, by method. */
const served: string[] = [];

before(async () => {
  const certs = await ensureLocalCertificates({ dir: await tempDir(undefined, 'qkv-multiplex-roles-'), nodeIds: ['n1'], users: ['reader', 'writer', 'nobody'] });
  certsDir = certs.dir;
  certificates = await WatchedCertificates.open({ dir: certs.nodeDirs.get('n1')!, expected: { kind: 'node', name: 'n1' } });
  const definition = kvServiceWithFastCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service);
  const real = kvStreamBodyDecoders(definition);
  const counted = Object.fromEntries(
    Object.entries(real).map(([kind, decode]) => [
      kind,
      (bytes: Buffer) => {
        decoded.set(kind, (decoded.get(kind) ?? 0) + 1);
        return decode(bytes);
      },
    ]),
  ) as unknown as KvStreamBodyDecoders;
  const version = { stamp: '1', nodeId: 'n1' };
  const work: KvStreamWork = {
    put: async () => (served.push('Put'), { version, acks: 1 }),
    get: async () => (served.push('Get'), { found: false, value: Buffer.alloc(0), acks: 1 }),
    delete: async () => (served.push('Delete'), { version, acks: 1 }),
    batchPut: async (request) => (served.push('BatchPut'), { results: request.items.map(() => ({ ok: true, version, acks: 1 })) }),
    batchGet: async () => (served.push('BatchGet'), { results: [] }),
  };
  const context = { logger: silentLogger, requests: apiRequestCounter(new Registry()) };
  const authorizer = clientRequestAuthorizer(() => users);
  server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: [clientPortGuard(() => users)] });
  addCheckedService(server, { Multiplex: definition['Multiplex']! }, {
    Multiplex: (call: grpc.ServerDuplexStream<KvStreamEnvelope, KvStreamReply>) =>
      serveKvStream(call, { context, requestsMax: 16, authorize: authorizer(call), decoders: counted, work }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', clientPortCredentials(certificates), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
});

after(() => {
  server?.forceShutdown();
  certificates?.close();
});

const request = (message: object): Buffer => encodeRequest('KV', 'Multiplex', message);
const replyOf = (bytes: Buffer): KvStreamReply__Output => decodeResponse<KvStreamReply__Output>('KV', 'Multiplex', bytes);

/** A BatchPut of `items` values that together make a message of about `bytes`. */
function largeBatchPut(id: number, bytes: number, items: number): Buffer {
  const valueBytes = Math.floor((bytes - items * 32) / items);
  return request({ id, timeoutMs: 10_000, batchPut: { items: Array.from({ length: items }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(valueBytes, 0x61) })) } });
}

async function stream(user: string, messages: Buffer[]): Promise<{ status: string; code: string | undefined; replies: Map<number, KvStreamReply__Output> }> {
  const raw = new RawGrpcClient(address, { credentials: clientChannelCredentials(certsDir, user) });
  try {
    const outcome = await raw.stream(MULTIPLEX, messages, 30_000);
    return { status: outcome.status, code: outcome.code, replies: new Map(outcome.replies.map(replyOf).map((reply) => [reply.id, reply])) };
  } finally {
    raw.close();
  }
}

test('a reader\'s 16 MiB BatchPut on the stream is refused PERMISSION_DENIED with its body never decoded; the stream goes on', async () => {
  decoded.clear();
  served.length = 0;
  const batch = largeBatchPut(1, GRPC_MESSAGE_BYTES_MAX - 64 * 1024, 500);
  assert.ok(batch.length > 15 * 1024 * 1024 && batch.length <= GRPC_MESSAGE_BYTES_MAX, `${batch.length} bytes`);
  const outcome = await stream('reader', [batch, request({ id: 2, timeoutMs: 10_000, get: { key: Buffer.from('k') } })]);
  assert.equal(outcome.status, 'OK');
  assert.equal(outcome.replies.get(1)?.error?.code, 'PERMISSION_DENIED', JSON.stringify(outcome.replies.get(1)?.error));
  assert.match(outcome.replies.get(1)?.error?.message ?? '', /reader.*BatchPut.*needs the role write/);
  assert.equal(outcome.replies.get(2)?.body, 'get');
  // The refused body was never handed to a decoder; the Get that followed was.
  assert.equal(decoded.get('batchPut') ?? 0, 0);
  assert.equal(decoded.get('get'), 1);
  assert.deepEqual(served, ['Get']);
});

test('a writer\'s same BatchPut is decoded and served: the counter sees decoding where it happens', async () => {
  decoded.clear();
  served.length = 0;
  const outcome = await stream('writer', [largeBatchPut(1, GRPC_MESSAGE_BYTES_MAX - 64 * 1024, 500)]);
  assert.equal(outcome.status, 'OK');
  assert.equal(outcome.replies.get(1)?.body, 'batchPut', JSON.stringify(outcome.replies.get(1)?.error));
  assert.equal(outcome.replies.get(1)?.batchPut?.results.length, 500);
  assert.equal(decoded.get('batchPut'), 1);
  assert.deepEqual(served, ['BatchPut']);
});

test('a Put past the unary Put limit: a reader gets PERMISSION_DENIED, as the unary call; a writer INVALID_ARGUMENT with the unary message, from the byte check in front of the Put decoder', async () => {
  decoded.clear();
  served.length = 0;
  const oversized = request({ id: 7, timeoutMs: 10_000, put: { key: Buffer.from('k'), value: Buffer.alloc(PUT_REQUEST_BYTES_MAX, 0x61) } });
  const byReader = await stream('reader', [oversized]);
  assert.equal(byReader.replies.get(7)?.error?.code, 'PERMISSION_DENIED');
  const byWriter = await stream('writer', [oversized]);
  assert.equal(byWriter.replies.get(7)?.error?.code, 'INVALID_ARGUMENT');
  // The words of the unary call's refusal (checked-service.ts), its method named.
  assert.match(byWriter.replies.get(7)?.error?.message ?? '', /^\/quorumkv\.v1\.KV\/Put: the request is \d+ bytes; the limit of this method is \d+$/);
  // The byte limit is checked by the Put decoder before it reads anything: it was called
  // for the writer (and refused), never for the reader.
  assert.equal(decoded.get('put'), 1);
  assert.deepEqual(served, []);
});

test('a caller whose certificate holds no role cannot open the stream; one without a certificate neither', async () => {
  const nobody = await stream('nobody', [request({ id: 1, get: { key: Buffer.from('k') } })]);
  assert.equal(nobody.status, 'PERMISSION_DENIED');
  assert.equal(nobody.code, 'PERMISSION_DENIED');
  assert.equal(nobody.replies.size, 0);
  const anonymous = new RawGrpcClient(address, {
    credentials: grpc.credentials.createSsl(certificates.set.ca, null, null, { checkServerIdentity: () => undefined }),
  });
  try {
    const outcome = await anonymous.stream(MULTIPLEX, [request({ id: 1, get: { key: Buffer.from('k') } })]);
    assert.equal(outcome.status, 'UNAUTHENTICATED');
    assert.equal(outcome.code, 'UNAUTHENTICATED');
  } finally {
    anonymous.close();
  }
});
