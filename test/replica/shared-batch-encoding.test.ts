// A write's batch encoding made once and shared by its replicas
// (docs/decisions/0200-batch-encoded-once-per-write.md): every replica's share, and
// every join of shares, must be byte for byte what encoding its records afresh makes, or
// a replica's WAL would log other records than its memtable holds.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { concatBatchEncodings, SharedBatchEncoding } from '../../src/replica/shared-batch-encoding.js';
import { decodeBatch, encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Records of every shape the codec knows: tombstones, expiries, empty values, multi-byte node ids. */
function records(count: number, random: () => number): KvRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = Math.floor(random() * 4);
    const valueBytes = Math.floor(random() * 300);
    return {
      key: Buffer.from(`key-${i}-${'k'.repeat(Math.floor(random() * 40))}`),
      value: shape === 0 ? null : Buffer.alloc(valueBytes, i % 251),
      version: { stamp: BigInt(Math.floor(random() * 2 ** 48)) << 16n, nodeId: shape === 3 ? `nœud-${i % 3}` : 'qkv-1' },
      expiresAtMs: shape === 2 ? 1_800_000_000_000 + i : 0,
    };
  });
}

function ascendingSubset(count: number, random: () => number): number[] {
  const chance = random();
  return Array.from({ length: count }, (_, i) => i).filter(() => random() < chance);
}

it("a replica's share is exactly the batch encoding of its records, for any subset", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = generator(seed);
    const all = records(1 + Math.floor(random() * 120), random);
    const shared = new SharedBatchEncoding(all);
    for (let share = 0; share < 4; share++) {
      const indices = ascendingSubset(all.length, random);
      const expected = encodeBatch(indices.map((i) => all[i]!));
      assert.ok(shared.of(indices).equals(expected), `seed ${seed}, indices ${JSON.stringify(indices)}`);
    }
  }
});

it('a share of every record is the one encoding itself, made once', () => {
  const all = records(50, generator(7));
  const shared = new SharedBatchEncoding(all);
  const everything = all.map((_, i) => i);
  const first = shared.of(everything);
  assert.ok(first.equals(encodeBatch(all)));
  assert.equal(shared.of(everything), first, 'the same buffer for the second replica, not a second encoding');
  assert.deepEqual(decodeBatch(first), all);
});

it('shares of no record and of one record at either end', () => {
  const all = records(10, generator(3));
  const shared = new SharedBatchEncoding(all);
  assert.ok(shared.of([]).equals(encodeBatch([])));
  assert.ok(shared.of([0]).equals(encodeBatch([all[0]!])));
  assert.ok(shared.of([9]).equals(encodeBatch([all[9]!])));
  assert.ok(new SharedBatchEncoding([]).of([]).equals(encodeBatch([])));
});

it('joined encodings are the encoding of the joined records, in order', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const random = generator(seed);
    const parts = Array.from({ length: 1 + Math.floor(random() * 6) }, () => records(Math.floor(random() * 30), random));
    const joined = concatBatchEncodings(parts.map((part) => encodeBatch(part)));
    assert.ok(joined.equals(encodeBatch(parts.flat())), `seed ${seed}`);
  }
});
