// Merkle anti-entropy over a MemoryNetwork: trees cut ranges the same way everywhere
// (property test), equal data gives equal roots and any differing version changes the
// root, and a repair pass from one node brings every replica of its ranges to the same
// records — streaming only the keys that differ — after which every root is equal.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { FailureDetector } from '../../src/membership/failure-detector.js';
import { AntiEntropy, type RepairReport } from '../../src/repair/anti-entropy.js';
import { buildMerkleTree, leafIndexOf, leafRange } from '../../src/replica/merkle-tree.js';
import { FULL_RING, rangeContains, type TokenRange } from '../../src/ring/token-range.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { MemoryCluster, testTokenOf } from '../support/memory-cluster.js';

const token = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

it('every token of a range lies in exactly the leaf leafIndexOf names', () => {
  fc.assert(
    fc.property(token, token, fc.integer({ min: 0, max: 8 }), token, (start, end, depth, probe) => {
      const range: TokenRange = { start, end };
      if (!rangeContains(range, probe)) return;
      const width = start === end ? 1n << 64n : (end - start + (1n << 64n)) % (1n << 64n);
      if (width < 1n << BigInt(depth)) return;
      const index = leafIndexOf(range, depth, probe);
      assert.ok(rangeContains(leafRange(range, depth, index), probe), `token ${probe} in leaf ${index}`);
    }),
    { numRuns: 2000 },
  );
});

it("each leaf of a tree hashes exactly the records of leafRange: a leaf's own depth-0 tree equals it", async () => {
  // Tokens are the keys' first 8 bytes here, so records can sit exactly on leaf edges.
  const tokenOf = (key: Buffer): bigint => key.readBigUInt64BE(0);
  const keyAt = (at: bigint, suffix: string): Buffer => {
    const key = Buffer.alloc(8 + suffix.length);
    key.writeBigUInt64BE(((at % (1n << 64n)) + (1n << 64n)) % (1n << 64n), 0);
    key.write(suffix, 8);
    return key;
  };
  const rules = { tokenOf, tombstoneGraceMs: 86_400_000, nowMs: Date.now() };
  await fc.assert(
    fc.asyncProperty(token, token, fc.integer({ min: 0, max: 5 }), fc.array(token, { maxLength: 200 }), async (start, end, depth, randomTokens) => {
      const range: TokenRange = { start, end };
      const leaves = 1 << depth;
      const edges = Array.from({ length: leaves }, (_, i) => leafRange(range, depth, i).end).flatMap((edge) => [edge - 1n, edge, edge + 1n]);
      const engine = new MemoryStorageEngine(tokenOf);
      await engine.apply(
        [...randomTokens, ...edges].map((at, i) => ({ key: keyAt(at, `-${i}`), value: Buffer.from('v'), version: { stamp: BigInt(i + 1), nodeId: 'n' }, expiresAtMs: 0 })),
      );
      const tree = await buildMerkleTree(engine, range, depth, rules);
      for (let leaf = 0; leaf < tree.leaves.length; leaf++) {
        const alone = await buildMerkleTree(engine, leafRange(range, Math.log2(tree.leaves.length), leaf), 0, rules);
        assert.ok(alone.leaves[0]!.equals(tree.leaves[leaf]!), `leaf ${leaf} of ${tree.leaves.length}`);
      }
    }),
    { numRuns: 100 },
  );
});

it('equal records give equal roots; one newer version changes the root and one leaf', async () => {
  const rules = { tokenOf: testTokenOf, tombstoneGraceMs: 86_400_000, nowMs: Date.now() };
  const a = new MemoryStorageEngine(testTokenOf);
  const b = new MemoryStorageEngine(testTokenOf);
  const records = Array.from({ length: 500 }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from('v'),
    version: { stamp: BigInt(1000 + i) << 16n, nodeId: 'n' },
    expiresAtMs: 0,
  }));
  await a.apply(records);
  await b.apply([...records].reverse());
  const treeA = await buildMerkleTree(a, FULL_RING, 6, rules);
  assert.ok(treeA.root.equals((await buildMerkleTree(b, FULL_RING, 6, rules)).root));
  assert.equal(treeA.records, 500);
  await b.apply([{ ...records[7]!, version: { stamp: records[7]!.version.stamp + 1n, nodeId: 'n' } }]);
  const treeB = await buildMerkleTree(b, FULL_RING, 6, rules);
  assert.ok(!treeA.root.equals(treeB.root));
  assert.equal(treeA.leaves.filter((leaf, i) => !leaf.equals(treeB.leaves[i]!)).length, 1);
  // A tombstone past its grace period is not fingerprinted: replicas purge at different times.
  const purgeRules = { ...rules, tombstoneGraceMs: 1, nowMs: Date.now() + 1_000 };
  const c = new MemoryStorageEngine(testTokenOf);
  await c.apply([{ key: Buffer.from('gone'), value: null, version: { stamp: BigInt(Date.now() - 1_000) << 16n, nodeId: 'n' }, expiresAtMs: 0 }]);
  const emptyTree = await buildMerkleTree(new MemoryStorageEngine(testTokenOf), FULL_RING, 4, purgeRules);
  assert.ok((await buildMerkleTree(c, FULL_RING, 4, purgeRules)).root.equals(emptyTree.root));
});

