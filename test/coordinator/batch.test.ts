// Batches: keys are grouped per replica so each replica gets exactly one message for a
// batch, whatever its size; each key meets or misses its own quorum; a key written twice
// in one batch keeps its later value.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NetworkEvent } from '../../src/transport/memory/memory-network.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import { MemoryCluster } from '../support/memory-cluster.js';

function countingCluster(nodes: number) {
  const events: NetworkEvent[] = [];
  const cluster = new MemoryCluster({ nodes, replicationFactor: 3, network: { observer: (event) => events.push(event) } });
  return { cluster, events };
}

const sentTo = (events: readonly NetworkEvent[], kind: 'apply' | 'read'): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const event of events) if (event.type === 'sent' && event.kind === kind) counts.set(event.to, (counts.get(event.to) ?? 0) + 1);
  return counts;
};

it('a batch of 200 keys on 5 nodes sends one message per replica, and every key reads back', async () => {
  const { cluster, events } = countingCluster(5);
  const coordinator = cluster.node('node-0').coordinator;
  const items = Array.from({ length: 200 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) }));
  const written = await coordinator.batchPut(items, { w: 2 });
  assert.equal(written.length, 200);
  assert.ok(written.every((result) => result.ok && result.acks === 2));
  await cluster.settle();

  const applies = sentTo(events, 'apply');
  assert.deepEqual([...applies.keys()].sort(), ['node-1', 'node-2', 'node-3', 'node-4'], 'node-0 applies locally');
  assert.ok([...applies.values()].every((count) => count === 1), `one apply message per peer, got ${JSON.stringify([...applies])}`);
  const itemsSent = events.filter((event) => event.type === 'sent' && event.kind === 'apply').reduce((sum, event) => sum + (event.type === 'sent' ? event.items : 0), 0);
  const local = items.filter((item) => cluster.node('node-0').engine.get(item.key) !== undefined).length;
  assert.equal(itemsSent + local, 200 * 3, 'every key went to exactly its 3 replicas');

  events.length = 0;
  const read = await coordinator.batchGet(items.map((item) => item.key), { r: 2 });
  assert.ok([...sentTo(events, 'read').values()].every((count) => count === 1));
  read.forEach((result, i) => {
    assert.ok(result.ok);
    assert.deepEqual(result.record?.value, items[i]!.value);
  });
  await cluster.close();
});

it('each key of a batch meets or misses its own quorum', async () => {
  // Keys on fixed replica sets: "left" keys on node-0..2, "right" keys on node-2..4.
  const cluster = new MemoryCluster({
    nodes: 5,
    replicationFactor: 3,
    placement: (key) => naturalOnly(key.toString().startsWith('left') ? ['node-0', 'node-1', 'node-2'] : ['node-2', 'node-3', 'node-4']),
  });
  cluster.network.disconnect('node-3');
  cluster.network.disconnect('node-4');
  const results = await cluster.node('node-0').coordinator.batchPut(
    [
      { key: Buffer.from('left-1'), value: Buffer.from('a') },
      { key: Buffer.from('right-1'), value: Buffer.from('b') },
      { key: Buffer.from('left-2'), value: Buffer.from('c') },
    ],
    { w: 2 },
  );
  assert.deepEqual(
    results.map((result) => (result.ok ? 'ok' : result.error.code)),
    ['ok', 'QUORUM_NOT_MET', 'ok'],
  );
  const reads = await cluster.node('node-1').coordinator.batchGet([Buffer.from('left-2'), Buffer.from('right-1')], { r: 2 });
  assert.equal(reads[0]?.ok, true);
  assert.equal(reads[1]?.ok, false);
  await cluster.close();
});

it('a key written twice in one batch keeps the later value', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const coordinator = cluster.node('node-0').coordinator;
  await coordinator.batchPut([
    { key: Buffer.from('k'), value: Buffer.from('first') },
    { key: Buffer.from('k'), value: Buffer.from('second') },
  ]);
  const read = await coordinator.get(Buffer.from('k'), { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('second'));
  await cluster.close();
});

it('an empty batch is an empty answer', async () => {
  const { cluster, events } = countingCluster(3);
  assert.deepEqual(await cluster.node('node-0').coordinator.batchPut([]), []);
  assert.deepEqual(await cluster.node('node-0').coordinator.batchGet([]), []);
  assert.equal(events.length, 0);
  await cluster.close();
});
