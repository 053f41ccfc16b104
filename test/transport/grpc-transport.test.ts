// GrpcTransport against a real gRPC server on 127.0.0.1: records round-trip with their
// versions intact, messages from one turn travel in one call, queues are bounded,
// deadlines hold, and a peer's error code survives the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { addReplicaService, replicaServiceHandlers } from '../../src/transport/grpc/replica-service.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { StoreClosedError, type QkvError } from '../../src/errors/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ReplicaHandler } from '../../src/replica/peer-transport.js';
import type { KvRecord } from '../../src/storage/record.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { REPLICA_ANSWER_BYTES_MAX } from '../../src/limits.js';

const tokenOf = (key: Buffer): bigint => createHash('sha256').update(key).digest().readBigUInt64BE(0);

interface CountingHandler extends ReplicaHandler {
  applyCalls: number[];
  readCalls: number[];
  /** When set, calls wait for this promise before answering. */
  gate?: Promise<void>;
  failWith?: QkvError;
}

function countingHandler(engine: MemoryStorageEngine): CountingHandler {
  const handler: CountingHandler = {
    applyCalls: [],
    readCalls: [],
    async apply(records) {
      handler.applyCalls.push(records.length);
      if (handler.gate !== undefined) await handler.gate;
      if (handler.failWith !== undefined) throw handler.failWith;
      await engine.apply(records);
    },
    async read(keys) {
      handler.readCalls.push(keys.length);
      if (handler.gate !== undefined) await handler.gate;
      return keys.map((key) => engine.get(key));
    },
  };
  return handler;
}

async function startReplica(handler: ReplicaHandler): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, { handler, logger: silentLogger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

function record(key: string, value: string | null, stamp: bigint, nodeId = 'node-a'): KvRecord {
  return { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), version: { stamp, nodeId }, expiresAtMs: 0 };
}

const soon = (): { deadlineMs: number } => ({ deadlineMs: Date.now() + 5_000 });

async function withPeer(
  run: (transport: GrpcTransport, handler: CountingHandler, engine: MemoryStorageEngine) => Promise<void>,
  transportOptions: ConstructorParameters<typeof GrpcTransport>[0] = {},
): Promise<void> {
  const engine = new MemoryStorageEngine(tokenOf);
  const handler = countingHandler(engine);
  const { server, address } = await startReplica(handler);
  const transport = new GrpcTransport({ ...transportOptions, members: [{ id: 'peer-1', address, ready: true }] });
  try {
    await run(transport, handler, engine);
  } finally {
    await transport.close();
    server.forceShutdown();
    await engine.close();
  }
}

test('records round-trip with 64-bit stamps, tombstones and expiry intact', async () => {
  await withPeer(async (transport, _handler, engine) => {
    const bigStamp = (1n << 63n) + 12345n; // far beyond 2^53: a Number would round it
    await transport.apply('peer-1', [record('k1', 'v1', bigStamp), record('k2', null, 7n, 'node-b')], soon());
    await transport.apply('peer-1', [{ ...record('k3', 'v3', 9n), expiresAtMs: 1_700_000_000_123 }], soon());
    assert.equal(engine.get(Buffer.from('k1'))?.version.stamp, bigStamp);
    const [k1, k2, k3, missing] = await transport.read('peer-1', ['k1', 'k2', 'k3', 'nope'].map((k) => Buffer.from(k)), soon());
    assert.deepEqual(k1, record('k1', 'v1', bigStamp));
    assert.deepEqual(k2, record('k2', null, 7n, 'node-b'));
    assert.equal(k3?.expiresAtMs, 1_700_000_000_123);
    assert.equal(missing, undefined);
  });
});

test('messages for one peer from the same turn travel in one call and fan back to each caller', async () => {
  await withPeer(async (transport, handler) => {
    const writes = Array.from({ length: 50 }, (_, i) => transport.apply('peer-1', [record(`key-${i}`, `value-${i}`, BigInt(i + 1))], soon()));
    await Promise.all(writes);
    assert.deepEqual(handler.applyCalls, [50]);

    const reads = Array.from({ length: 20 }, (_, i) => transport.read('peer-1', [Buffer.from(`key-${i}`), Buffer.from(`key-${i + 20}`)], soon()));
    const answers = await Promise.all(reads);
    assert.deepEqual(handler.readCalls, [40]);
    answers.forEach((answer, i) => {
      assert.equal(answer[0]?.value?.toString(), `value-${i}`);
      assert.equal(answer[1]?.value?.toString(), `value-${i + 20}`);
    });

    // A later turn is a later call.
    await transport.apply('peer-1', [record('late', 'x', 1n)], soon());
    assert.deepEqual(handler.applyCalls, [50, 1]);
  });
});

