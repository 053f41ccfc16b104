// The coordinator encodes a write's records once and hands every replica its share
// (docs/decisions/0200-batch-encoded-once-per-write.md). On a 5-node MemoryNetwork with
// N=3 each replica holds only some keys of a batch, local and remote alike: what reaches
// each engine as the encoding must be exactly its records, or its WAL would log records
// other than those it stores.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryCluster } from '../support/memory-cluster.js';

it('every replica of a BatchPut gets the batch encoding of exactly its own records', async () => {
  const cluster = new MemoryCluster({ nodes: 5, replicationFactor: 3 });
  const applies: Array<{ node: string; records: readonly KvRecord[]; encoding: Buffer | undefined }> = [];
  for (const node of cluster.nodes) {
    const engine = node.engine;
    const apply = engine.apply.bind(engine);
    // A spy in front of the real engine: it sees what the engine is handed and passes it on.
    engine.apply = (records, encoding) => {
      applies.push({ node: node.id, records, encoding });
      return apply(records, encoding);
    };
  }
  const items = Array.from({ length: 300 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.alloc(i % 200, i % 251) }));
  const written = await cluster.node('node-0').coordinator.batchPut(items, { w: 3 });
  assert.ok(written.every((result) => result.ok && result.acks === 3));
  await cluster.settle();

  assert.equal(new Set(applies.map((apply) => apply.node)).size, 5, 'every node held some keys');
  for (const { node, records, encoding } of applies) {
    assert.ok(encoding !== undefined, `${node} got no encoding`);
    assert.ok(records.length < items.length, `${node} holds only some of the keys`);
    assert.ok(encoding.equals(encodeBatch(records)), `${node}'s encoding is of other records than it was given`);
  }
  assert.equal(
    applies.reduce((sum, apply) => sum + apply.records.length, 0),
    items.length * 3,
    'every key reached exactly its 3 replicas',
  );
  await cluster.close();
});

it('a single put hands its one-record encoding to all N replicas', async () => {
  const cluster = new MemoryCluster({ nodes: 3, replicationFactor: 3 });
  const encodings: Buffer[] = [];
  for (const node of cluster.nodes) {
    const apply = node.engine.apply.bind(node.engine);
    node.engine.apply = (records, encoding) => {
      if (encoding !== undefined) encodings.push(encoding);
      return apply(records, encoding);
    };
  }
  const result = await cluster.node('node-1').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 3 });
  await cluster.settle();
  assert.equal(encodings.length, 3);
  const stored = cluster.node('node-1').engine.get(Buffer.from('k'))!;
  assert.deepEqual(stored.version, result.version);
  for (const encoding of encodings) assert.ok(encoding.equals(encodeBatch([stored])));
  await cluster.close();
});
