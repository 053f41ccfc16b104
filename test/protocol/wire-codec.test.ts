// The wire codecs refuse what would otherwise become a wrong version or a rounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMilliseconds, decodeRecord, decodeRecordBatch, decodeUint64, encodeRecord } from '../../src/protocol/wire-codec.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';

const bounds = { keyBytesMax: 1024, valueBytesMax: 1024 };

test('uint64 text: every value 0..2^64-1 round-trips; anything else is INVALID_ARGUMENT', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (value) => decodeUint64(value.toString(), 'f') === value));
  for (const bad of ['', '-1', '18446744073709551616', '1e3', ' 1', '0x10', '١٢']) {
    assert.throws(() => decodeUint64(bad, 'f'), { code: 'INVALID_ARGUMENT' }, bad);
  }
  assert.equal(decodeMilliseconds(String(Number.MAX_SAFE_INTEGER), 'ttl_ms'), Number.MAX_SAFE_INTEGER);
  assert.throws(() => decodeMilliseconds(String(2 ** 53), 'ttl_ms'), { code: 'INVALID_ARGUMENT', message: /ttl_ms is too large/ });
});

test('records round-trip through their wire form, tombstones included', () => {
  const record = fc.record({
    key: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    value: fc.option(fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
    version: fc.record({ stamp: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), nodeId: fc.stringMatching(/^[a-z0-9-]{1,20}$/) }),
    expiresAtMs: fc.nat(),
  });
  fc.assert(
    fc.property(record, (original: KvRecord) => {
      const wire = encodeRecord(original);
      // What proto-loader hands a server: defaults filled, longs as strings.
      const output = {
        key: Buffer.from(wire.key as Buffer),
        value: Buffer.from(wire.value as Buffer),
        tombstone: wire.tombstone ?? false,
        version: { stamp: String(wire.version?.stamp), nodeId: wire.version?.nodeId ?? '' },
        expiresAtMs: String(wire.expiresAtMs),
      };
      // fast-check builds prototype-less objects; compare plain copies.
      assert.deepEqual(decodeRecord(output, bounds, 'r'), { ...original, version: { ...original.version } });
    }),
  );
});

test('a record batch names the record whose node id is refused, wherever it is in the batch', () => {
  const record = (nodeId: string): KvRecord => ({ key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: 5n, nodeId }, expiresAtMs: 0 });
  // The writer's node id is checked once per batch; a different one later is checked again.
  assert.equal(decodeRecordBatch(encodeBatch([record('qkv-1'), record('qkv-1'), record('qkv-2')]), bounds, 'batch').length, 3);
  assert.throws(() => decodeRecordBatch(encodeBatch([record('qkv-1'), record('qkv-1'), record('n'.repeat(254))]), bounds, 'batch'), {
    code: 'INVALID_ARGUMENT',
    message: /^batch\[2\]\.version\.node_id is longer than 253 bytes/,
  });
  assert.throws(() => decodeRecordBatch(encodeBatch([record('qkv-1'), record('')]), bounds, 'batch'), {
    code: 'INVALID_ARGUMENT',
    message: /^batch\[1\]\.version\.node_id is empty/,
  });
});