test('a Read answer stops at REPLICA_ANSWER_BYTES_MAX and the transport asks again for the rest, across callers', async () => {
  await withPeer(async (transport, handler, engine) => {
    const big = (i: number): Buffer => Buffer.alloc(1024 * 1024, i);
    await engine.apply(Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`big-${i}`), value: big(i), version: { stamp: 1n, nodeId: 'n' }, expiresAtMs: 0 })));
    // Two callers in one turn, one of them naming a key twice and one missing key.
    const [first, second] = await Promise.all([
      transport.read('peer-1', [0, 1, 2, 3, 4].map((i) => Buffer.from(`big-${i}`)), soon()),
      transport.read('peer-1', [...[5, 6, 7, 8, 9, 9].map((i) => Buffer.from(`big-${i}`)), Buffer.from('missing')], soon()),
    ]);
    assert.deepEqual(first!.map((answer) => answer?.value?.[0]), [0, 1, 2, 3, 4]);
    assert.deepEqual(second!.map((answer) => answer?.value?.[0]), [5, 6, 7, 8, 9, 9, undefined]);
    // Three 1 MiB records fit in one 4 MiB answer: 12 keys take four calls.
    assert.ok(REPLICA_ANSWER_BYTES_MAX < 4 * (1024 * 1024 + 64));
    assert.deepEqual(handler.readCalls, [12, 9, 6, 3]);
  });
});

test('a read bounded in bytes gets a prefix once its answers hold the bound; a caller without a bound in the same turn gets every key', async () => {
  await withPeer(async (transport, handler, engine) => {
    const big = (i: number): Buffer => Buffer.alloc(1024 * 1024, i);
    await engine.apply(Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`big-${i}`), value: big(i), version: { stamp: 1n, nodeId: 'n' }, expiresAtMs: 0 })));
    await engine.apply([record('small', 'v', 1n)]);
    const keys = (indices: readonly number[]): Buffer[] => indices.map((i) => Buffer.from(`big-${i}`));
    const [bounded, unbounded] = await Promise.all([
      transport.read('peer-1', keys([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), { ...soon(), answerBytesMax: 2 * 1024 * 1024 }),
      transport.read('peer-1', keys([0, 1, 2, 3, 4]), soon()),
    ]);
    // The first answer holds three 1 MiB records, past the 2 MiB bound: the bounded
    // caller's other seven keys are never asked for, the other caller's are.
    assert.deepEqual(bounded!.map((answer) => answer?.value?.[0]), [0, 1, 2]);
    assert.deepEqual(unbounded!.map((answer) => answer?.value?.[0]), [0, 1, 2, 3, 4]);
    assert.deepEqual(handler.readCalls, [15, 5, 2]);

    // A bound the answers never reach changes nothing; a bound stops only the asking
    // again, so what the first reply carries is kept even past it.
    const small = await transport.read('peer-1', [Buffer.from('small'), Buffer.from('missing'), Buffer.from('small')], { ...soon(), answerBytesMax: 1024 });
    assert.deepEqual(small.map((answer) => answer?.value?.toString()), ['v', undefined, 'v']);
    const one = await transport.read('peer-1', keys([3, 4, 5, 6, 7]), { ...soon(), answerBytesMax: 1 });
    assert.deepEqual(one.map((answer) => answer?.value?.[0]), [3, 4, 5]);
  });
});

test('a turn larger than the batch bounds is split into several calls', async () => {
  await withPeer(
    async (transport, handler) => {
      await Promise.all(Array.from({ length: 25 }, (_, i) => transport.apply('peer-1', [record(`k${i}`, 'v', 1n)], soon())));
      assert.deepEqual(handler.applyCalls, [10, 10, 5]);
    },
    { batchItemsMax: 10 },
  );
});

test('the per-peer queue is bounded: the message past the limit is refused with OVERLOADED', async () => {
  await withPeer(
    async (transport, handler) => {
      const accepted = Array.from({ length: 5 }, (_, i) => transport.apply('peer-1', [record(`k${i}`, 'v', 1n)], soon()));
      await assert.rejects(transport.apply('peer-1', [record('k5', 'v', 1n)], soon()), { code: 'OVERLOADED' });
      await Promise.all(accepted);
      assert.deepEqual(handler.applyCalls, [5]);
    },
    { queueMessagesMax: 5 },
  );
});

