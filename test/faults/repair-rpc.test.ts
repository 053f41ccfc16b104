// The anti-entropy RPCs over real gRPC (Replica.MerkleTree and Replica.Scan): a tree
// fetched through GrpcTransport equals the one built locally, a scan pages through a
// range with its cursor and returns every record once, tombstones included, and a
// malformed request is refused with INVALID_ARGUMENT instead of reaching the engine.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FULL_RING } from '../../src/ring/token-range.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { addReplicaService } from '../../src/transport/grpc/replica-service.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { testTokenOf } from '../support/memory-cluster.js';

it('MerkleTree and Scan travel over gRPC intact; bad requests are refused', async () => {
  const engine = new MemoryStorageEngine(testTokenOf);
  const replica = new LocalReplica(engine, new HybridLogicalClock(), { tokenOf: testTokenOf });
  const records: KvRecord[] = Array.from({ length: 250 }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: i % 10 === 0 ? null : Buffer.from(`value-${i}`),
    version: { stamp: BigInt(Date.now() + i) << 16n, nodeId: 'writer' },
    expiresAtMs: 0,
  }));
  await engine.apply(records);
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, { handler: replica, logger: silentLogger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const transport = new GrpcTransport({ members: [{ id: 'peer', address: `127.0.0.1:${port}`, ready: true }] });
  const soon = () => ({ deadlineMs: Date.now() + 5_000 });
  try {
    const half = { start: 0n, end: 1n << 63n };
    for (const range of [FULL_RING, half]) {
      const remote = await transport.merkleTree('peer', range, 6, soon());
      const local = await replica.merkleTree(range, 6);
      assert.ok(remote.root.equals(local.root));
      assert.equal(remote.leaves.length, 64);
      assert.equal(remote.records, local.records);
    }

    const seen: KvRecord[] = [];
    let cursor;
    let pages = 0;
    do {
      const page = await transport.scan('peer', FULL_RING, 37, cursor, soon());
      assert.ok(page.records.length <= 37);
      seen.push(...page.records);
      cursor = page.resumeAfter;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, Math.ceil(250 / 37));
    assert.equal(new Set(seen.map((record) => record.key.toString())).size, 250);
    assert.equal(seen.filter((record) => record.value === null).length, 25, 'tombstones included');
    const original = records.find((record) => record.key.equals(seen[0]!.key))!;
    assert.equal(seen[0]!.version.stamp, original.version.stamp);

    await assert.rejects(transport.scan('peer', FULL_RING, 0, undefined, soon()), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(transport.scan('peer', half, 10, { token: (1n << 63n) + 5n, key: Buffer.from('x') }, soon()), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(transport.merkleTree('peer', FULL_RING, 40, soon()), { code: 'INVALID_ARGUMENT' });
  } finally {
    await transport.close();
    server.forceShutdown();
  }
});
