// The simulation's figures must be what they claim: cross-checked against direct ring
// lookups and plain arithmetic on a small number of keys.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { HashRing } from '../../src/ring/hash-ring.js';
import { loadStats, nodeName, simulatePlacement, simulationKeyTokens } from '../../src/ring/ring-simulation.js';
import { loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';

let hash: XxHash64;
before(async () => {
  hash = await loadXxHash64();
});

const KEYS = 20_000;

describe('ring simulation', () => {
  it('computes load statistics', () => {
    const stats = loadStats([1, 2, 3]);
    assert.equal(stats.min, 1);
    assert.equal(stats.max, 3);
    assert.equal(stats.mean, 2);
    assert.ok(Math.abs(stats.stddevPercentOfMean - (Math.sqrt(2 / 3) / 2) * 100) < 1e-9);
    assert.equal(stats.maxOverMean, 1.5);
  });

  it('counts every key once as primary and min(N, n) times as a replica', () => {
    const result = simulatePlacement({ strategies: ['modulo', 'consistent', 'virtual'], nodes: 4, keys: KEYS, vnodes: 16, replicas: 3, nodePrefix: 'node-' }, hash);
    assert.deepEqual(result.results.map((entry) => entry.strategy), ['modulo', 'consistent', 'virtual']);
    for (const entry of result.results) {
      assert.equal(entry.primaryLoad.perNode.reduce((a, b) => a + b, 0), KEYS);
      assert.equal(entry.replicaLoad.perNode.reduce((a, b) => a + b, 0), KEYS * 3);
      assert.equal(entry.primaryLoad.mean, KEYS / 4);
    }
  });

  it('shows modulo moving about n/(n+1) of the keys when a node is added', () => {
    const [modulo] = simulatePlacement({ strategies: ['modulo'], nodes: 10, keys: KEYS, vnodes: 16, replicas: 3, nodePrefix: 'node-' }, hash).results;
    assert.ok(Math.abs(modulo!.addOneNode.keysMovedPercent - (10 / 11) * 100) < 2, `${modulo!.addOneNode.keysMovedPercent}`);
    assert.ok(Math.abs(modulo!.addOneNode.idealPercent - 100 / 11) < 1e-9);
    assert.ok(Math.abs(modulo!.removeOneNode!.idealPercent - 100 / 10) < 1e-9);
  });

  it('moves exactly the keys that the added node takes and that the removed node held', () => {
    const nodes = 6;
    const vnodes = 16;
    const [virtual] = simulatePlacement({ strategies: ['virtual'], nodes, keys: KEYS, vnodes, replicas: 2, nodePrefix: 'quorumkv-' }, hash).results;
    const tokens = simulationKeyTokens(KEYS, hash);
    const grown = HashRing.build(Array.from({ length: nodes + 1 }, (_, index) => ({ id: nodeName('quorumkv-', index) })), { vnodes, replicationFactor: 2 }, hash);
    let takenByNewNode = 0;
    for (const token of tokens) if (grown.preferenceListForToken(token)[0] === nodeName('quorumkv-', nodes)) takenByNewNode++;
    assert.ok(takenByNewNode > 0);
    assert.equal(virtual!.addOneNode.keysMovedPercent, (takenByNewNode / KEYS) * 100);
    assert.equal(virtual!.removeOneNode!.node, 'quorumkv-5');
    assert.equal(virtual!.addOneNode.node, 'quorumkv-6');
    assert.equal(virtual!.removeOneNode!.keysMovedPercent, (virtual!.primaryLoad.perNode[nodes - 1]! / KEYS) * 100);
  });

  it('has nothing to remove from a single node', () => {
    const [virtual] = simulatePlacement({ strategies: ['virtual'], nodes: 1, keys: 100, vnodes: 4, replicas: 3, nodePrefix: 'node-' }, hash).results;
    assert.equal(virtual!.removeOneNode, null);
    assert.deepEqual(virtual!.replicaLoad.perNode, [100]);
  });
});
