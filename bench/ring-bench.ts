// Ring benchmark (`npm run bench:ring`): preference-list lookups per second (N = 3) for
// 10, 100 and 1000 nodes × 256 vnodes, and the time to build a 1000 × 256 ring. It
// prints each figure beside its target and says whether the target was met; timing is
// never asserted in tests because shared machines make it noisy.
//
// Lookups are measured twice: by token (the ring alone: binary search + cached list)
// and by key (xxHash64 of a 10-byte key first, the full cost on the request path).
import { performance } from 'node:perf_hooks';
import { HashRing } from '../src/ring/hash-ring.js';
import { loadXxHash64 } from '../src/ring/token-hasher.js';

const VNODES = 256;
const REPLICATION_FACTOR = 3;
const NODE_COUNTS = [10, 100, 1000] as const;
const DISTINCT_KEYS = 100_000;
const LOOKUP_ROUNDS = 20;
const BUILD_RUNS = 7;
const LOOKUPS_PER_SECOND_TARGET = 1_000_000;
const LOOKUP_TARGET_NODES = 100;
const BUILD_MS_TARGET = 200;

function members(count: number): Array<{ id: string }> {
  return Array.from({ length: count }, (_, index) => ({ id: `quorumkv-${index}` }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function verdict(met: boolean): string {
  return met ? 'target met' : 'TARGET MISSED';
}

function format(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

const hash = await loadXxHash64();
const keys = Array.from({ length: DISTINCT_KEYS }, (_, index) => Buffer.from(`user:${String(index).padStart(5, '0')}`));
const tokens = keys.map((key) => hash.bytes(key));

console.log(`ring benchmark: ${VNODES} vnodes per node, N = ${REPLICATION_FACTOR}, ${DISTINCT_KEYS} distinct keys, node ${process.version}`);
console.log('');
console.log('nodes   build ms   lookups/s by token   lookups/s by key');

const lookupRates = new Map<number, number>();
for (const nodeCount of NODE_COUNTS) {
  const buildStart = performance.now();
  const ring = HashRing.build(members(nodeCount), { vnodes: VNODES, replicationFactor: REPLICATION_FACTOR }, hash);
  const buildMs = performance.now() - buildStart;

  // One pass fills the per-range list cache and lets the JIT settle; the timed rounds follow.
  let replicas = 0;
  for (const token of tokens) replicas += ring.preferenceListForToken(token).length;

  const tokenStart = performance.now();
  for (let round = 0; round < LOOKUP_ROUNDS; round++) {
    for (const token of tokens) replicas += ring.preferenceListForToken(token).length;
  }
  const byToken = (LOOKUP_ROUNDS * DISTINCT_KEYS) / ((performance.now() - tokenStart) / 1000);

  const keyStart = performance.now();
  for (let round = 0; round < LOOKUP_ROUNDS; round++) {
    for (const key of keys) replicas += ring.preferenceListForKey(key).length;
  }
  const byKey = (LOOKUP_ROUNDS * DISTINCT_KEYS) / ((performance.now() - keyStart) / 1000);

  // Using the sum keeps the loops from being optimised away and checks the lists' length.
  if (replicas !== (1 + 2 * LOOKUP_ROUNDS) * DISTINCT_KEYS * REPLICATION_FACTOR) throw new Error('wrong preference list length');
  lookupRates.set(nodeCount, byKey);
  console.log(`${String(nodeCount).padStart(5)}   ${buildMs.toFixed(1).padStart(8)}   ${format(byToken).padStart(18)}   ${format(byKey).padStart(16)}`);
}

const buildTimes: number[] = [];
for (let run = 0; run < BUILD_RUNS; run++) {
  const start = performance.now();
  HashRing.build(members(1000), { vnodes: VNODES, replicationFactor: REPLICATION_FACTOR }, hash);
  buildTimes.push(performance.now() - start);
}
const buildMedianMs = median(buildTimes);
const lookupRate = lookupRates.get(LOOKUP_TARGET_NODES)!;

console.log('');
console.log(
  `lookups by key at ${LOOKUP_TARGET_NODES} nodes: ${format(lookupRate)}/s, target >= ${format(LOOKUPS_PER_SECOND_TARGET)}/s ` +
    `(${(lookupRate / LOOKUPS_PER_SECOND_TARGET).toFixed(2)}x): ${verdict(lookupRate >= LOOKUPS_PER_SECOND_TARGET)}`,
);
console.log(
  `build 1000 x ${VNODES}: median ${buildMedianMs.toFixed(1)} ms of ${BUILD_RUNS} (min ${Math.min(...buildTimes).toFixed(1)}, max ${Math.max(...buildTimes).toFixed(1)}), ` +
    `target < ${BUILD_MS_TARGET} ms (${(buildMedianMs / BUILD_MS_TARGET).toFixed(2)}x of budget): ${verdict(buildMedianMs < BUILD_MS_TARGET)}`,
);
