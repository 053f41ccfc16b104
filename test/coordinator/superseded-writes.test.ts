// A BatchPut sends only the last record of each key (src/coordinator/superseded-writes.ts):
// the earlier items of a key are answered with their own stamps and the acks of the
// key's last record, the replicas hold the last value, and nothing else changes.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { naturalOnly, type KeyPlacement } from '../../src/coordinator/coordinator-config.js';
import { SUPERSEDED_COMPARISONS_PER_KEY_MAX, lastWriteOfEachKey } from '../../src/coordinator/superseded-writes.js';
import type { NetworkEvent } from '../../src/transport/memory/memory-network.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const bytes = (text: string): Buffer => Buffer.from(text);

it('each key points at its last write in the batch; keys of another placement object are never compared', () => {
  const here = naturalOnly(['a', 'b', 'c']);
  const there = naturalOnly(['a', 'b', 'c']);
  const keys = ['x', 'y', 'x', 'z', 'y', 'x'].map(bytes);
  assert.deepEqual([...lastWriteOfEachKey(keys, keys.map(() => here))], [5, 4, 5, 3, 4, 5]);
  // Equal keys always get the same placement from a real ring; with two objects nothing is merged.
  assert.deepEqual([...lastWriteOfEachKey([bytes('x'), bytes('x')], [here, there])], [0, 1]);
  assert.deepEqual([...lastWriteOfEachKey([], [])], []);
});

/** lastWriteOfEachKey with the keys' byte comparisons counted. */
function countingComparisons(keys: readonly Buffer[], placements: readonly KeyPlacement[]): { lastOf: number[]; comparisons: number } {
  const equals = Buffer.prototype.equals;
  let comparisons = 0;
  Buffer.prototype.equals = function (this: Buffer, other: Uint8Array): boolean {
    comparisons++;
    return equals.call(this, other);
  };
  try {
    return { lastOf: [...lastWriteOfEachKey(keys, placements)], comparisons };
  } finally {
    Buffer.prototype.equals = equals;
  }
}

it('keys crowded onto one placement cost a bounded number of comparisons per key, not one per pair, and repeats are still found', () => {
  // A client can pick keys of one ring range (or the ring has few vnodes): 1000 distinct
  // keys on one placement made 499 500 comparisons, 30-40 ms of the event loop.
  const here = naturalOnly(['a', 'b', 'c']);
  const distinct = Array.from({ length: 1000 }, (_, i) => bytes(`key-${i}`));
  const spread = countingComparisons(distinct, distinct.map(() => here));
  assert.deepEqual(spread.lastOf, distinct.map((_key, i) => i));
  assert.ok(spread.comparisons <= SUPERSEDED_COMPARISONS_PER_KEY_MAX * distinct.length, `${spread.comparisons} comparisons for ${distinct.length} keys`);

  // 500 keys written twice, the second time in the other order: item i and item 999 - i.
  const repeated = [...distinct.slice(0, 500), ...distinct.slice(0, 500).reverse()];
  const twice = countingComparisons(repeated, repeated.map(() => here));
  assert.deepEqual(twice.lastOf, repeated.map((_key, i) => (i < 500 ? 999 - i : i)));
  assert.ok(twice.comparisons <= SUPERSEDED_COMPARISONS_PER_KEY_MAX * repeated.length, `${twice.comparisons} comparisons for ${repeated.length} keys`);

  // Past the bound, equal keys of two placement objects are still not merged.
  const there = naturalOnly(['a', 'b', 'c']);
  const mixed = countingComparisons([bytes('x'), ...distinct, bytes('x')], [there, ...distinct.map(() => here), here]);
  assert.equal(mixed.lastOf[0], 0);
  assert.equal(mixed.lastOf[1001], 1001);
});

/** Three nodes, N=3, one frozen placement per first letter of the key, as a ring hands out one per position. */
function stableCluster(nodes = 3) {
  const events: NetworkEvent[] = [];
  const byLetter = new Map<string, KeyPlacement>();
  const placement = (key: Buffer): KeyPlacement => {
    const letter = key.toString()[0]!;
    let placed = byLetter.get(letter);
    if (placed === undefined) {
      placed = Object.freeze(naturalOnly(letter === 'r' ? ['node-2', 'node-3', 'node-4'] : ['node-0', 'node-1', 'node-2']));
      byLetter.set(letter, placed);
    }
    return placed;
  };
  const cluster = new MemoryCluster({ nodes, replicationFactor: 3, placement, network: { observer: (event) => events.push(event) } });
  return { cluster, events };
}

const recordsSent = (events: readonly NetworkEvent[]): number =>
  events.reduce((sum, event) => sum + (event.type === 'sent' && event.kind === 'apply' ? event.items : 0), 0);

it('a key written three times in a batch is sent once, every item is answered with its own stamp, the last value stays', async () => {
  const { cluster, events } = stableCluster();
  const coordinator = cluster.node('node-0').coordinator;
  const items = [
    { key: bytes('k1'), value: bytes('first') },
    { key: bytes('k2'), value: bytes('only') },
    { key: bytes('k1'), value: bytes('second') },
    { key: bytes('k3'), value: bytes('only') },
    { key: bytes('k1'), value: bytes('third') },
  ];
  const results = await coordinator.batchPut(items, { w: 3 });
  await cluster.settle();
  assert.ok(results.every((result) => result.ok && result.acks === 3));
  const stamps = results.map((result) => (result.ok ? result.version.stamp : -1n));
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, 'items keep their stamps, in batch order');
  // node-0 applies locally; node-1 and node-2 each get the 3 distinct keys, not 5 records.
  assert.equal(recordsSent(events), 2 * 3);
  for (const node of ['node-0', 'node-1', 'node-2']) {
    const held = cluster.node(node).engine.get(bytes('k1'));
    assert.deepEqual(held?.value, bytes('third'), `${node} holds the last value`);
    assert.equal(held?.version.stamp, stamps[4], `${node} holds the last item's stamp`);
  }
  await cluster.close();
});

it('the earlier items of a key fail with its last record, with the same code and acks', async () => {
  const { cluster } = stableCluster(5);
  cluster.network.disconnect('node-3');
  cluster.network.disconnect('node-4');
  const results = await cluster.node('node-0').coordinator.batchPut(
    [
      { key: bytes('r1'), value: bytes('a') },
      { key: bytes('l1'), value: bytes('b') },
      { key: bytes('r1'), value: bytes('c') },
    ],
    { w: 2 },
  );
  assert.deepEqual(
    results.map((result) => (result.ok ? `ok ${result.acks}` : `${result.error.code} ${result.acks}`)),
    ['QUORUM_NOT_MET 0', 'ok 2', 'QUORUM_NOT_MET 0'],
  );
  await cluster.close();
});
