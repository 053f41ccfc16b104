// The memtable keeps each key's fields in typed-array columns (memtable-columns.ts, ADR
// 0253) rather than an object per key: every field reads back as written after the
// columns have grown many times, last-writer-wins compares stamps and then node ids in
// the columns as it does on version objects, an overwrite replaces every field of its
// slot, and a stamp the columns cannot hold is refused instead of wrapped.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Memtable, mapKeyOf } from '../../src/storage/engine/memtable.js';
import { compareVersions, type KvRecord, type Version } from '../../src/storage/record.js';
import { testTokenOf } from '../support/test-token.js';

function recordFor(n: number, version: Version): KvRecord {
  return {
    key: Buffer.from(`key-${n}`),
    value: n % 7 === 3 ? null : Buffer.alloc(n % 50, n % 251),
    version,
    expiresAtMs: n % 5 === 0 ? 1_700_000_000_000 + n : 0,
  };
}

describe('memtable columns', () => {
  it('reads every field back as written after the columns grew, for fresh keys and overwrites', async () => {
    const memtable = new Memtable();
    const count = 10_000;
    // Stamps across the whole u64 range and a few node ids, including the extremes.
    const versionOf = (n: number, round: number): Version => ({ stamp: (n === 1 ? (1n << 64n) - 2n : BigInt(n) << 40n) + BigInt(round), nodeId: `node-${(n + round) % 4}` });
    for (let n = 0; n < count; n++) assert.ok(memtable.put(recordFor(n, versionOf(n, 0))));
    // Every third key overwritten with a newer version and other bytes.
    for (let n = 0; n < count; n += 3) assert.ok(memtable.put({ ...recordFor(n + 1, versionOf(n, 1)), key: Buffer.from(`key-${n}`) }));
    assert.equal(memtable.size, count);
    for (let n = 0; n < count; n++) {
      const round = n % 3 === 0 ? 1 : 0;
      const written = round === 1 ? { ...recordFor(n + 1, versionOf(n, 1)), key: Buffer.from(`key-${n}`) } : recordFor(n, versionOf(n, 0));
      assert.deepEqual(memtable.get(written.key), written, `key-${n}`);
      assert.deepEqual(memtable.versionOf(mapKeyOf(written.key)), written.version);
    }
    const ordered = await memtable.inTokenOrder(testTokenOf);
    assert.equal(ordered.size, count);
    assert.deepEqual(new Set([...memtable.values()].map((record) => record.key.toString())), new Set(Array.from({ length: count }, (_, n) => `key-${n}`)));
  });

  it('decides last writer wins by stamp, then by node id, as compareVersions does', () => {
    const memtable = new Memtable();
    const key = 'contested';
    const put = (stamp: bigint, nodeId: string): boolean => memtable.put({ key: Buffer.from(key), value: Buffer.from(`${stamp}-${nodeId}`), version: { stamp, nodeId }, expiresAtMs: 0 });
    assert.ok(put(10n, 'node-b'));
    assert.equal(put(10n, 'node-b'), false, 'the same version is no newer');
    assert.equal(put(10n, 'node-a'), false, 'an equal stamp from a smaller node id loses');
    assert.equal(put(9n, 'node-z'), false, 'an older stamp loses whatever its node id');
    assert.ok(put(10n, 'node-c'), 'an equal stamp from a greater node id wins');
    assert.ok(put(11n, 'node-a'), 'a newer stamp wins whatever its node id');
    const held = memtable.get(Buffer.from(key))!;
    assert.equal(held.value!.toString(), '11-node-a');
    assert.equal(compareVersions(held.version, { stamp: 11n, nodeId: 'node-a' }), 0);
  });

  it('refuses a stamp outside 64 bits instead of wrapping it', () => {
    const memtable = new Memtable();
    const record = (stamp: bigint): KvRecord => ({ key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp, nodeId: 'n' }, expiresAtMs: 0 });
    assert.throws(() => memtable.put(record(1n << 64n)), /stamp outside 64 bits/);
    assert.throws(() => memtable.put(record(-1n)), /stamp outside 64 bits/);
    assert.ok(memtable.put(record((1n << 64n) - 1n)));
    assert.equal(memtable.get(Buffer.from('k'))!.version.stamp, (1n << 64n) - 1n);
  });
});
