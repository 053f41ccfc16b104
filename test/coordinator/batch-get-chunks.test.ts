// The chunk sizing of a BatchGet bounded in answer bytes (src/coordinator/batch-get-chunks.ts):
// a first chunk that cannot pass the budget whatever the values, later chunks from the
// mean item seen, never 0 while keys and bytes are left, never more than the keys left.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextChunkKeys } from '../../src/coordinator/batch-get-chunks.js';
import { BATCH_GET_RESPONSE_BYTES_MAX, KEY_BYTES_MAX_DEFAULT, VALUE_BYTES_MAX_CEILING, VALUE_BYTES_MAX_DEFAULT } from '../../src/limits.js';

const MIB = 1024 * 1024;
const BUDGET = BATCH_GET_RESPONSE_BYTES_MAX;
const DEFAULT_ITEM = KEY_BYTES_MAX_DEFAULT + VALUE_BYTES_MAX_DEFAULT;

test('the first chunk holds the keys that fit the budget if every value were at the limit', () => {
  // 8 MiB / (1 KiB + 1 MiB) = 7.99: seven items of the largest size fit.
  assert.equal(nextChunkKeys({ keysLeft: 1000, bytesLeft: BUDGET, itemsSeen: 0, bytesSeen: 0, itemBytesMax: DEFAULT_ITEM }), 7);
  assert.equal(nextChunkKeys({ keysLeft: 1000, bytesLeft: BUDGET, itemsSeen: 0, bytesSeen: 0, itemBytesMax: 1900 + VALUE_BYTES_MAX_CEILING }), 2);
  // A cluster configured for small values reads every key at once.
  assert.equal(nextChunkKeys({ keysLeft: 1000, bytesLeft: BUDGET, itemsSeen: 0, bytesSeen: 0, itemBytesMax: 1024 + 1024 }), 1000);
  assert.equal(nextChunkKeys({ keysLeft: 3, bytesLeft: BUDGET, itemsSeen: 0, bytesSeen: 0, itemBytesMax: DEFAULT_ITEM }), 3);
});

test('a later chunk is the bytes left over the mean item seen, so small values take one more chunk for every key left', () => {
  // Seven items of 110 bytes: the 993 keys left fit many times over.
  assert.equal(nextChunkKeys({ keysLeft: 993, bytesLeft: BUDGET - 770, itemsSeen: 7, bytesSeen: 770, itemBytesMax: DEFAULT_ITEM }), 993);
  // Items of 100 kB: about 80 more fill the budget.
  const seen = 7 * 100_000;
  assert.equal(nextChunkKeys({ keysLeft: 993, bytesLeft: BUDGET - seen, itemsSeen: 7, bytesSeen: seen, itemBytesMax: DEFAULT_ITEM }), Math.floor((BUDGET - seen) / 100_000));
  // The mean, not the largest: one 1 MiB item among six absent keys of 10 bytes.
  const mixed = MIB + 60;
  assert.equal(nextChunkKeys({ keysLeft: 993, bytesLeft: BUDGET - mixed, itemsSeen: 7, bytesSeen: mixed, itemBytesMax: DEFAULT_ITEM }), Math.floor((BUDGET - mixed) / (mixed / 7)));
});

test('a chunk is at least one key while bytes are left, and none once the budget or the keys are used', () => {
  // Less than one mean item left: one key, which the caller keeps only if it fits.
  assert.equal(nextChunkKeys({ keysLeft: 10, bytesLeft: 1000, itemsSeen: 2, bytesSeen: 6 * MIB, itemBytesMax: DEFAULT_ITEM }), 1);
  assert.equal(nextChunkKeys({ keysLeft: 10, bytesLeft: 0, itemsSeen: 8, bytesSeen: BUDGET, itemBytesMax: DEFAULT_ITEM }), 0);
  assert.equal(nextChunkKeys({ keysLeft: 10, bytesLeft: -5, itemsSeen: 8, bytesSeen: BUDGET + 5, itemBytesMax: DEFAULT_ITEM }), 0);
  assert.equal(nextChunkKeys({ keysLeft: 0, bytesLeft: BUDGET, itemsSeen: 0, bytesSeen: 0, itemBytesMax: DEFAULT_ITEM }), 0);
  // Items of zero bytes cannot make the division infinite.
  assert.equal(nextChunkKeys({ keysLeft: 500, bytesLeft: BUDGET, itemsSeen: 4, bytesSeen: 0, itemBytesMax: DEFAULT_ITEM }), 500);
});

test('for any sizes the chunk stays within 1..keysLeft, and the first chunk never plans past the budget', () => {
  for (let trial = 0; trial < 2000; trial++) {
    const keysLeft = 1 + Math.floor(Math.random() * 1000);
    const bytesLeft = 1 + Math.floor(Math.random() * BUDGET);
    const itemsSeen = Math.floor(Math.random() * 50);
    const bytesSeen = itemsSeen === 0 ? 0 : Math.floor(Math.random() * itemsSeen * 3 * MIB);
    const itemBytesMax = 2 + Math.floor(Math.random() * (3 * MIB + 1900));
    const keys = nextChunkKeys({ keysLeft, bytesLeft, itemsSeen, bytesSeen, itemBytesMax });
    const sizing = JSON.stringify({ keysLeft, bytesLeft, itemsSeen, bytesSeen, itemBytesMax });
    assert.ok(Number.isInteger(keys) && keys >= 1 && keys <= keysLeft, `${keys} keys for ${sizing}`);
    if (itemsSeen === 0 && keys > 1) assert.ok(keys * itemBytesMax <= bytesLeft, `a first chunk of ${keys} can pass the budget: ${sizing}`);
  }
});
