// A BatchGet bounded in answer bytes (docs/decisions/0040-bounded-batch-get-memory.md):
// the coordinator reads the keys in chunks and stops once the answer is full, so the
// keys after it are RESPONSE_TOO_LARGE without any replica reading their values; every
// item is its value or an error, in order; small values still take two round trips;
// each key keeps its quorum and read repair.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NetworkEvent } from '../../src/transport/memory/memory-network.js';
import type { BatchGetItemResult } from '../../src/coordinator/coordinator.js';
import { MemoryCluster, type MemoryClusterNode } from '../support/memory-cluster.js';

const KIB = 1024;
const MIB = 1024 * KIB;

function cluster3(): { cluster: MemoryCluster; events: NetworkEvent[] } {
  const events: NetworkEvent[] = [];
  const cluster = new MemoryCluster({ nodes: 3, replicationFactor: 3, network: { observer: (event) => events.push(event) } });
  return { cluster, events };
}

/** Counts the engine lookups of one node's replica (the values it copies out of its store). */
function countLookups(node: MemoryClusterNode): { count: number } {
  const counter = { count: 0 };
  const get = node.engine.get.bind(node.engine);
  node.engine.get = (key) => {
    counter.count++;
    return get(key);
  };
  return counter;
}

function readMessages(events: readonly NetworkEvent[]): { messages: number; keys: number } {
  let messages = 0;
  let keys = 0;
  for (const event of events) {
    if (event.type !== 'sent' || event.kind !== 'read') continue;
    messages++;
    keys += event.items;
  }
  return { messages, keys };
}

/** The items up to the first RESPONSE_TOO_LARGE, checking that every item after it is one too. */
function answered(results: readonly BatchGetItemResult[]): BatchGetItemResult[] {
  const cut = results.findIndex((result) => !result.ok && result.error.code === 'RESPONSE_TOO_LARGE');
  if (cut === -1) return [...results];
  results.slice(cut).forEach((result, i) => assert.ok(!result.ok && result.error.code === 'RESPONSE_TOO_LARGE', `item ${cut + i} after the cut`));
  return results.slice(0, cut);
}

const valueOf = (i: number, bytes: number): Buffer => Buffer.alloc(bytes, i);

it('large values: the answer stops at the bound, in order, and no replica looks up the keys after it', async () => {
  const { cluster, events } = cluster3();
  try {
    const keys = Array.from({ length: 30 }, (_, i) => Buffer.from(`big-${String(i).padStart(2, '0')}`));
    await cluster.node('node-0').coordinator.batchPut(keys.map((key, i) => ({ key, value: valueOf(i, 512 * KIB) })), { w: 3 });
    await cluster.settle();
    events.length = 0;
    const lookups = cluster.nodes.map(countLookups);

    const results = await cluster.node('node-0').coordinator.batchGet(keys, { r: 2, answerBytesMax: 4 * MIB });
    assert.equal(results.length, 30);
    const kept = answered(results);
    // 7 items of 512 KiB and a 6-byte key fit 4 MiB, the 8th does not.
    assert.equal(kept.length, 7);
    kept.forEach((result, i) => {
      assert.ok(result.ok);
      assert.deepEqual(result.record?.value, valueOf(i, 512 * KIB));
    });
    // Chunks of 3 (the keys that fit if every value were 1 MiB), 4 and 1 keys: no
    // replica is asked for, or looks up, more than 8 of the 30.
    await cluster.settle();
    const { keys: asked } = readMessages(events);
    assert.ok(asked <= 2 * 8, `peers were asked for ${asked} keys`);
    for (const counter of lookups) assert.ok(counter.count <= 8, `a replica looked up ${counter.count} keys`);
  } finally {
    await cluster.close();
  }
});

it('a chunk planned from small values that meets large ones is cut by the replica reads, not read whole', async () => {
  const { cluster } = cluster3();
  try {
    const small = Array.from({ length: 3 }, (_, i) => ({ key: Buffer.from(`small-${i}`), value: valueOf(i, 10) }));
    const big = Array.from({ length: 60 }, (_, i) => ({ key: Buffer.from(`big-${String(i).padStart(2, '0')}`), value: valueOf(i, 512 * KIB) }));
    await cluster.node('node-0').coordinator.batchPut([...small, ...big], { w: 3 });
    await cluster.settle();
    const lookups = cluster.nodes.map(countLookups);

    // The first chunk (3 small keys) plans the second as every key left; each replica
    // stops once its answer holds the 4 MiB left, so the last 50-odd values are never read.
    const results = await cluster.node('node-0').coordinator.batchGet([...small, ...big].map((item) => item.key), { answerBytesMax: 4 * MIB });
    assert.equal(results.length, 63);
    const kept = answered(results);
    assert.equal(kept.length, 3 + 7);
    kept.forEach((result, i) => {
      assert.ok(result.ok);
      assert.deepEqual(result.record?.value, (i < 3 ? small[i]! : big[i - 3]!).value);
    });
    await cluster.settle();
    for (const counter of lookups) assert.ok(counter.count <= 3 + 9, `a replica looked up ${counter.count} keys`);
  } finally {
    await cluster.close();
  }
});

