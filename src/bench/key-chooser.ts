// How `qkv bench` picks the record each operation touches: uniform over the key space,
// or zipfian (a few keys are hot, the long tail is cold), as in YCSB.
//
// The zipfian generator is the one YCSB uses (Gray et al., "Quickly Generating
// Billion-Record Synthetic Databases", SIGMOD 1994) with YCSB's constant 0.99: rank 0 is
// the most popular. Like YCSB's "scrambled" variant the ranks are then spread over the
// key space, so the hot keys are not neighbours and land on different ring ranges and
// different nodes; a multiplication by a prime that does not divide the key count is a
// permutation of 0..n-1, cheaper per call than YCSB's FNV hash and still one-to-one.
import assert from 'node:assert/strict';

export const DISTRIBUTIONS = ['uniform', 'zipfian'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** YCSB's default skew. */
export const ZIPFIAN_CONSTANT = 0.99;

/** Returns a record number in 0..records-1 per call. */
export type KeyChooser = () => number;

/** `random` returns a float in [0, 1); tests pass a seeded one. */
export function createKeyChooser(distribution: Distribution, records: number, random: () => number = Math.random): KeyChooser {
  assert.ok(Number.isSafeInteger(records) && records > 0, 'records must be a positive integer');
  if (distribution === 'uniform') return () => Math.floor(random() * records);
  const zipfian = zipfianRanks(records, ZIPFIAN_CONSTANT, random);
  const stride = strideCoprimeTo(records);
  return () => (zipfian() * stride) % records;
}

/** Ranks 0..n-1 with P(rank i) proportional to 1 / (i + 1)^theta. */
export function zipfianRanks(n: number, theta: number, random: () => number): () => number {
  let zetaN = 0;
  for (let i = 1; i <= n; i++) zetaN += 1 / Math.pow(i, theta);
  const zeta2 = 1 + 1 / Math.pow(2, theta);
  const alpha = 1 / (1 - theta);
  const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / zetaN);
  const secondThreshold = 1 + Math.pow(0.5, theta);
  return () => {
    const u = random();
    const uz = u * zetaN;
    if (uz < 1) return 0;
    if (uz < secondThreshold) return Math.min(1, n - 1);
    return Math.min(n - 1, Math.floor(n * Math.pow(eta * u - eta + 1, alpha)));
  };
}

/**
 * A prime not dividing n, so multiplication by it mod n is a permutation. Below 2^24, so
 * rank × stride stays below 2^53 for every record count up to BENCH_RECORDS_MAX (< 2^27)
 * and the arithmetic is exact in a double.
 */
function strideCoprimeTo(n: number): number {
  const primes = [15_485_863, 16_777_213];
  const stride = primes.find((prime) => n % prime !== 0);
  assert.ok(stride !== undefined, 'no stride is coprime to the record count');
  return stride;
}

/** A small seeded generator (mulberry32) for reproducible tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
