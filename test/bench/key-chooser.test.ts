// The key choosers of `qkv bench`: every record number is in range, uniform covers the
// key space evenly, zipfian is skewed the way YCSB's is, and scrambling the zipfian ranks
// is a permutation (no two ranks share a key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKeyChooser, seededRandom, zipfianRanks, ZIPFIAN_CONSTANT } from '../../src/bench/key-chooser.js';
import { keyOf } from '../../src/bench/workload.js';

test('every chosen record is an integer in 0..records-1', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 50_000 }), fc.constantFrom('uniform' as const, 'zipfian' as const), fc.integer(), (records, distribution, seed) => {
      const choose = createKeyChooser(distribution, records, seededRandom(seed));
      for (let i = 0; i < 200; i++) {
        const record = choose();
        assert.ok(Number.isInteger(record) && record >= 0 && record < records, `${record} out of 0..${records - 1}`);
      }
    }),
    { numRuns: 50 },
  );
});

test('uniform keys cover the key space evenly', () => {
  const records = 10;
  const counts = new Array<number>(records).fill(0);
  const choose = createKeyChooser('uniform', records, seededRandom(7));
  for (let i = 0; i < 100_000; i++) counts[choose()]! += 1;
  for (const count of counts) assert.ok(count > 9_000 && count < 11_000, `count ${count} is far from 10000`);
});

test('zipfian ranks follow 1/(i+1)^0.99: rank 0 is hottest and the head dominates', () => {
  const records = 1000;
  let zeta = 0;
  for (let i = 1; i <= records; i++) zeta += 1 / Math.pow(i, ZIPFIAN_CONSTANT);
  const next = zipfianRanks(records, ZIPFIAN_CONSTANT, seededRandom(11));
  const counts = new Array<number>(records).fill(0);
  const draws = 200_000;
  for (let i = 0; i < draws; i++) counts[next()]! += 1;
  const expectedTop = draws / zeta; // ≈ 13% of the draws
  assert.ok(Math.abs(counts[0]! - expectedTop) < expectedTop * 0.1, `rank 0 drawn ${counts[0]} times, expected about ${expectedTop.toFixed(0)}`);
  assert.ok(counts[0]! > counts[1]! && counts[1]! > counts[10]!, 'popularity falls with the rank');
  const head = counts.slice(0, 100).reduce((sum, count) => sum + count, 0);
  assert.ok(head / draws > 0.6, `the top 10% of ranks took ${(head / draws).toFixed(2)} of the draws`);
});

test('scrambled zipfian spreads the hot ranks and keeps them distinct', () => {
  const records = 1000;
  // Each rank maps to one fixed record, so the two most drawn keys are ranks 0 and 1:
  // they must be different keys and, scrambled, not neighbours.
  const picks = new Set<number>();
  const choose = createKeyChooser('zipfian', records, seededRandom(3));
  const counts = new Map<number, number>();
  for (let i = 0; i < 50_000; i++) {
    const record = choose();
    picks.add(record);
    counts.set(record, (counts.get(record) ?? 0) + 1);
  }
  const hottest = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([record]) => record);
  assert.notEqual(hottest[0], hottest[1]);
  assert.ok(Math.abs(hottest[0]! - hottest[1]!) > 1, `the two hottest keys ${hottest.join(', ')} are neighbours`);
  assert.ok(picks.size > 500, `only ${picks.size} distinct keys drawn`);
});

test('keys have one fixed width', () => {
  assert.equal(keyOf(0).toString(), 'user0000000000');
  assert.equal(keyOf(99_999_999).length, keyOf(0).length);
});