test('deadlines hold: each caller is rejected at its own deadline while the peer stalls', async () => {
  await withPeer(async (transport, handler) => {
    let release!: () => void;
    handler.gate = new Promise((resolve) => (release = resolve));
    const started = Date.now();
    const short = transport.apply('peer-1', [record('a', 'v', 1n)], { deadlineMs: started + 150 });
    const long = transport.apply('peer-1', [record('b', 'v', 1n)], { deadlineMs: started + 600 });
    const shortSettled = short.then(
      () => assert.fail('short call must not succeed'),
      (error: QkvError) => ({ code: error.code, afterMs: Date.now() - started }),
    );
    const longSettled = long.then(
      () => assert.fail('long call must not succeed'),
      (error: QkvError) => ({ code: error.code, afterMs: Date.now() - started }),
    );
    const [shortResult, longResult] = await Promise.all([shortSettled, longSettled]);
    release();
    assert.equal(shortResult.code, 'DEADLINE_EXCEEDED');
    assert.equal(longResult.code, 'DEADLINE_EXCEEDED');
    assert.ok(shortResult.afterMs >= 140 && shortResult.afterMs < 500, `short rejected after ${shortResult.afterMs} ms`);
    assert.ok(longResult.afterMs >= 590, `long rejected after ${longResult.afterMs} ms`);
    assert.deepEqual(handler.applyCalls, [2]);
  });
});

test("a peer's error keeps its quorumkv code across the wire", async () => {
  await withPeer(async (transport, handler) => {
    handler.failWith = new StoreClosedError();
    await assert.rejects(transport.apply('peer-1', [record('a', 'v', 1n)], soon()), { code: 'STORE_CLOSED', message: /closed/ });
  });
});

test('a member with no address (a retained member whose address another member took) is PEER_UNREACHABLE', async () => {
  const transport = new GrpcTransport({ members: [{ id: 'retained', address: '', ready: false, retained: true }] });
  try {
    await assert.rejects(transport.read('retained', [Buffer.from('k')], soon()), (error: QkvError) => error.code === 'PEER_UNREACHABLE' && /no address/.test(String((error.cause as Error)?.message)));
  } finally {
    await transport.close();
  }
});

test('a peer nobody listens on is PEER_UNREACHABLE, an unknown peer too', async () => {
  const holder = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    holder.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  holder.forceShutdown(); // the port is now closed
  const transport = new GrpcTransport({ members: [{ id: 'gone', address: `127.0.0.1:${port}`, ready: true }] });
  try {
    await assert.rejects(transport.read('gone', [Buffer.from('k')], soon()), { code: 'PEER_UNREACHABLE' });
    await assert.rejects(transport.read('stranger', [Buffer.from('k')], soon()), { code: 'PEER_UNREACHABLE' });
  } finally {
    await transport.close();
  }
  await assert.rejects(transport.apply('gone', [], soon()), { code: 'SHUTTING_DOWN' });
});