/** Four ranges covering the ring, each replicated on all three nodes. */
const QUARTERS = [0n, 1n << 62n, 2n << 62n, 3n << 62n].map((start, i, all) => ({
  range: { start, end: all[(i + 1) % all.length]! },
  replicas: ['node-0', 'node-1', 'node-2'],
}));

function antiEntropyOf(cluster: MemoryCluster, nodeId: string, liveness?: FailureDetector, timing: { rangesPerSecond?: number; clock?: ManualClock } = {}): AntiEntropy {
  const node = cluster.node(nodeId);
  return new AntiEntropy({
    nodeId,
    local: { merkleTree: (r, d) => node.replica.merkleTree(r, d), scan: (r, l, c) => node.replica.scan(r, l, c), apply: (records) => node.replica.apply(records) },
    transport: node.transport,
    ranges: () => QUARTERS,
    ...(liveness ? { liveness } : {}),
    logger: silentLogger,
    depth: 5,
    tokenOf: testTokenOf,
    rangesPerSecond: timing.rangesPerSecond ?? 1_000,
    ...(timing.clock ? { clock: timing.clock } : {}),
  });
}

async function roots(cluster: MemoryCluster): Promise<string[][]> {
  return Promise.all(cluster.nodes.map(async (node) => Promise.all(QUARTERS.map(async (q) => (await node.replica.merkleTree(q.range, 5)).root.toString('hex')))));
}

it('one repair pass converges diverged replicas, streaming only the differing keys', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  try {
    for (let i = 0; i < 200; i++) await cluster.node('node-0').coordinator.put(Buffer.from(`common-${i}`), Buffer.from('v'), { w: 3 });
    // node-2 misses 30 writes and 5 deletes; node-1 alone gets 10 writes.
    cluster.network.disconnect('node-2');
    for (let i = 0; i < 30; i++) await cluster.node('node-0').coordinator.put(Buffer.from(`missed-${i}`), Buffer.from('v'), { w: 2 });
    for (let i = 0; i < 5; i++) await cluster.node('node-0').coordinator.delete(Buffer.from(`common-${i}`), { w: 2 });
    await cluster.settle();
    cluster.network.reconnect('node-2');
    await cluster.node('node-1').replica.apply(
      Array.from({ length: 10 }, (_, i) => ({ key: Buffer.from(`only-1-${i}`), value: Buffer.from('x'), version: { stamp: cluster.node('node-1').clock.now(), nodeId: 'node-1' }, expiresAtMs: 0 })),
    );
    const before = await roots(cluster);
    assert.notDeepEqual(before[0], before[2]);

    const report: RepairReport = await antiEntropyOf(cluster, 'node-0').repair();
    assert.equal(report.rangesCompared, 8, 'four ranges with two peers each');
    assert.ok(report.rangesMismatched > 0);
    // Per range node-0 compares with node-1 first (pulling node-1's keys), then with
    // node-2: pulled = node-1's 10 keys; pushed = to node-2 the 30 missed writes, the 5
    // deletes and the 10 keys just pulled — never any of the 195 keys all replicas held.
    assert.equal(report.keysPulled, 10);
    assert.equal(report.keysPushed, 45);

    const after = await roots(cluster);
    assert.deepEqual(after[1], after[0]);
    assert.deepEqual(after[2], after[0]);
    for (let i = 0; i < 5; i++) assert.equal(cluster.node('node-2').engine.get(Buffer.from(`common-${i}`))?.value, null, 'the delete reached node-2');
    const again = await antiEntropyOf(cluster, 'node-1').repair();
    assert.equal(again.rangesMismatched, 0);
    assert.equal(again.keysPulled + again.keysPushed, 0);
  } finally {
    await cluster.close();
  }
});

it('a down peer is skipped, not waited on', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  try {
    const detector = new FailureDetector({ downAfterFailures: 1 });
    detector.recordFailure('node-2');
    const report = await antiEntropyOf(cluster, 'node-0', detector).repair();
    assert.equal(report.peersSkipped, 4);
    assert.equal(report.rangesCompared, 4);
  } finally {
    await cluster.close();
  }
});

it('a paced pass spends 1/rangesPerSecond on each range, on virtual time', async () => {
  const clock = new ManualClock();
  const cluster = new MemoryCluster({ nodes: 3, clock });
  try {
    const antiEntropy = antiEntropyOf(cluster, 'node-0', undefined, { rangesPerSecond: 10, clock });
    let finished: RepairReport | undefined;
    void antiEntropy.repair().then((report) => (finished = report));
    // A function, so the compiler does not take the first look for the last.
    const reportNow = (): RepairReport | undefined => finished;
    // Four ranges at 10 per second: 100 ms each, the last one's included.
    await clock.advance(399);
    assert.equal(reportNow(), undefined, 'still pacing');
    await clock.advance(1);
    assert.equal(reportNow()?.rangesCompared, 8);
    assert.equal(reportNow()?.elapsedMs, 400);
    await antiEntropy.close();
  } finally {
    await cluster.close();
  }
});

