// The Replica.Exchange stream (docs/decisions/0062-replica-exchange-stream.md) between a
// GrpcTransport and a real gRPC replica on 127.0.0.1: replies are matched by id whatever
// order they come in, a broken stream fails its requests at once and the next request
// opens a new one, a peer without Exchange is unreachable (no unary fallback), both ends bound the
// requests in flight, and a draining replica answers what runs and then ends its streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { addReplicaService, ExchangeStreams, replicaServiceHandlers } from '../../src/transport/grpc/replica-service.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ReplicaHandler } from '../../src/replica/peer-transport.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { QkvError } from '../../src/errors/errors.js';
import { RecordingLogger } from '../support/recording-logger.js';

function record(key: string, stamp = 1n): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(`value of ${key}`), version: { stamp, nodeId: 'node-a' }, expiresAtMs: 0 };
}

const soon = (): { deadlineMs: number } => ({ deadlineMs: Date.now() + 5_000 });

/** A replica that keeps what it is sent and can hold back the applies of chosen keys. */
class HeldReplica implements ReplicaHandler {
  readonly stored = new Map<string, KvRecord>();
  readonly applyCalls: string[][] = [];
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();

  hold(key: string): () => void {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(key, { promise, open });
    return open;
  }

  async apply(records: readonly KvRecord[]): Promise<void> {
    this.applyCalls.push(records.map((one) => one.key.toString()));
    for (const one of records) await this.gates.get(one.key.toString())?.promise;
    for (const one of records) this.stored.set(one.key.toString(), one);
  }

  async read(keys: readonly Buffer[]): Promise<Array<KvRecord | undefined>> {
    return keys.map((key) => this.stored.get(key.toString()));
  }
}

interface Replica {
  readonly server: grpc.Server;
  readonly port: number;
  readonly streams: ExchangeStreams;
}

async function bind(server: grpc.Server, port = 0): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
}

async function startReplica(handler: ReplicaHandler, port = 0, options: { streamRequestsMax?: number; logger?: RecordingLogger } = {}): Promise<Replica> {
  const server = new grpc.Server(SERVER_OPTIONS);
  const streams = addReplicaService(server, { handler, logger: options.logger ?? silentLogger, ...options });
  return { server, port: await bind(server, port), streams };
}

function transportTo(port: number, options: ConstructorParameters<typeof GrpcTransport>[0] = {}): GrpcTransport {
  return new GrpcTransport({ ...options, members: [{ id: 'peer', address: `127.0.0.1:${port}`, ready: true }] });
}

