// The local replica over a storage engine feeds the hybrid logical clock both ways: a
// stored or served stamp moves the clock, so this node's next stamp sorts after it.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HybridLogicalClock, stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { MemoryCluster, testTokenOf } from '../support/memory-cluster.js';

// 50 s ahead of the 1 000 ms wall clocks below: within HLC_FORWARD_DRIFT_MS_MAX.
const future = stampOf(51_000n, 5n);

it('apply stores the records and observes their stamps', async () => {
  const engine = new MemoryStorageEngine(testTokenOf);
  const clock = new HybridLogicalClock(() => 1_000);
  const replica = new LocalReplica(engine, clock);
  await replica.apply([{ key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: future, nodeId: 'x' }, expiresAtMs: 0 }]);
  assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('v'));
  assert.ok(clock.now() > future);
});

it('read answers in key order, tombstones included, and observes the stamps it serves', async () => {
  const engine = new MemoryStorageEngine(testTokenOf);
  await engine.apply([{ key: Buffer.from('gone'), value: null, version: { stamp: future, nodeId: 'x' }, expiresAtMs: 0 }]);
  const clock = new HybridLogicalClock(() => 1_000);
  const replica = new LocalReplica(engine, clock);
  const [missing, gone] = await replica.read([Buffer.from('missing'), Buffer.from('gone')]);
  assert.equal(missing, undefined);
  assert.equal(gone?.value, null);
  assert.ok(clock.now() > future);
});

it('a coordinator that read a newer stamp stamps its next write after it', async () => {
  // Read repair is off so node-0's own replica never stores the stamp: only the read reply moves the clock.
  const cluster = new MemoryCluster({ nodes: 3, wallClocks: { 'node-0': () => 1_000 }, coordinator: { readRepair: false } });
  await cluster.node('node-1').engine.apply([{ key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: future, nodeId: 'x' }, expiresAtMs: 0 }]);
  await cluster.node('node-0').coordinator.get(Buffer.from('k'), { r: 3 });
  const written = await cluster.node('node-0').coordinator.put(Buffer.from('other'), Buffer.from('v'));
  assert.ok(written.version.stamp > future);
  await cluster.close();
});
