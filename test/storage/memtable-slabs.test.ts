// The memtable keeps key and value bytes in shared slabs (src/storage/engine/memtable.ts,
// memtable-slab.ts): every record reads back as written after many slabs have filled,
// large records and tombstones included; a view handed out stays valid while later
// records are put; the caller's buffers may be reused at once; and the bytes of an
// overwritten version stay counted until the memtable is dropped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Memtable, MEMTABLE_ENTRY_OVERHEAD_BYTES, mapKeyOf } from '../../src/storage/engine/memtable.js';
import { MEMTABLE_SLAB_BYTES } from '../../src/storage/engine/memtable-slab.js';
import type { KvRecord } from '../../src/storage/record.js';

/** Record n: value sizes cycle through small, empty, a tombstone, and sizes that get a buffer of their own. */
function recordFor(n: number, stamp = 1n): KvRecord {
  const key = Buffer.from(`key-${n}`);
  const sizes = [100, 0, -1, 7, MEMTABLE_SLAB_BYTES / 8, MEMTABLE_SLAB_BYTES + 3, 999];
  const size = sizes[n % sizes.length]!;
  const value = size < 0 ? null : Buffer.alloc(size, n % 251);
  return { key, value, version: { stamp, nodeId: `node-${n % 3}` }, expiresAtMs: n % 5 === 0 ? 1_000 + n : 0 };
}

describe('memtable slabs', () => {
  it('reads every record back as written after many slabs filled, and lets the caller reuse its buffers', () => {
    const memtable = new Memtable();
    const count = 5_000;
    const early = [];
    for (let n = 0; n < count; n++) {
      const record = recordFor(n);
      assert.ok(memtable.put(record));
      if (n < 10) early.push(memtable.get(record.key));
      // The caller reuses its buffers at once: the memtable holds copies.
      record.key.fill(0);
      record.value?.fill(0xff);
    }
    assert.equal(memtable.size, count);
    for (let n = 0; n < count; n++) assert.deepEqual(memtable.get(Buffer.from(`key-${n}`)), recordFor(n), `record ${n}`);
    // Views handed out before thousands of later puts still show what was put.
    early.forEach((record, n) => assert.deepEqual(record, recordFor(n), `early view ${n}`));
    const listed = [...memtable.values()].sort((a, b) => Number(a.key.toString().slice(4)) - Number(b.key.toString().slice(4)));
    assert.deepEqual(listed, Array.from({ length: count }, (_, n) => recordFor(n)));
    assert.deepEqual(memtable.versionOf(mapKeyOf(Buffer.from('key-3'))), recordFor(3).version);
    assert.equal(memtable.versionOf(mapKeyOf(Buffer.from('absent'))), undefined);
  });

  it('counts an overwritten version until the memtable is dropped, and a removal only by its entry', () => {
    const memtable = new Memtable();
    const first: KvRecord = { key: Buffer.from('k'), value: Buffer.alloc(50), version: { stamp: 1n, nodeId: 'a' }, expiresAtMs: 0 };
    assert.ok(memtable.put(first));
    assert.equal(memtable.bytes, MEMTABLE_ENTRY_OVERHEAD_BYTES + 51);
    assert.ok(memtable.put({ ...first, value: Buffer.alloc(20), version: { stamp: 2n, nodeId: 'a' } }));
    assert.equal(memtable.bytes, MEMTABLE_ENTRY_OVERHEAD_BYTES + 51 + 21, 'the first version still lies in its slab');
    assert.equal(memtable.put(first), false, 'an older version is refused');
    assert.equal(memtable.bytes, MEMTABLE_ENTRY_OVERHEAD_BYTES + 72, 'and copies nothing');
    assert.ok(memtable.remove(mapKeyOf(first.key), false));
    assert.equal(memtable.bytes, 72);
    assert.equal(memtable.get(first.key), undefined);
  });
});
