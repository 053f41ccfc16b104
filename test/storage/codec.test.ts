// Encode/decode round trips for the WAL frames and records (property tests), and the
// CRC-32C check values every implementation must produce.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32c } from '../../src/storage/crc32c.js';
import type { KvRecord } from '../../src/storage/record.js';
import { decodeBatch, decodeBody, encodeBatch, encodeBody, readRetentionFields, RecordDecodeError } from '../../src/storage/record-codec.js';
import { readSegment } from '../../src/storage/wal/segment-reader.js';
import { encodeSegmentHeader, FRAME_HEADER_BYTES, FrameType, writeFrame } from '../../src/storage/wal/wal-format.js';

export const recordArbitrary: fc.Arbitrary<KvRecord> = fc
  .tuple(
    fc.uint8Array({ minLength: 1, maxLength: 64 }),
    fc.option(fc.uint8Array({ maxLength: 256 }), { nil: null }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  )
  .map(([key, value, stamp, nodeId, expiresAtMs]) => ({
    key: Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    version: { stamp, nodeId },
    expiresAtMs,
  }));

describe('crc32c', () => {
  it('matches the standard check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });

  it('continues a checksum across chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const buffer = Buffer.from(bytes);
        const at = bytes.length === 0 ? 0 : cut % bytes.length;
        assert.equal(crc32c(buffer, at, buffer.length, crc32c(buffer, 0, at)), crc32c(buffer));
      }),
    );
  });
});

describe('record codec', () => {
  it('round-trips batches of records', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 0, maxLength: 20 }), (records) => {
        assert.deepEqual(decodeBatch(encodeBatch(records)), records);
      }),
    );
  });

  it('decodes keys and values as views into the batch when asked, equal to the copies', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 10 }), (records) => {
        const bytes = encodeBatch(records);
        const views = decodeBatch(bytes, { views: true });
        const copies = decodeBatch(bytes);
        assert.deepEqual(views, copies);
        assert.deepEqual(views, records);
        // Overwriting the batch shows through views and not through copies.
        bytes.fill(0xee);
        views.forEach((record, i) => {
          assert.ok(record.key.every((byte) => byte === 0xee), 'the key is a view');
          if (record.value !== null) assert.ok(record.value.every((byte) => byte === 0xee), 'the value is a view');
          assert.deepEqual(copies[i], records[i], 'copies are unaffected');
          assert.equal(record.version.nodeId, records[i]!.version.nodeId, 'the node id is a string of its own');
        });
      }),
    );
  });

  it('round-trips a record body without its key', () => {
    fc.assert(
      fc.property(recordArbitrary, (record) => {
        assert.deepEqual(decodeBody(record.key, encodeBody(record)), record);
      }),
    );
  });

  it('refuses every truncation of a batch instead of misreading it', () => {
    fc.assert(
      fc.property(fc.array(recordArbitrary, { minLength: 1, maxLength: 5 }), fc.nat(), (records, cut) => {
        const bytes = encodeBatch(records);
        const length = cut % bytes.length;
        assert.throws(() => decodeBatch(bytes.subarray(0, length)), RecordDecodeError);
      }),
    );
  });

  it('reads the retention fields of a body as decodeBody does, and refuses a truncated one', () => {
    fc.assert(
      fc.property(recordArbitrary, fc.nat(), (record, cut) => {
        const body = encodeBody(record);
        assert.deepEqual(readRetentionFields(body), { tombstone: record.value === null, stamp: record.version.stamp, expiresAtMs: record.expiresAtMs });
        // The fields end before the value; every cut inside them is refused.
        const fieldsEnd = body.length - (record.value === null ? 0 : 4 + record.value.length);
        assert.throws(() => readRetentionFields(body.subarray(0, cut % fieldsEnd)), RecordDecodeError);
      }),
    );
  });

  it('writes stamps big-endian as Buffer does, and refuses one beyond 64 bits', () => {
    for (const stamp of [0n, 1n, 0xffn, 1n << 32n, (1n << 32n) - 1n, 0x0102030405060708n, (1n << 64n) - 1n]) {
      const body = encodeBody({ key: Buffer.from('k'), value: null, version: { stamp, nodeId: 'n' }, expiresAtMs: 0 });
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64BE(stamp);
      assert.deepEqual(body.subarray(1, 9), expected, `stamp ${stamp}`);
    }
    assert.throws(() => encodeBody({ key: Buffer.from('k'), value: null, version: { stamp: 1n << 64n, nodeId: 'n' }, expiresAtMs: 0 }), /stamp beyond 64 bits/);
  });

  it('encodes every node id right when there are more of them than the encoder keeps', () => {
    // More distinct ids than the codec's cache of node id bytes holds, so it is cleared
    // mid-batch; multi-byte UTF-8 ids too.
    const records: KvRecord[] = Array.from({ length: 600 }, (_, n) => ({
      key: Buffer.from(`k${n}`),
      value: Buffer.from([n % 256]),
      version: { stamp: BigInt(n), nodeId: n % 2 === 0 ? `node-${n}` : `nœud-${n}-é` },
      expiresAtMs: n % 3 === 0 ? 1_000 + n : 0,
    }));
    assert.deepEqual(decodeBatch(encodeBatch(records)), records);
    assert.deepEqual(decodeBatch(encodeBatch(records.slice().reverse())), records.slice().reverse());
  });

  it('refuses unknown flag bits', () => {
    const record: KvRecord = { key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: 1n, nodeId: 'a' }, expiresAtMs: 0 };
    const body = encodeBody(record);
    body[0] = 0x80;
    assert.throws(() => decodeBody(record.key, body), /unknown flags/);
  });
});

describe('WAL frames', () => {
  it('read back exactly the frames that were written', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { maxLength: 20 }), (payloads) => {
        const header = encodeSegmentHeader(7n);
        const size = header.length + payloads.reduce((sum, payload) => sum + FRAME_HEADER_BYTES + payload.length, 0);
        const file = Buffer.alloc(size);
        header.copy(file, 0);
        let at = header.length;
        for (const payload of payloads) at = writeFrame(FrameType.RecordBatch, Buffer.from(payload), file, at);
        const contents = readSegment(file, 7n, true);
        assert.deepEqual(contents.end, { kind: 'clean' });
        assert.deepEqual(contents.frames.map((frame) => Buffer.from(frame.payload)), payloads.map((payload) => Buffer.from(payload)));
      }),
    );
  });

  it('never accepts a frame with any single flipped bit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (payload, bitSeed) => {
        const header = encodeSegmentHeader(1n);
        const file = Buffer.alloc(header.length + FRAME_HEADER_BYTES + payload.length);
        header.copy(file, 0);
        writeFrame(FrameType.RecordBatch, Buffer.from(payload), file, header.length);
        const frameBits = (FRAME_HEADER_BYTES + payload.length) * 8;
        const bit = bitSeed % frameBits;
        file[header.length + (bit >> 3)]! ^= 1 << (bit & 7);
        const contents = readSegment(file, 1n, false);
        assert.equal(contents.frames.length, 0);
        assert.equal(contents.end.kind, 'corrupt');
      }),
    );
  });
});
