// Every KV.Multiplex request that is served is counted in `qkv_api_requests_total` under
// the unary method it stands for, with the gRPC status name its unary call would have
// ended with; what is refused before it is served (no body, the caller's role,
// OVERLOADED) or fails with a bug (INTERNAL) is counted under Multiplex
// (src/api/kv-stream.ts). The stream handler finds each kind's OK
// counter once per stream and serves a request with one promise; this test holds the
// counts, the replies, and the stream's end once every reply has left. The call is a stand-in for grpc-js's (an EventEmitter with write and end)
// whose write callbacks the test runs when it wants; the decoders, the role check and the
// reply shapes are the node's own.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { kvStreamBodyDecoders, serveKvStream, type KvStreamWork } from '../../src/api/kv-stream.js';
import type { ApiRequestCounter } from '../../src/api/unary-handler.js';
import { QuorumNotMetError } from '../../src/errors/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import { kvServiceWithFastCodecs, kvStreamClientCodecs } from '../../src/protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import type { KvStreamEnvelope } from '../../src/protocol/kv-stream-envelope.js';
import type { KvStreamReply } from '../../src/protocol/generated/quorumkv/v1/KvStreamReply.js';
import type { KvStreamRequest } from '../../src/protocol/generated/quorumkv/v1/KvStreamRequest.js';
import { clientRequestAuthorizer } from '../../src/security/call-guards.js';
import type { CallWithAuthContext } from '../../src/security/connection-identity.js';
import { UserRoles } from '../../src/security/user-roles.js';

const service = loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service;
const definition = kvServiceWithFastCodecs(service);
const serverCodec = definition['Multiplex']!;
const clientCodec = kvStreamClientCodecs(service);
const users = new UserRoles([
  { name: 'reader', roles: ['read'] },
  { name: 'writer', roles: ['write'] },
]);

/** Counts by `method code`, as qkv_api_requests_total would hold them. */
class RecordingRequests implements ApiRequestCounter {
  readonly counts = new Map<string, number>();

  child(method: string, code: string): { inc(): void } {
    const key = `${method} ${code}`;
    return { inc: () => this.counts.set(key, (this.counts.get(key) ?? 0) + 1) };
  }
}

interface Stream {
  /** Sends one request as the client encodes it and the node decodes it. */
  send(request: KvStreamRequest): void;
  readonly replies: KvStreamReply[];
  /** Runs the write callbacks of the replies written so far (HTTP/2 took them). */
  flush(): void;
  readonly call: EventEmitter & { ended: boolean };
}

function openStream(user: string, work: KvStreamWork, requests: RecordingRequests, requestsMax = 16): Stream {
  const replies: KvStreamReply[] = [];
  const callbacks: Array<() => void> = [];
  const call = Object.assign(new EventEmitter(), {
    ended: false,
    cancelled: false,
    destroyed: false,
    getAuthContext: () => ({ sslPeerCertificate: { subjectaltname: `URI:quorumkv://user/${user}` } }),
    write(reply: KvStreamReply, written: () => void): boolean {
      serverCodec.responseSerialize(reply);
      replies.push(reply);
      callbacks.push(written);
      return true;
    },
    end(): void {
      call.ended = true;
    },
  });
  serveKvStream(call as unknown as grpc.ServerDuplexStream<KvStreamEnvelope, KvStreamReply>, {
    context: { logger: silentLogger, requests },
    requestsMax,
    authorize: clientRequestAuthorizer(() => users)(call as unknown as CallWithAuthContext),
    decoders: kvStreamBodyDecoders(definition),
    work,
  });
  return {
    send: (request) => call.emit('data', serverCodec.requestDeserialize(clientCodec.serialize(request))),
    replies,
    flush: () => {
      for (const written of callbacks.splice(0)) written();
    },
    call,
  };
}

const version = { stamp: '7', nodeId: 'n1' };
const key = Buffer.from('k');
const value = Buffer.from('v');

function work(overrides: Partial<KvStreamWork> = {}): KvStreamWork {
  return {
    put: async () => ({ version, acks: 1 }),
    get: async () => ({ found: true, value, version, acks: 1 }),
    delete: async () => ({ version, acks: 1 }),
    batchPut: async (request) => ({ results: request.items.map(() => ({ ok: true, version, acks: 1 })) }),
    batchGet: async () => ({ results: [] }),
    ...overrides,
  };
}