it('a 1000-key batch of small values is read in two round trips per replica, every item in order', async () => {
  const { cluster, events } = cluster3();
  try {
    const items = Array.from({ length: 999 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.from(`${i}`.padStart(100, '.')) }));
    await cluster.node('node-1').coordinator.batchPut(items, { w: 3 });
    await cluster.settle();
    events.length = 0;
    const keys = [...items.map((item) => item.key), Buffer.from('missing')];
    const results = await cluster.node('node-1').coordinator.batchGet(keys, { r: 2, answerBytesMax: 8 * MIB });
    assert.equal(results.length, 1000);
    items.forEach((item, i) => {
      const result = results[i]!;
      assert.ok(result.ok, `item ${i}`);
      assert.deepEqual(result.record?.value, item.value);
    });
    assert.ok(results[999]!.ok && results[999]!.record === undefined, 'an absent key is found: false');
    const { messages } = readMessages(events);
    assert.equal(messages, 2 * 2, 'two chunks, each one message to each of the two peers');
  } finally {
    await cluster.close();
  }
});

it('one large key named 200 times: the first fits, the rest past the bound are RESPONSE_TOO_LARGE', async () => {
  const { cluster } = cluster3();
  try {
    const hot = Buffer.from('hot');
    await cluster.node('node-0').coordinator.put(hot, valueOf(7, MIB), { w: 3 });
    await cluster.settle();
    const lookups = cluster.nodes.map(countLookups);
    const results = await cluster.node('node-2').coordinator.batchGet(Array.from({ length: 200 }, () => hot), { answerBytesMax: 3 * MIB });
    const kept = answered(results);
    assert.equal(kept.length, 2, '2 × (1 MiB + 3) fit 3 MiB, a third does not');
    assert.ok(kept.every((result) => result.ok && result.record?.value?.length === MIB));
    const tooLarge = results[2]!;
    assert.ok(!tooLarge.ok && /ask for this key again/.test(tooLarge.error.message));
    await cluster.settle();
    for (const counter of lookups) assert.ok(counter.count <= 6, `a replica looked up ${counter.count} copies`);

    // The first item always fits, even when it alone passes the bound.
    const [only, after] = await cluster.node('node-2').coordinator.batchGet([hot, hot], { answerBytesMax: 10 });
    assert.ok(only!.ok && only!.record?.value?.length === MIB);
    assert.ok(!after!.ok && after!.error.code === 'RESPONSE_TOO_LARGE');
  } finally {
    await cluster.close();
  }
});

it('each key keeps its quorum and read repair: failures stay in place, a stale replica is repaired', async () => {
  const { cluster } = cluster3();
  try {
    const coordinator = cluster.node('node-0').coordinator;
    const keys = ['a', 'b', 'c'].map((name) => Buffer.from(name));
    await coordinator.batchPut(keys.map((key) => ({ key, value: Buffer.from('old') })), { w: 3 });
    cluster.network.disconnect('node-2');
    await coordinator.put(keys[1]!, Buffer.from('new'), { w: 2 });
    // R=3 with a replica unreachable: every key misses its quorum, in place, none is "too large".
    const failed = await coordinator.batchGet(keys, { r: 3, answerBytesMax: 8 * MIB });
    assert.deepEqual(
      failed.map((result) => (result.ok ? 'ok' : result.error.code)),
      ['QUORUM_NOT_MET', 'QUORUM_NOT_MET', 'QUORUM_NOT_MET'],
    );
    cluster.network.reconnect('node-2');
    await cluster.settle();
    const read = await coordinator.batchGet(keys, { r: 3, answerBytesMax: 8 * MIB });
    assert.deepEqual(
      read.map((result) => (result.ok ? result.record?.value?.toString() : result.error.code)),
      ['old', 'new', 'old'],
    );
    await cluster.settle();
    assert.equal(cluster.node('node-2').engine.get(keys[1]!)?.value?.toString(), 'new', 'the stale replica was repaired');
  } finally {
    await cluster.close();
  }
});

it('on 6 nodes with N = 3 each replica reads its share: the answer is a prefix of the keys, in order, within the bound', async () => {
  const cluster = new MemoryCluster({ nodes: 6, replicationFactor: 3 });
  try {
    const small = Array.from({ length: 3 }, (_, i) => ({ key: Buffer.from(`small-${i}`), value: valueOf(i, 10) }));
    const big = Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`big-${String(i).padStart(3, '0')}`), value: valueOf(i, 256 * KIB) }));
    const all = [...small, ...big];
    await cluster.node('node-0').coordinator.batchPut(all, { w: 3 });
    await cluster.settle();
    const lookups = cluster.nodes.map(countLookups);

    // The second chunk holds all 100 large keys; each replica holds about half of them
    // and is asked for about half of the 4 MiB left, so it reads about 8 of its 50.
    const results = await cluster.node('node-0').coordinator.batchGet(all.map((item) => item.key), { answerBytesMax: 4 * MIB });
    const kept = answered(results);
    assert.ok(kept.length >= 3 + 1 && kept.length <= 3 + 15, `${kept.length} items answered`);
    let bytes = 0;
    kept.forEach((result, i) => {
      assert.ok(result.ok, `item ${i}: ${result.ok ? '' : result.error.code}`);
      assert.deepEqual(result.record?.value, all[i]!.value);
      bytes += all[i]!.key.length + all[i]!.value.length;
    });
    assert.ok(bytes <= 4 * MIB);
    await cluster.settle();
    for (const counter of lookups) assert.ok(counter.count <= 3 + 20, `a replica looked up ${counter.count} keys`);
  } finally {
    await cluster.close();
  }
});