test('replies are matched by id: a fast apply is not held up by a slow one sent before it', async () => {
  const replica = new HeldReplica();
  const { server, port } = await startReplica(replica);
  const transport = transportTo(port);
  try {
    const open = replica.hold('slow');
    const slow = transport.apply('peer', [record('slow')], soon());
    await new Promise((resolve) => setTimeout(resolve, 50)); // a later turn: its own request
    await transport.apply('peer', [record('fast')], soon());
    assert.equal(replica.stored.has('slow'), false, 'the fast apply answered while the slow one still ran');
    open();
    await slow;
    assert.deepEqual(replica.applyCalls, [['slow'], ['fast']]);
    const [answer] = await transport.read('peer', [Buffer.from('slow')], soon());
    assert.equal(answer?.value?.toString(), 'value of slow');
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});

test('a broken stream fails its requests at once, and the next request opens a new one', async () => {
  const replica = new HeldReplica();
  const first = await startReplica(replica);
  const transport = transportTo(first.port);
  try {
    await transport.apply('peer', [record('before')], soon());
    replica.hold('stuck');
    const started = Date.now();
    const stuck = transport.apply('peer', [record('stuck')], { deadlineMs: started + 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    first.server.forceShutdown();
    await assert.rejects(stuck, (error: QkvError) => error.code === 'PEER_UNREACHABLE');
    assert.ok(Date.now() - started < 5_000, 'the request failed with the stream, not at its deadline');

    // The same peer comes back on the same port: the next request reaches it.
    const second = await startReplica(replica, first.port);
    try {
      let reached = false;
      for (let attempt = 0; attempt < 50 && !reached; attempt++) {
        try {
          await transport.apply('peer', [record('after')], soon());
          reached = true;
        } catch (error) {
          assert.equal((error as QkvError).code, 'PEER_UNREACHABLE');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.ok(reached, 'the restarted peer was reached again');
      assert.equal(replica.stored.get('after')?.value?.toString(), 'value of after');
    } finally {
      second.server.forceShutdown();
    }
  } finally {
    await transport.close();
  }
});

test('a peer without Exchange is unreachable: nothing falls back to unary Apply and Read calls', async () => {
  const replica = new HeldReplica();
  const { grpcObject } = loadQuorumKvProtocol();
  const { Exchange: _definition, ...unaryDefinition } = grpcObject.quorumkv.v1.Replica.service;
  const { Exchange: _handler, ...unaryHandlers } = replicaServiceHandlers({ handler: replica, logger: silentLogger });
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(unaryDefinition, unaryHandlers);
  const port = await bind(server);
  const transport = transportTo(port);
  try {
    // The server still serves the unary calls; a node of this version never sends them.
    const unreachable = (error: unknown): boolean => (error as { code?: string }).code === 'PEER_UNREACHABLE';
    await assert.rejects(transport.apply('peer', [record('a')], soon()), unreachable);
    await assert.rejects(transport.apply('peer', [record('b')], soon()), unreachable);
    await assert.rejects(transport.read('peer', [Buffer.from('a')], soon()), unreachable);
    assert.equal(replica.stored.size, 0);
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});

test('both ends bound the requests in flight on a stream: OVERLOADED from the replica, PEER_UNREACHABLE on the sender', async () => {
  const replica = new HeldReplica();
  const { server, port } = await startReplica(replica, 0, { streamRequestsMax: 1 });
  const roomy = transportTo(port);
  const tight = transportTo(port, { streamRequestsMax: 1 });
  // Each send in a turn of its own, so that each is a request of its own on the stream.
  // (An async function would wait for a promise it returns, hence the wrapper.)
  const turn = async (transport: GrpcTransport, key: string): Promise<{ sent: Promise<void> }> => {
    const sent = transport.apply('peer', [record(key)], soon());
    sent.catch(() => {}); // observed below; not an unhandled rejection meanwhile
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { sent };
  };
  try {
    const open = replica.hold('held');
    // The replica runs one request per stream: a second one is refused there ...
    const held = await turn(roomy, 'held');
    const second = await turn(roomy, 'second');
    await assert.rejects(second.sent, (error: QkvError) => error.code === 'OVERLOADED' && /running on one Exchange stream/.test(error.message));
    // ... and a sender that lets one request wait refuses the next before it leaves: a
    // peer that leaves its limit of batches unanswered counts as not answering.
    const alsoHeld = await turn(tight, 'held');
    const refused = await turn(tight, 'refused');
    await assert.rejects(
      refused.sent,
      (error: QkvError) => error.code === 'PEER_UNREACHABLE' && error.cause instanceof Error && /1 requests already wait for its replies/.test(error.cause.message),
    );
    open();
    await Promise.all([held.sent, alsoHeld.sent]);
    assert.equal(replica.stored.has('second'), false);
    assert.equal(replica.stored.has('refused'), false);
  } finally {
    await roomy.close();
    await tight.close();
    server.forceShutdown();
  }
});

test('a draining replica answers running requests, refuses new ones and ends its streams', async () => {
  const replica = new HeldReplica();
  const { server, port, streams } = await startReplica(replica);
  const transport = transportTo(port);
  try {
    await transport.apply('peer', [record('warm')], soon());
    const open = replica.hold('running');
    const running = transport.apply('peer', [record('running')], soon());
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(streams.size, 1);

    streams.drain();
    await assert.rejects(transport.apply('peer', [record('late')], soon()), (error: QkvError) => error.code === 'SHUTTING_DOWN');
    const shutdown = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    open();
    await running; // answered although the node drains
    await shutdown; // the stream ended, so grpc's graceful shutdown finished
    assert.equal(streams.size, 0);
    assert.equal(replica.stored.has('late'), false);
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});

test('a bug in the replica reaches the peer as INTERNAL with a fixed message and is logged there', async () => {
  const logger = new RecordingLogger();
  const handler: ReplicaHandler = {
    apply: async () => {
      throw new TypeError('secret detail');
    },
    read: async (keys) => keys.map(() => undefined),
  };
  const { server, port } = await startReplica(handler, 0, { logger });
  const transport = transportTo(port);
  try {
    await assert.rejects(
      transport.apply('peer', [record('a')], soon()),
      (error: QkvError) => error.code === 'INTERNAL' && !error.message.includes('secret'),
    );
    assert.ok(logger.find(/replica call failed/), 'the replica logged the bug');
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});

test('every request on a stream is a sign of life of its sender, as a unary call is', async () => {
  const replica = new HeldReplica();
  const seen: string[] = [];
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, { handler: replica, logger: silentLogger, onPeerSeen: (peer) => seen.push(peer) });
  const port = await bind(server);
  const transport = transportTo(port, { localNodeId: 'node-a' });
  try {
    for (let i = 0; i < 3; i++) await transport.apply('peer', [record(`k${i}`)], soon());
    await transport.read('peer', [Buffer.from('k0')], soon());
    // One apply stream and one read stream carried four requests: four signs of life.
    assert.deepEqual(seen, ['node-a', 'node-a', 'node-a', 'node-a']);
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});

test('a peer that stops reading its replies gets OVERLOADED instead of the replica buffering every answer', async () => {
  const replica = new HeldReplica();
  const big = { key: Buffer.from('big'), value: Buffer.alloc(512 * 1024, 7), version: { stamp: 1n, nodeId: 'node-a' }, expiresAtMs: 0 };
  await replica.apply([big]);
  const requestsMax = 2;
  const { server, port } = await startReplica(replica, 0, { streamRequestsMax: requestsMax });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const exchange = loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service['Exchange']!;
  const call = client.makeBidiStreamRequest(exchange.path, exchange.requestSerialize, exchange.responseDeserialize);
  call.on('error', () => {}); // the cancel at the end
  try {
    // Forty reads of a 512 KiB value while nothing reads the replies: once the client's
    // buffer and HTTP/2 window are full, the replica's writes wait, and after
    // `requestsMax` waiting replies every further request is refused.
    call.pause();
    const asked = 40;
    for (let id = 1; id <= asked; id++) call.write({ id, read: { keys: [Buffer.from('big')] } });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const replies: Array<{ body: string; error?: { code: string } | null }> = [];
    call.on('data', (reply: { body: string; error?: { code: string } | null }) => replies.push(reply));
    call.resume();
    // Read until nothing more comes: requests past the refusals the replica queued get no
    // answer at all (their sender gives up at its deadline).
    for (let seen = -1; seen !== replies.length; ) {
      seen = replies.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const refused = replies.filter((reply) => reply.body === 'error' && reply.error?.code === 'OVERLOADED').length;
    const answered = replies.filter((reply) => reply.body === 'read').length;
    assert.equal(refused + answered, replies.length, 'only answers and OVERLOADED refusals');
    assert.ok(refused > 0, `some requests were refused while the replies waited (answered ${answered})`);
    assert.ok(answered >= requestsMax && answered < asked, `the first requests were answered, not all (${answered} of ${asked})`);
    assert.ok(refused <= requestsMax, `at most ${requestsMax} refusals queued (${refused})`);
  } finally {
    call.cancel();
    client.close();
    server.forceShutdown();
  }
});
