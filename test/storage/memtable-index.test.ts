// The memtable's scan index (src/storage/engine/memtable.ts) when keys leave it through a
// discard: stale entries are skipped and compacted away, a key put again is indexed once,
// and a key noted for the next scan and removed before it is not indexed at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Memtable, mapKeyOf } from '../../src/storage/engine/memtable.js';
import type { KvRecord } from '../../src/storage/record.js';
import { testTokenOf } from '../support/test-token.js';

function put(memtable: Memtable, key: string, stamp = 1n): void {
  const record: KvRecord = { key: Buffer.from(key), value: Buffer.from('v'), version: { stamp, nodeId: 'n' }, expiresAtMs: 0 };
  assert.ok(memtable.put(record));
}

function remove(memtable: Memtable, key: string): boolean {
  const buffer = Buffer.from(key);
  return memtable.remove(mapKeyOf(buffer), memtable.isIndexed(testTokenOf(buffer), buffer));
}

/** The keys of the index that still hold a record, in index order, and the index length. */
function indexed(memtable: Memtable): { live: string[]; length: number } {
  const index = memtable.ordered(testTokenOf);
  return { live: index.filter((entry) => memtable.get(entry.key, entry.mapKey) !== undefined).map((entry) => entry.key.toString()), length: index.length };
}

describe('memtable scan index with removed keys', () => {
  it('skips a removed key, indexes it once when put again, and compacts stale entries', () => {
    const memtable = new Memtable();
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const key of keys) put(memtable, key);
    assert.equal(indexed(memtable).length, 40);
    assert.ok(memtable.isIndexed(testTokenOf(Buffer.from('k3')), Buffer.from('k3')));
    assert.equal(remove(memtable, 'k3'), true);
    assert.equal(remove(memtable, 'k3'), false, 'a key already gone');
    // One stale entry in 40 stays until they are an eighth of the index.
    assert.equal(indexed(memtable).length, 40);
    assert.equal(indexed(memtable).live.length, 39);
    assert.ok(!indexed(memtable).live.includes('k3'));
    put(memtable, 'k3', 2n);
    assert.equal(indexed(memtable).length, 40, 'put again: its stale entry is valid again, not a second one');
    assert.equal(indexed(memtable).live.filter((key) => key === 'k3').length, 1);
    for (const key of keys.slice(0, 5)) remove(memtable, key);
    assert.equal(indexed(memtable).length, 35, 'five stale entries of 40 are compacted away');
    assert.equal(memtable.size, 35);
  });

  it('drops a key noted for the next scan and removed before it, and notes it once when put again', () => {
    const memtable = new Memtable();
    put(memtable, 'a');
    indexed(memtable);
    put(memtable, 'noted');
    assert.equal(memtable.isIndexed(testTokenOf(Buffer.from('noted')), Buffer.from('noted')), false);
    remove(memtable, 'noted');
    assert.deepEqual(indexed(memtable), { live: ['a'], length: 1 });
    put(memtable, 'again');
    remove(memtable, 'again');
    put(memtable, 'again', 2n);
    const { live, length } = indexed(memtable);
    assert.deepEqual([...live].sort(), ['a', 'again']);
    assert.equal(length, 2, 'noted twice, indexed once');
  });
});
