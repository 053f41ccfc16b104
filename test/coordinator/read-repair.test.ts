// Read repair (docs/decisions/0020-read-repair.md): stale replicas among the replies a
// read waits for are repaired before it answers; replicas that answer later are repaired
// in the background; tombstones are repaired like values; a read that cannot bring R
// replicas up to the version it would return fails instead of answering.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { QuorumNotMetError } from '../../src/errors/errors.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

const key = Buffer.from('k');

/** node-2 misses the second write: it holds v1 while node-0 and node-1 hold v2. */
async function clusterWithStaleReplica(options: { readRepair?: boolean } = {}) {
  const metrics = new RecordingMetrics();
  const cluster = new MemoryCluster({ nodes: 3, coordinator: { readRepair: options.readRepair ?? true }, metrics: () => metrics });
  const coordinator = cluster.node('node-0').coordinator;
  await coordinator.put(key, Buffer.from('v1'), { w: 3 });
  cluster.network.disconnect('node-2');
  const v2 = await coordinator.put(key, Buffer.from('v2'), { w: 2 });
  await cluster.settle();
  cluster.network.reconnect('node-2');
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.value, Buffer.from('v1'), 'precondition: node-2 is stale');
  return { cluster, coordinator, metrics, v2 };
}

it('heals a stale replica among the replies before answering', async () => {
  const { cluster, coordinator, metrics, v2 } = await clusterWithStaleReplica();
  const read = await coordinator.get(key, { r: 3, includeReplicas: true });
  assert.deepEqual(read.record?.value, Buffer.from('v2'));
  assert.deepEqual(read.record?.version, v2.version);
  // No settle(): the repair was part of the read.
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.version, v2.version);
  const staleReport = read.replicas.find((replica) => replica.nodeId === 'node-2');
  assert.equal(staleReport?.found, true);
  assert.ok(staleReport?.version !== undefined && staleReport.version.stamp < v2.version.stamp, 'the report shows what node-2 held');
  assert.equal(metrics.repairs, 1);
  await cluster.close();
});

it('repairs a replica that answers after the read returned, in the background', async () => {
  const { cluster, coordinator, metrics, v2 } = await clusterWithStaleReplica();
  cluster.network.delay({ to: 'node-2', ms: 20 });
  // include_replicas asks every replica (an R-sized read would not ask node-2 at all).
  const read = await coordinator.get(key, { r: 2, includeReplicas: true });
  assert.deepEqual(read.record?.value, Buffer.from('v2'));
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.value, Buffer.from('v1'), 'not yet: node-2 had not answered');
  await cluster.settle();
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.version, v2.version);
  assert.equal(metrics.repairs, 1);
  assert.ok(metrics.replicaRequests.some((request) => request.op === 'repair' && request.peer === 'node-2' && request.result === 'ok'));
  await cluster.close();
});

it('repairs a replica that never had the key', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  cluster.network.disconnect('node-2');
  await cluster.node('node-0').coordinator.put(key, Buffer.from('v'), { w: 2 });
  cluster.network.reconnect('node-2');
  await cluster.node('node-1').coordinator.get(key, { r: 3 });
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.value, Buffer.from('v'));
  await cluster.close();
});

it('repairs tombstones: a delete missed by one replica reaches it through a read', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const coordinator = cluster.node('node-0').coordinator;
  await coordinator.put(key, Buffer.from('v'), { w: 3 });
  cluster.network.disconnect('node-2');
  const deleted = await coordinator.delete(key, { w: 2 });
  cluster.network.reconnect('node-2');
  const read = await coordinator.get(key, { r: 3, includeReplicas: true });
  assert.equal(read.record, undefined, 'a tombstone reads as not found');
  assert.equal(read.replicas.find((replica) => replica.nodeId === 'node-2')?.found, true, 'node-2 still had the value');
  const held = cluster.node('node-2').engine.get(key);
  assert.equal(held?.value, null);
  assert.deepEqual(held?.version, deleted.version);
  await cluster.close();
});

it('a late reply newer than the answer is spread to the replicas that answered first', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const coordinator = cluster.node('node-0').coordinator;
  // Only node-2 holds the newest version; node-0 and node-1 hold an older one.
  const older: KvRecord = { key, value: Buffer.from('old'), version: { stamp: 10n, nodeId: 'node-0' }, expiresAtMs: 0 };
  const newer: KvRecord = { key, value: Buffer.from('new'), version: { stamp: 20n, nodeId: 'node-1' }, expiresAtMs: 0 };
  await cluster.node('node-0').engine.apply([older]);
  await cluster.node('node-1').engine.apply([older]);
  await cluster.node('node-2').engine.apply([newer]);
  cluster.network.delay({ to: 'node-2', ms: 20 });
  // include_replicas asks every replica (an R-sized read would not ask node-2 at all).
  const read = await coordinator.get(key, { r: 2, includeReplicas: true });
  assert.deepEqual(read.record?.value, Buffer.from('old'), 'R=2 answered from the two replicas it heard first');
  await cluster.settle();
  for (const [id, held] of Object.entries(cluster.holdings(key))) assert.deepEqual(held?.value, Buffer.from('new'), `${id} converged`);
  await cluster.close();
});

it('does not repair when read repair is off', async () => {
  const { cluster, coordinator, metrics } = await clusterWithStaleReplica({ readRepair: false });
  const read = await coordinator.get(key, { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('v2'));
  await cluster.settle();
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.value, Buffer.from('v1'));
  assert.equal(metrics.repairs, 0);
  await cluster.close();
});

it('fails a read whose repair cannot bring R replicas to the answer, and answers when enough hold it', async () => {
  const { cluster, coordinator } = await clusterWithStaleReplica();
  // node-2 still serves reads but refuses writes, so it cannot be repaired.
  const node2 = cluster.node('node-2');
  cluster.network.register('node-2', {
    read: (keys) => node2.replica.read(keys),
    apply: async () => Promise.reject(new Error('disk full')),
  });
  await assert.rejects(coordinator.get(key, { r: 3 }), (error: unknown) => {
    assert.ok(error instanceof QuorumNotMetError);
    assert.equal(error.acks, 2, 'two replicas hold the version the read would return');
    assert.match(error.message, /read repair failed/);
    return true;
  });
  // When the first R=2 replies both hold v2 the read answers; the background repair of
  // node-2 is tried, fails, and is only counted.
  cluster.network.delay({ to: 'node-2', ms: 10 });
  const read = await coordinator.get(key, { r: 2 });
  assert.deepEqual(read.record?.value, Buffer.from('v2'));
  await cluster.settle();
  assert.deepEqual(node2.engine.get(key)?.value, Buffer.from('v1'));
  await cluster.close();
});
