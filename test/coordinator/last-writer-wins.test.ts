// Last writer wins by (HLC stamp, node id): reads return the newest version whichever
// replica holds it; concurrent writes from two coordinators converge on every replica to
// the same winner; a coordinator whose wall clock steps backwards still stamps later
// writes later; and a coordinator that has seen a write stamps its own after it even
// when its wall clock lags.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { compareVersions, type KvRecord } from '../../src/storage/record.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const key = Buffer.from('k');

function record(value: string, stamp: bigint, nodeId: string): KvRecord {
  return { key, value: Buffer.from(value), version: { stamp, nodeId }, expiresAtMs: 0 };
}

/** Wall clocks a test can set, one per node. */
function settableClocks(ids: readonly string[], startMs: number): { clocks: Record<string, () => number>; set(id: string, ms: number): void } {
  const now = new Map(ids.map((id) => [id, startMs]));
  return {
    clocks: Object.fromEntries(ids.map((id) => [id, () => now.get(id)!])),
    set: (id, ms) => now.set(id, ms),
  };
}

it('a read returns the newest version whichever replica holds it', async () => {
  for (const newestOn of ['node-0', 'node-1', 'node-2']) {
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { readRepair: false } });
    for (const node of cluster.nodes) {
      const value = node.id === newestOn ? record('newest', 30n, 'node-0') : record(`old-${node.id}`, 20n, 'node-2');
      await node.engine.apply([value]);
    }
    const read = await cluster.node('node-1').coordinator.get(key, { r: 3 });
    assert.deepEqual(read.record?.value, Buffer.from('newest'), `newest on ${newestOn}`);
    await cluster.close();
  }
});

it('equal stamps are broken by node id', async () => {
  const cluster = new MemoryCluster({ nodes: 3, coordinator: { readRepair: false } });
  await cluster.node('node-0').engine.apply([record('from-a', 7n, 'a')]);
  await cluster.node('node-1').engine.apply([record('from-b', 7n, 'b')]);
  await cluster.node('node-2').engine.apply([record('from-a', 7n, 'a')]);
  const read = await cluster.node('node-2').coordinator.get(key, { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('from-b'));
  await cluster.close();
});

it('concurrent writes from two coordinators converge on the same winner everywhere', async () => {
  const ids = ['node-0', 'node-1', 'node-2'];
  const { clocks } = settableClocks(ids, 1_000_000);
  const cluster = new MemoryCluster({ nodes: ids, wallClocks: clocks });
  // Same wall clock on both coordinators: equal stamps, node-1 > node-0 wins the tie.
  const [a, b] = await Promise.all([
    cluster.node('node-0').coordinator.put(key, Buffer.from('from-0'), { w: 1 }),
    cluster.node('node-1').coordinator.put(key, Buffer.from('from-1'), { w: 1 }),
  ]);
  assert.equal(a.version.stamp, b.version.stamp, 'the two writes really are concurrent');
  await cluster.settle();
  for (const [id, held] of Object.entries(cluster.holdings(key))) assert.deepEqual(held?.value, Buffer.from('from-1'), id);
  const read = await cluster.node('node-2').coordinator.get(key, { r: 1 });
  assert.deepEqual(read.record?.value, Buffer.from('from-1'));
  await cluster.close();
});

it('a write from a coordinator whose clock runs ahead wins over a later write from one that lags', async () => {
  const ids = ['node-0', 'node-1', 'node-2'];
  const { clocks } = settableClocks(ids, 1_000_000);
  const cluster = new MemoryCluster({ nodes: ids, wallClocks: { ...clocks, 'node-0': () => 1_030_000 } }); // 30 s ahead: within HLC_FORWARD_DRIFT_MS_MAX
  // node-1 is partitioned away so it does not observe node-0's stamp before writing.
  cluster.network.partition(['node-1'], ['node-0']);
  await cluster.node('node-0').coordinator.put(key, Buffer.from('ahead'), { w: 2 });
  await cluster.node('node-1').coordinator.put(key, Buffer.from('behind'), { w: 1 });
  cluster.network.heal();
  const read = await cluster.node('node-2').coordinator.get(key, { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('ahead'), 'last writer by stamp, not by real time');
  await cluster.close();
});

it('a coordinator that has seen a write stamps its own after it, even with a lagging wall clock', async () => {
  const ids = ['node-0', 'node-1', 'node-2'];
  const { clocks } = settableClocks(ids, 1_000_000);
  const cluster = new MemoryCluster({ nodes: ids, wallClocks: { ...clocks, 'node-0': () => 1_030_000 } }); // 30 s ahead: within HLC_FORWARD_DRIFT_MS_MAX
  const first = await cluster.node('node-0').coordinator.put(key, Buffer.from('ahead'), { w: 3 });
  // node-1 stored node-0's write as a replica, so its clock has observed the stamp.
  const second = await cluster.node('node-1').coordinator.put(key, Buffer.from('after'), { w: 3 });
  assert.ok(compareVersions(second.version, first.version) > 0);
  const read = await cluster.node('node-2').coordinator.get(key, { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('after'));
  await cluster.close();
});

it('a wall clock stepping backwards does not make a later write lose', async () => {
  const ids = ['node-0', 'node-1', 'node-2'];
  const { clocks, set } = settableClocks(ids, 5_000_000);
  const cluster = new MemoryCluster({ nodes: ids, wallClocks: clocks });
  const coordinator = cluster.node('node-0').coordinator;
  const first = await coordinator.put(key, Buffer.from('first'), { w: 3 });
  set('node-0', 1_000_000);
  const second = await coordinator.put(key, Buffer.from('second'), { w: 3 });
  assert.ok(second.version.stamp > first.version.stamp);
  const read = await coordinator.get(key, { r: 3 });
  assert.deepEqual(read.record?.value, Buffer.from('second'));
  await cluster.close();
});

it('random writes from random coordinators with skewed clocks converge to the greatest version', async () => {
  const ids = ['node-0', 'node-1', 'node-2'];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ node: fc.constantFrom(...ids), wallMs: fc.integer({ min: 1_000, max: 1_010 }), value: fc.string({ maxLength: 4 }) }), {
        minLength: 1,
        maxLength: 12,
      }),
      async (writes) => {
        const { clocks, set } = settableClocks(ids, 1_000);
        const cluster = new MemoryCluster({ nodes: ids, wallClocks: clocks });
        const results = await Promise.all(
          writes.map((write) => {
            set(write.node, write.wallMs);
            return cluster.node(write.node).coordinator.put(key, Buffer.from(write.value), { w: 1 });
          }),
        );
        await cluster.settle();
        let winner = 0;
        results.forEach((result, i) => {
          if (compareVersions(result.version, results[winner]!.version) > 0) winner = i;
        });
        for (const [id, held] of Object.entries(cluster.holdings(key))) {
          assert.deepEqual(held?.version, results[winner]!.version, id);
          assert.deepEqual(held?.value, Buffer.from(writes[winner]!.value), id);
        }
        await cluster.close();
      },
    ),
    { numRuns: 30 },
  );
});
