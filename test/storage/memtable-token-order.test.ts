// A checkpoint writes the memtable in the store's key order, (token, key), so that each
// chunk dirties one stretch of LMDB's pages (src/storage/engine/memtable-token-order.ts,
// ADR 0235): every entry comes out once, in that order across all chunks, no chunk over
// its limit, ties of equal tokens broken by the key bytes; and an engine's checkpoint
// keeps every record readable, expired ones as tombstones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
