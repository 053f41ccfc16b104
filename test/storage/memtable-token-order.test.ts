// A checkpoint writes the memtable in the store's key order, (token, key), so that each
// chunk dirties one stretch of LMDB's pages (src/storage/engine/memtable-token-order.ts,
// ADR 0235): every entry comes out once, in that order across all chunks, no chunk over
// its limit, ties of equal tokens broken by the key bytes; and an engine's checkpoint
// keeps every record readable, expired ones as tombstones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/bench/key-chooser.js';
import { decodeCheckpointChunk, encodeCheckpointChunk } from '../../src/storage/engine/checkpoint-chunk.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { Memtable } from '../../src/storage/engine/memtable.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { KvRecord } from '../../src/storage/record.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

function put(key: string, stamp: bigint, expiresAtMs = 0): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(`value of ${key}`), version: { stamp, nodeId: 'n1' }, expiresAtMs };
}

/** Every store key a checkpoint of `records` would write, chunk after chunk, with the chunk sizes. */
async function storeKeysInWriteOrder(records: readonly KvRecord[], tokenOf: (key: Buffer) => bigint, chunkMax: number): Promise<{ storeKeys: Buffer[]; chunkSizes: number[] }> {
  const memtable = new Memtable();
  for (const record of records) memtable.put(record);
  const ordered = await memtable.inTokenOrder(tokenOf);
  const storeKeys: Buffer[] = [];
  const chunkSizes: number[] = [];
  for (const { from, to } of ordered.sortedRanges(chunkMax)) {
    const entries = decodeCheckpointChunk(encodeCheckpointChunk(ordered, from, to, 0));
    chunkSizes.push(entries.length);
    storeKeys.push(...entries.map((entry) => entry.storeKey));
  }
  return { storeKeys, chunkSizes };
}


function assertStrictlyAscending(storeKeys: readonly Buffer[]): void {
  for (let index = 1; index < storeKeys.length; index++) {
    assert.ok(Buffer.compare(storeKeys[index - 1]!, storeKeys[index]!) < 0, `store key ${index} is not after the one before it`);
  }
}

