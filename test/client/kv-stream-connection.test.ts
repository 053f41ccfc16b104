// The project's client spreads its requests to one node over KV_CLIENT_STREAMS_PER_NODE
// KV.Multiplex streams, taken in turn (docs/decisions/0230-client-requests-spread-over-streams.md):
// grpc-js sends one message of a stream per socket write, so requests made in one turn
// leave in one write only when they are on different streams. A stream that is full is
// passed over, and a request is refused only when every stream is full. The node here
// is a real grpc-js server in this process that records which stream each request came
// on and answers only when told to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { noopKvHandlers } from '../../src/bench/noop-kv-server.js';
import { KV_CLIENT_STREAMS_PER_NODE, KV_STREAM_REQUESTS_MAX } from '../../src/limits.js';
import type { KvStreamRequest__Output } from '../../src/protocol/generated/quorumkv/v1/KvStreamRequest.js';
import type { KvStreamReply } from '../../src/protocol/generated/quorumkv/v1/KvStreamReply.js';

const VERSION = { stamp: '1', nodeId: 'test' };

/** Requests seen on each Multiplex stream, in order of the streams' opening; and their replies, held. */
const requestsPerStream: number[] = [];
let heldReplies: (() => void)[] = [];
let server: grpc.Server;
let address: string;

before(async () => {
  const { grpcObject } = loadQuorumKvProtocol();
  server = new grpc.Server();
  server.addService(grpcObject.quorumkv.v1.KV.service, {
    ...noopKvHandlers(1),
    Multiplex: (call: grpc.ServerDuplexStream<KvStreamRequest__Output, KvStreamReply>) => {
      const stream = requestsPerStream.push(0) - 1;
      call.on('data', (request: KvStreamRequest__Output) => {
        requestsPerStream[stream]!++;
        heldReplies.push(() => call.write({ id: request.id, put: { version: VERSION, acks: 1 } }));
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

/** Waits until the server has seen `count` requests in all. */
async function seen(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (requestsPerStream.reduce((sum, n) => sum + n, 0) < count) {
    assert.ok(Date.now() < deadline, `the server saw ${requestsPerStream.join('+')} requests, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function answerAll(): void {
  const replies = heldReplies;
  heldReplies = [];
  for (const reply of replies) reply();
}

test(`requests made in one turn go to the node over ${KV_CLIENT_STREAMS_PER_NODE} streams in turn`, async () => {
  requestsPerStream.length = 0;
  const client = new QuorumKvClient({ addresses: [address], timeoutMs: 10_000 });
  try {
    const count = 2 * KV_CLIENT_STREAMS_PER_NODE;
    const puts = Array.from({ length: count }, (_, i) => client.put(Buffer.from(`k${i}`), Buffer.from('v')));
    await seen(count);
    answerAll();
    await Promise.all(puts);
    assert.deepEqual(requestsPerStream, Array.from({ length: KV_CLIENT_STREAMS_PER_NODE }, () => 2));
  } finally {
    client.close();
  }
});

test('a full stream is passed over: a request is refused OVERLOADED, unsent, only when every stream is full', async () => {
  requestsPerStream.length = 0;
  const client = new QuorumKvClient({ addresses: [address], timeoutMs: 10_000 });
  try {
    const room = KV_CLIENT_STREAMS_PER_NODE * KV_STREAM_REQUESTS_MAX;
    const puts = Array.from({ length: room }, (_, i) => client.put(Buffer.from(`full-${i}`), Buffer.from('v')));
    await seen(room);
    await assert.rejects(client.put(Buffer.from('one-too-many'), Buffer.from('v')), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'OVERLOADED');
      assert.match(error.message, /one Multiplex stream/);
      return true;
    });
    answerAll();
    await Promise.all(puts);
    assert.equal(requestsPerStream.reduce((sum, n) => sum + n, 0), room, 'the refused request was never sent');
  } finally {
    client.close();
  }
});