/** Lets the requests' promises settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('each served request is counted under its own method and outcome; refusals before serving and bugs under Multiplex', async () => {
  const requests = new RecordingRequests();
  const writer = openStream(
    'writer',
    work({
      get: async (request) => {
        if (request.key.toString() === 'lost') throw new QuorumNotMetError(0, 1, 1, 'n1: STORE_CLOSED');
        if (request.key.toString() === 'bug') throw new Error('a bug');
        return { found: true, value, version, acks: 1 };
      },
    }),
    requests,
  );
  writer.send({ id: 1, timeoutMs: 1000, put: { key, value } });
  writer.send({ id: 2, timeoutMs: 1000, put: { key, value } });
  writer.send({ id: 3, timeoutMs: 1000, get: { key } });
  writer.send({ id: 4, timeoutMs: 1000, delete: { key } });
  writer.send({ id: 5, timeoutMs: 1000, batchPut: { items: [{ key, value }] } });
  writer.send({ id: 6, timeoutMs: 1000, get: { key: Buffer.from('lost') } });
  writer.send({ id: 7, timeoutMs: 1000, get: { key: Buffer.from('bug') } });
  writer.send({ id: 8, timeoutMs: 1000 });
  const reader = openStream('reader', work(), requests);
  reader.send({ id: 10, timeoutMs: 1000, put: { key, value } });
  reader.send({ id: 11, timeoutMs: 1000, get: { key } });
  await settle();

  const byId = new Map([...writer.replies, ...reader.replies].map((reply) => [reply.id, reply]));
  assert.equal(byId.size, 10, 'every request answered once');
  assert.equal(byId.get(1)?.put?.acks, 1);
  assert.equal(byId.get(3)?.get?.value?.toString(), 'v');
  assert.equal(byId.get(4)?.delete?.acks, 1);
  assert.equal(byId.get(5)?.batchPut?.results?.length, 1);
  assert.equal(byId.get(6)?.error?.code, 'QUORUM_NOT_MET');
  assert.equal(byId.get(7)?.error?.code, 'INTERNAL');
  assert.equal(byId.get(8)?.error?.code, 'INVALID_ARGUMENT');
  assert.equal(byId.get(10)?.error?.code, 'PERMISSION_DENIED');
  assert.equal(byId.get(11)?.get?.found, true);
  assert.deepEqual(Object.fromEntries([...requests.counts].sort()), {
    'BatchPut OK': 1,
    'Delete OK': 1,
    'Get OK': 2,
    'Get UNAVAILABLE': 1,
    // Refused before the request is served (no body, the caller's role), or a bug the
    // handler does not name: counted as the stream's, as they always were.
    'Multiplex INTERNAL': 1,
    'Multiplex INVALID_ARGUMENT': 1,
    'Multiplex PERMISSION_DENIED': 1,
    'Put OK': 2,
  });
});

test('past requestsMax running requests the rest are refused OVERLOADED and counted under Multiplex; the stream ends once every reply has left', async () => {
  const requests = new RecordingRequests();
  const release: Array<() => void> = [];
  const stream = openStream(
    'writer',
    work({ put: () => new Promise((resolve) => release.push(() => resolve({ version, acks: 1 }))) }),
    requests,
    2,
  );
  for (let id = 1; id <= 3; id++) stream.send({ id, timeoutMs: 1000, put: { key, value } });
  await settle();
  assert.deepEqual(stream.replies.map((reply) => `${reply.id} ${reply.error?.code ?? 'ok'}`), ['3 OVERLOADED']);
  assert.equal(requests.counts.get('Multiplex RESOURCE_EXHAUSTED'), 1);
  stream.call.emit('end');
  for (const resolve of release) resolve();
  await settle();
  assert.equal(requests.counts.get('Put OK'), 2);
  assert.equal(stream.call.ended, false, 'the replies are written but not yet sent: the requests still run');
  stream.flush();
  await settle();
  assert.equal(stream.call.ended, true, 'every reply has left: the half-closed stream ends');
});
