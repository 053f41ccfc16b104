// Deletes and TTLs as a client sees them: a deleted key reads as not found until a newer
// put, and a key past its TTL reads as not found while replicas keep the record (expiry is
// decided when reading, with the coordinator's wall clock).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryCluster } from '../support/memory-cluster.js';

const k = Buffer.from('k');

it('delete writes a tombstone; the key is not found until a newer put', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const coordinator = cluster.node('node-0').coordinator;
  const put = await coordinator.put(k, Buffer.from('v'));
  const deleted = await coordinator.delete(k);
  assert.ok(deleted.version.stamp > put.version.stamp);
  assert.equal(deleted.acks, 2);
  const read = await coordinator.get(k, { r: 3, includeReplicas: true });
  assert.equal(read.record, undefined);
  assert.ok(read.replicas.every((replica) => !replica.found && replica.version !== undefined));
  await coordinator.put(k, Buffer.from('again'));
  assert.deepEqual((await coordinator.get(k)).record?.value, Buffer.from('again'));
  await cluster.close();
});

it('a key past its TTL reads as not found; the expiry is stored on every replica', async () => {
  let nowMs = 1_000_000;
  const wallClock = (): number => nowMs;
  const cluster = new MemoryCluster({ nodes: 3, wallClocks: { 'node-0': wallClock, 'node-1': wallClock, 'node-2': wallClock } });
  const coordinator = cluster.node('node-0').coordinator;
  await coordinator.put(k, Buffer.from('v'), { ttlMs: 500, w: 3 });
  for (const held of Object.values(cluster.holdings(k))) assert.equal(held?.expiresAtMs, 1_000_500);
  nowMs = 1_000_499;
  assert.deepEqual((await coordinator.get(k)).record?.value, Buffer.from('v'));
  nowMs = 1_000_500;
  assert.equal((await coordinator.get(k)).record, undefined);
  await cluster.close();
});

it('a missing key is not found, with every replica reporting it has nothing', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const read = await cluster.node('node-1').coordinator.get(Buffer.from('nothing'), { r: 3, includeReplicas: true });
  assert.equal(read.record, undefined);
  assert.equal(read.acks, 3);
  assert.deepEqual(
    read.replicas.map((replica) => replica.nodeId).sort(),
    ['node-0', 'node-1', 'node-2'],
  );
  assert.ok(read.replicas.every((replica) => !replica.found && replica.version === undefined && replica.error === undefined));
  await cluster.close();
});

it('reports the error of a replica that failed before the read answered', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  cluster.network.disconnect('node-2');
  // node-1 answers after node-2's refusal, so the refusal is in hand when R=2 is met.
  cluster.network.delay({ to: 'node-1', ms: 5 });
  const read = await cluster.node('node-0').coordinator.get(Buffer.from('k'), { r: 2, includeReplicas: true });
  assert.equal(read.acks, 2);
  const failed = read.replicas.find((replica) => replica.nodeId === 'node-2');
  assert.equal(failed?.found, false);
  assert.equal(failed?.error?.code, 'PEER_UNREACHABLE');
  await cluster.close();
});