test('a sign of life from a peer ends the reconnect backoff: the next call reaches it at once', async () => {
  const holder = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    holder.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  holder.forceShutdown();
  const transport = new GrpcTransport({ members: [{ id: 'back', address: `127.0.0.1:${port}`, ready: true }] });
  const engine = new MemoryStorageEngine(tokenOf);
  let server: grpc.Server | undefined;
  try {
    // Failed attempts for 1.5 s push the channel's backoff to its 1 s maximum.
    const failingUntil = Date.now() + 1_500;
    while (Date.now() < failingUntil) {
      await assert.rejects(transport.read('back', [], soon()), { code: 'PEER_UNREACHABLE' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await assert.rejects(transport.read('back', [], soon()), { code: 'PEER_UNREACHABLE' });
    server = new grpc.Server(SERVER_OPTIONS);
    addReplicaService(server, { handler: countingHandler(engine), logger: silentLogger });
    await new Promise<void>((resolve, reject) =>
      server!.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
    // The peer listens again, but the channel still waits out its backoff: calls fail fast.
    await assert.rejects(transport.read('back', [], soon()), { code: 'PEER_UNREACHABLE' });
    const started = Date.now();
    transport.peerSeen('back');
    assert.deepEqual(await transport.read('back', [Buffer.from('k')], soon()), [undefined]);
    assert.ok(Date.now() - started < 500, `reached the peer after ${Date.now() - started} ms`);
  } finally {
    await transport.close();
    server?.forceShutdown();
    await engine.close();
  }
});

test('messages to this node go to the local handler without a network hop', async () => {
  const engine = new MemoryStorageEngine(tokenOf);
  const handler = countingHandler(engine);
  const transport = new GrpcTransport({ localNodeId: 'me', localHandler: handler, members: [] });
  try {
    await transport.apply('me', [record('a', 'v', 1n)], soon());
    const [answer] = await transport.read('me', [Buffer.from('a')], soon());
    assert.equal(answer?.value?.toString(), 'v');
  } finally {
    await transport.close();
    await engine.close();
  }
});

test('the replica service refuses malformed records from a peer without touching the engine', async () => {
  await withPeer(async (_transport, handler) => {
    const { grpcObject } = loadQuorumKvProtocol();
    const engine = new MemoryStorageEngine(tokenOf);
    const other = countingHandler(engine);
    const { server, address } = await startReplica(other);
    const client = new grpcObject.quorumkv.v1.Replica(address, grpc.credentials.createInsecure());
    try {
      const version = { stamp: 1n, nodeId: 'n' };
      const bad: Buffer[] = [
        Buffer.from([0, 0, 0, 1, 0, 0, 1]), // one record with an empty key (the encoder refuses to write one)
        encodeBatch([{ key: Buffer.alloc(2000, 1), value: Buffer.from('v'), version, expiresAtMs: 0 }]),
        encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: 1n, nodeId: '' }, expiresAtMs: 0 }]),
      ];
      for (const batch of bad) {
        const error = await new Promise<grpc.ServiceError | null>((resolve) => client.Apply({ batch }, (e) => resolve(e)));
        assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, batch.toString('hex'));
        assert.deepEqual(error?.metadata.get('qkv-error-code'), ['INVALID_ARGUMENT']);
      }
      assert.deepEqual(other.applyCalls, []);
      assert.deepEqual(handler.applyCalls, []);
    } finally {
      client.close();
      server.forceShutdown();
      await engine.close();
    }
  });
});

test('Probe carries ring states both ways and names the sender; a peer without Probe (an older version) counts as NORMAL', async () => {
  const engine = new MemoryStorageEngine(tokenOf);
  const seen: string[] = [];
  const hellos: unknown[] = [];
  const handler: ReplicaHandler = {
    apply: async (records) => void (await engine.apply(records)),
    read: async (keys) => keys.map((key) => engine.get(key)),
    probe: async (hello) => {
      hellos.push(hello);
      return { ringState: { state: 'LEAVING', version: 1_795_000_000_123 } };
    },
  };
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, { handler, logger: silentLogger, onPeerSeen: (peer) => seen.push(peer) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  // An older node: the Replica service without the Probe method.
  const older = new grpc.Server(SERVER_OPTIONS);
  const { Probe: _probe, ...withoutProbe } = replicaServiceHandlers({ handler, logger: silentLogger });
  older.addService(loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service, withoutProbe as unknown as grpc.UntypedServiceImplementation);
  const olderPort = await new Promise<number>((resolve, reject) =>
    older.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const transport = new GrpcTransport({
    localNodeId: 'me',
    members: [
      { id: 'peer-1', address: `127.0.0.1:${port}`, ready: true },
      { id: 'old-1', address: `127.0.0.1:${olderPort}`, ready: true },
    ],
  });
  try {
    const answer = await transport.probe('peer-1', { sender: 'me', ringState: { state: 'JOINING', version: 42 }, heardRingState: undefined }, soon());
    assert.deepEqual(answer, { ringState: { state: 'LEAVING', version: 1_795_000_000_123 } });
    assert.deepEqual(hellos, [{ sender: 'me', ringState: { state: 'JOINING', version: 42 }, heardRingState: undefined }]);
    assert.deepEqual(seen, ['me'], 'the qkv-from metadata names the sender');
    assert.deepEqual(await transport.probe('old-1', { sender: 'me', ringState: undefined, heardRingState: undefined }, soon()), {
      ringState: { state: 'NORMAL', version: 0 },
    });
  } finally {
    await transport.close();
    server.forceShutdown();
    older.forceShutdown();
    await engine.close();
  }
});
