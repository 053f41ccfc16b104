// The Replica service's batch encoding (docs/decisions/0061-replica-batch-encoding.md)
// seen from the wire with a raw gRPC client: a node reads Apply's `batch`, skips the
// retired `records` field like any unknown field, answers Read with found flags plus a
// batch, and refuses a
// damaged or oversized batch with INVALID_ARGUMENT before anything reaches storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { addReplicaService } from '../../src/transport/grpc/replica-service.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { decodeBatch, encodeBatch } from '../../src/storage/record-codec.js';
import { silentLogger } from '../../src/logging/logger.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { KEY_BYTES_MAX_CEILING } from '../../src/limits.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { ReplicaClient } from '../../src/protocol/generated/quorumkv/v1/Replica.js';
import type { ReadResponse__Output } from '../../src/protocol/generated/quorumkv/v1/ReadResponse.js';

const tokenOf = (key: Buffer): bigint => createHash('sha256').update(key).digest().readBigUInt64BE(0);

function record(key: string, value: string | null, stamp: bigint): KvRecord {
  return { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), version: { stamp, nodeId: 'node-a' }, expiresAtMs: 0 };
}

async function withReplica(run: (client: ReplicaClient, engine: MemoryStorageEngine) => Promise<void>, wallClock: () => number = Date.now): Promise<void> {
  const engine = new MemoryStorageEngine(tokenOf);
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, { handler: new LocalReplica(engine, new HybridLogicalClock(wallClock)), logger: silentLogger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const { grpcObject } = loadQuorumKvProtocol();
  const client = new grpcObject.quorumkv.v1.Replica(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    await run(client, engine);
  } finally {
    client.close();
    server.forceShutdown();
    await engine.close();
  }
}

function apply(client: ReplicaClient, request: Parameters<ReplicaClient['Apply']>[0]): Promise<number> {
  return new Promise((resolve, reject) => client.Apply(request, (error, response) => (error ? reject(error) : resolve(response!.records))));
}

function read(client: ReplicaClient, keys: string[]): Promise<ReadResponse__Output> {
  return new Promise((resolve, reject) => client.Read({ keys: keys.map((key) => Buffer.from(key)) }, (error, response) => (error ? reject(error) : resolve(response!))));
}

// A stamp above 2^63 must travel exactly. Its wall time is 2^47 ms (the year 6429), so
// the replica's clock runs in that year: a replica refuses stamps far ahead of its clock
// (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md).
const BIG_STAMP = (1n << 63n) + 99n;
const BIG_STAMP_WALL_MS = 2 ** 47;

test('Apply takes a batch; Read answers flags and a batch', async () => {
  await withReplica(async (client, engine) => {
    const bigStamp = BIG_STAMP;
    assert.equal(await apply(client, { batch: encodeBatch([record('a', 'one', bigStamp), record('b', null, 5n)]) }), 2);
    assert.equal(engine.get(Buffer.from('a'))?.version.stamp, bigStamp);

    const response = await read(client, ['a', 'missing', 'b']);
    assert.deepEqual(response.found, [true, false, true]);
    const records = decodeBatch(response.batch);
    assert.deepEqual(records, [record('a', 'one', bigStamp), record('b', null, 5n)]);
  }, () => BIG_STAMP_WALL_MS);
});

test('the retired `records` field of Apply (field 1, one message per record) is skipped like any unknown field', async () => {
  await withReplica(async (client, engine) => {
    // ApplyRequest { records: [Record { key: "c" }] } as a sender from before `batch` wrote it.
    const retired = Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x63]);
    const answer = await new Promise<number>((resolve, reject) =>
      client.makeUnaryRequest('/quorumkv.v1.Replica/Apply', (bytes: Buffer) => bytes, (bytes: Buffer) => loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service.Apply.responseDeserialize(bytes), retired, (error, response) =>
        error ? reject(error) : resolve(response!.records),
      ),
    );
    assert.equal(answer, 0);
    assert.equal(engine.get(Buffer.from('c')), undefined);
  });
});

test('a damaged or oversized batch is INVALID_ARGUMENT and nothing is stored', async () => {
  await withReplica(async (client, engine) => {
    const good = encodeBatch([record('x', 'value', 1n), record('y', 'value', 2n)]);
    const damaged = [
      good.subarray(0, good.length - 3), // truncated value
      Buffer.concat([good, Buffer.from([0])]), // trailing byte
      encodeBatch([{ ...record('z', 'v', 1n), version: { stamp: 1n, nodeId: '' } }]), // no node id
      encodeBatch([record('k'.repeat(KEY_BYTES_MAX_CEILING + 1), 'v', 1n)]), // key above the ceiling
    ];
    for (const batch of damaged) {
      await assert.rejects(apply(client, { batch }), (error: grpc.ServiceError) => error.code === grpc.status.INVALID_ARGUMENT);
    }
    assert.equal(engine.get(Buffer.from('x')), undefined);
    assert.equal(engine.get(Buffer.from('z')), undefined);
  });
});