describe('a memtable in token order', () => {
  it('hands out every entry once, in (token, key) order across chunks of at most the limit', async () => {
    const records = Array.from({ length: 20_000 }, (_, index) => put(`key-${index}`, BigInt(index + 1)));
    const { storeKeys, chunkSizes } = await storeKeysInWriteOrder(records, testTokenOf, 3000);
    assert.equal(storeKeys.length, records.length);
    assertStrictlyAscending(storeKeys);
    assert.ok(chunkSizes.every((size) => size >= 1 && size <= 3000), `chunk sizes ${chunkSizes.join(',')}`);
    // Whole buckets are packed into a chunk while they fit: no flood of small chunks.
    assert.ok(chunkSizes.length <= Math.ceil(records.length / 3000) * 2, `${chunkSizes.length} chunks`);
    const written = new Set(storeKeys.map((storeKey) => storeKey.subarray(8).toString()));
    assert.equal(written.size, records.length);
  });

  it('orders keys of equal tokens by their bytes, and splits a bucket larger than a chunk', async () => {
    // Four tokens for 5000 keys: every bucket but four is empty, and those four hold
    // more than a chunk each; within a token the key bytes decide.
    const fewTokens = (key: Buffer): bigint => BigInt(key[key.length - 1]! % 4) << 62n;
    const records = Array.from({ length: 5000 }, (_, index) => put(`k${String(index).padStart(5, '0')}`, 1n));
    const { storeKeys, chunkSizes } = await storeKeysInWriteOrder(records, fewTokens, 700);
    assert.equal(storeKeys.length, records.length);
    assertStrictlyAscending(storeKeys);
    assert.ok(chunkSizes.every((size) => size <= 700));
  });

  it('sorts no more than a chunk at once when the tokens crowd into one bucket, as a streamed range does', async () => {
    // A node that receives one token range (a bootstrap or a repair stream) fills its
    // memtable with keys whose tokens lie in a narrow stretch of the ring: the buckets,
    // spread over the whole ring, put them all into one or two. One sort of all of them
    // is the event-loop stall bucketing exists to avoid (150-300 ms for 200 000 entries).
    const start = 1n << 60n;
    const crowded = (key: Buffer): bigint => start + (testTokenOf(key) >> 24n);
    const records = Array.from({ length: 40_000 }, (_, index) => put(`key-${index}`, BigInt(index + 1)));
    // Two more crowds far apart, and the two ends of the token space.
    records.push(put('edge-low', 1n), put('edge-high', 1n));
    const edges = (key: Buffer): bigint => {
      const name = key.toString();
      if (name === 'edge-low') return 0n;
      if (name === 'edge-high') return (1n << 64n) - 1n;
      const token = crowded(key);
      return key[key.length - 1]! % 2 === 0 ? token : token + (1n << 62n);
    };
    const memtable = new Memtable();
    for (const record of records) memtable.put(record);
    const ordered = await memtable.inTokenOrder(edges);
    const storeKeys: Buffer[] = [];
    for (const { from, to } of ordered.sortedRanges(8192)) {
      storeKeys.push(...decodeCheckpointChunk(encodeCheckpointChunk(ordered, from, to, 0)).map((entry) => entry.storeKey));
    }
    assert.equal(storeKeys.length, records.length);
    assertStrictlyAscending(storeKeys);
    assert.ok(ordered.largestSortEntries <= 8192, `one sort covered ${ordered.largestSortEntries} entries`);
  });

  it('hands out every entry once and in order whatever the tokens: crowds of any width, shared tokens, the two ends', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = seededRandom(seed);
      // A few crowds, each a random width (2^0 to 2^63) at a random place; some keys share a token.
      const crowds = Array.from({ length: 1 + Math.floor(next() * 4) }, () => ({
        at: BigInt(Math.floor(next() * 2 ** 52)) << 12n,
        widthBits: BigInt(Math.floor(next() * 64)),
      }));
      const tokens = new Map<string, bigint>();
      const count = Math.floor(next() * 6000);
      const records = Array.from({ length: count }, (_, index) => put(`key-${index}`, 1n));
      for (const record of records) {
        const roll = next();
        const crowd = crowds[Math.floor(next() * crowds.length)]!;
        const offset = testTokenOf(record.key) & ((1n << crowd.widthBits) - 1n);
        const token = roll < 0.02 ? 0n : roll < 0.04 ? (1n << 64n) - 1n : roll < 0.1 ? crowd.at : (crowd.at + offset) % (1n << 64n);
        tokens.set(record.key.toString(), token);
      }
      const tokenOf = (key: Buffer): bigint => tokens.get(key.toString())!;
      const chunkMax = [1, 7, 100, 700, 8192][Math.floor(next() * 5)]!;
      const memtable = new Memtable();
      for (const record of records) memtable.put(record);
      const ordered = await memtable.inTokenOrder(tokenOf);
      const storeKeys: Buffer[] = [];
      for (const { from, to } of ordered.sortedRanges(chunkMax)) {
        assert.ok(to - from >= 1 && to - from <= chunkMax, `seed ${seed}: a chunk of ${to - from}`);
        storeKeys.push(...decodeCheckpointChunk(encodeCheckpointChunk(ordered, from, to, 0)).map((entry) => entry.storeKey));
      }
      assert.equal(storeKeys.length, records.length, `seed ${seed}`);
      assertStrictlyAscending(storeKeys);
      // A sort may take more than a chunk only when more than a chunk of keys share one
      // token as a double (the split cannot tell them apart).
      const sharing = new Map<number, number>();
      for (const token of tokens.values()) sharing.set(Number(token), (sharing.get(Number(token)) ?? 0) + 1);
      if (Math.max(0, ...sharing.values()) <= chunkMax) {
        assert.ok(ordered.largestSortEntries <= chunkMax, `seed ${seed}: one sort of ${ordered.largestSortEntries} for chunks of ${chunkMax}`);
      }
    }
  });

  it('is empty for an empty memtable', async () => {
    const { storeKeys, chunkSizes } = await storeKeysInWriteOrder([], testTokenOf, 10);
    assert.deepEqual(storeKeys, []);
    assert.deepEqual(chunkSizes, []);
  });
});

describe('a checkpoint in token order', () => {
  it('keeps every record readable after the checkpoint and a reopen, expired values as tombstones', async () => {
    const dir = await tempDir();
    const nowMs = 1_000_000;
    const options = { dir, tokenOf: testTokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' } as const, nowMs: () => nowMs };
    const records = Array.from({ length: 12_000 }, (_, index) => put(`key-${index}`, BigInt(index + 1), index % 10 === 0 ? nowMs - 1 : 0));
    let { engine } = await DurableStorageEngine.open(options);
    for (let from = 0; from < records.length; from += 500) await engine.apply(records.slice(from, from + 500));
    await engine.checkpoint();
    await engine.close();
    ({ engine } = await DurableStorageEngine.open(options));
    try {
      for (const [index, record] of records.entries()) {
        const stored = engine.get(record.key);
        assert.deepEqual(stored?.version, record.version, `key ${index}`);
        assert.equal(stored?.value?.toString() ?? null, index % 10 === 0 ? null : `value of key-${index}`, `key ${index}`);
      }
    } finally {
      await engine.close();
    }
  });
});
