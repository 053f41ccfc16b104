// Binary encoding of records, shared by the WAL (a batch of records per frame) and the
// ordered store (one record body per LMDB value). Big-endian throughout.
//
//   body    = flags u8 | stamp u64 | nodeIdLength u8 | nodeId utf8
//             | expiresAtMs u64   (only when flags & HAS_EXPIRY)
//             | valueLength u32 | value   (only when not a tombstone)
//   record  = keyLength u16 | key | body
//   batch   = count u32 | record * count
//
// flags: bit 0 = tombstone, bit 1 = has expiry; other bits must be zero so that a
// future format change is detected instead of misread.
import assert from 'node:assert/strict';
import type { KvRecord, Version } from './record.js';
import { writeU64BE } from './u64-big-endian.js';

const FLAG_TOMBSTONE = 1;
const FLAG_HAS_EXPIRY = 2;
const FLAGS_KNOWN = FLAG_TOMBSTONE | FLAG_HAS_EXPIRY;

export class RecordDecodeError extends Error {}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Node ids are the few members of the cluster, and every record names one: their UTF-8
 * bytes are kept here (up to NODE_ID_CACHE_ENTRIES_MAX, then forgotten all at once)
 * rather than measured and encoded by Buffer's UTF-8 writer for every record, which
 * is a call into C++ each time.
 */
const NODE_ID_CACHE_ENTRIES_MAX = 256;
const nodeIdCache = new Map<string, Buffer>();

function nodeIdBytesOf(nodeId: string): Buffer {
  let bytes = nodeIdCache.get(nodeId);
  if (bytes === undefined) {
    if (nodeIdCache.size >= NODE_ID_CACHE_ENTRIES_MAX) nodeIdCache.clear();
    bytes = Buffer.from(nodeId, 'utf8');
    nodeIdCache.set(nodeId, bytes);
  }
  return bytes;
}

export function bodyBytes(record: KvRecord): number {
  return bodyBytesOf(record.version.nodeId, record.expiresAtMs, record.value === null ? -1 : record.value.length);
}

/** Bytes of a body with these fields; `valueLength` is -1 for a tombstone. */
export function bodyBytesOf(nodeId: string, expiresAtMs: number, valueLength: number): number {
  return 1 + 8 + 1 + nodeIdBytesOf(nodeId).length + (expiresAtMs !== 0 ? 8 : 0) + (valueLength >= 0 ? 4 + valueLength : 0);
}

export function recordBytes(record: KvRecord): number {
  return 2 + record.key.length + bodyBytes(record);
}

export function writeBody(record: KvRecord, target: Buffer, offset: number): number {
  const { value } = record;
  return writeBodyOf(record.version, record.expiresAtMs, value, 0, value === null ? -1 : value.length, target, offset);
}

/**
 * Writes a body from its fields: the value is `valueLength` bytes of `valueSource` from
 * `valueStart` (-1 and no source for a tombstone), so a caller holding the value inside
 * a larger buffer (a memtable slab) needs no Buffer view of it. Returns the offset after it.
 */
export function writeBodyOf(
  version: Version,
  expiresAtMs: number,
  valueSource: Buffer | null,
  valueStart: number,
  valueLength: number,
  target: Buffer,
  offset: number,
): number {
  const nodeId = nodeIdBytesOf(version.nodeId);
  assert.ok(nodeId.length <= 255, 'node id longer than 255 bytes');
  assert.ok(version.stamp >= 0n, 'negative stamp');
  assert.ok(version.stamp <= U64_MAX, 'stamp beyond 64 bits');
  assert.equal(valueSource === null, valueLength < 0, 'a tombstone has no value bytes, and only a tombstone');
  let flags = 0;
  if (valueSource === null) flags |= FLAG_TOMBSTONE;
  if (expiresAtMs !== 0) flags |= FLAG_HAS_EXPIRY;
  let at = target.writeUInt8(flags, offset);
  at = writeU64BE(target, version.stamp, at);
  at = target.writeUInt8(nodeId.length, at);
  for (let i = 0; i < nodeId.length; i++) target[at + i] = nodeId[i]!;
  at += nodeId.length;
  if (expiresAtMs !== 0) at = writeU64BE(target, BigInt(expiresAtMs), at);
  if (valueSource !== null) {
    at = target.writeUInt32BE(valueLength, at);
    at += valueSource.copy(target, at, valueStart, valueStart + valueLength);
  }
  return at;
}

export function encodeBody(record: KvRecord): Buffer {
  const target = Buffer.allocUnsafe(bodyBytes(record));
  const end = writeBody(record, target, 0);
  assert.equal(end, target.length);
  return target;
}

export function writeRecord(record: KvRecord, target: Buffer, offset: number): number {
  assert.ok(record.key.length > 0 && record.key.length <= 0xffff, 'key length out of u16 range');
  let at = target.writeUInt16BE(record.key.length, offset);
  at += record.key.copy(target, at);
  return writeBody(record, target, at);
}

/** Bytes of the batch encoding of `records`. */
export function batchBytes(records: readonly KvRecord[]): number {
  let total = 4;
  for (const record of records) total += recordBytes(record);
  return total;
}

/** Writes the batch encoding of `records` at `offset` of `target`; returns the offset after it. */
export function writeBatch(records: readonly KvRecord[], target: Buffer, offset: number): number {
  let at = target.writeUInt32BE(records.length, offset);
  for (const record of records) at = writeRecord(record, target, at);
  return at;
}

export function encodeBatch(records: readonly KvRecord[]): Buffer {
  const total = batchBytes(records);
  const target = Buffer.allocUnsafe(total);
  const end = writeBatch(records, target, 0);
  assert.equal(end, total);
  return target;
}

/** A bounds-checked reader: every read names what it wanted when the bytes run out. */
class Cursor {
  constructor(
    private readonly bytes: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  need(count: number, what: string): void {
    if (this.at + count > this.end) {
      throw new RecordDecodeError(`truncated ${what}: need ${count} bytes at ${this.at}, have ${this.end - this.at}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes.readUInt8(this.at++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.bytes.readUInt16BE(this.at);
    this.at += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.bytes.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const value = this.bytes.readBigUInt64BE(this.at);
    this.at += 8;
    return value;
  }

  /** A copy, so decoded records never pin the (large) buffer they came from; or a view when asked. */
  copy(count: number, what: string, view = false): Buffer {
    this.need(count, what);
    const slice = view ? this.bytes.subarray(this.at, this.at + count) : Buffer.from(this.bytes.subarray(this.at, this.at + count));
    this.at += count;
    return slice;
  }

  utf8(count: number, what: string): string {
    this.need(count, what);
    const text = this.bytes.toString('utf8', this.at, this.at + count);
    this.at += count;
    return text;
  }
}

export interface DecodeOptions {
  /**
   * Keys and values as views into the decoded buffer instead of copies: for a caller
   * that lets go of the records soon, or hands them to the storage engine, which keeps
   * copies of its own. A view keeps the whole buffer alive as long as it lives.
   */
  readonly views?: boolean;
  /** Refuses a batch that claims more records, before any is decoded. */
  readonly recordsMax?: number;
}

function readBody(cursor: Cursor, key: Buffer, views = false): KvRecord {
  const flags = cursor.u8('flags');
  if ((flags & ~FLAGS_KNOWN) !== 0) throw new RecordDecodeError(`unknown flags 0x${flags.toString(16)}`);
  const stamp = cursor.u64('stamp');
  const nodeId = cursor.utf8(cursor.u8('node id length'), 'node id');
  let expiresAtMs = 0;
  if (flags & FLAG_HAS_EXPIRY) {
    const expiry = cursor.u64('expiry');
    if (expiry > BigInt(Number.MAX_SAFE_INTEGER)) throw new RecordDecodeError('expiry beyond the safe integer range');
    expiresAtMs = Number(expiry);
  }
  const value = flags & FLAG_TOMBSTONE ? null : cursor.copy(cursor.u32('value length'), 'value', views);
  return { key, value, version: { stamp, nodeId }, expiresAtMs };
}

/** What retention decides by (src/storage/retention.ts). */
export interface RetentionFields {
  readonly tombstone: boolean;
  readonly stamp: bigint;
  /** 0 means never. */
  readonly expiresAtMs: number;
}

/**
 * The retention fields of a record body, read without decoding the node id or copying
 * the value: a sweep over the store looks at thousands of bodies for a few tombstones.
 * The parts it reads are checked as decodeBody checks them.
 */
export function readRetentionFields(bytes: Buffer): RetentionFields {
  const cursor = new Cursor(bytes, 0, bytes.length);
  const flags = cursor.u8('flags');
  if ((flags & ~FLAGS_KNOWN) !== 0) throw new RecordDecodeError(`unknown flags 0x${flags.toString(16)}`);
  const stamp = cursor.u64('stamp');
  const nodeIdBytes = cursor.u8('node id length');
  cursor.need(nodeIdBytes, 'node id');
  cursor.at += nodeIdBytes;
  let expiresAtMs = 0;
  if (flags & FLAG_HAS_EXPIRY) {
    const expiry = cursor.u64('expiry');
    if (expiry > BigInt(Number.MAX_SAFE_INTEGER)) throw new RecordDecodeError('expiry beyond the safe integer range');
    expiresAtMs = Number(expiry);
  }
  return { tombstone: (flags & FLAG_TOMBSTONE) !== 0, stamp, expiresAtMs };
}

/** The version of a record body, read without decoding the rest (last-writer-wins lookups). */
export function readVersion(bytes: Buffer): Version {
  const cursor = new Cursor(bytes, 0, bytes.length);
  const flags = cursor.u8('flags');
  if ((flags & ~FLAGS_KNOWN) !== 0) throw new RecordDecodeError(`unknown flags 0x${flags.toString(16)}`);
  const stamp = cursor.u64('stamp');
  return { stamp, nodeId: cursor.copy(cursor.u8('node id length'), 'node id').toString('utf8') };
}

export function decodeBody(key: Buffer, bytes: Buffer): KvRecord {
  const cursor = new Cursor(bytes, 0, bytes.length);
  const record = readBody(cursor, key);
  if (cursor.at !== bytes.length) throw new RecordDecodeError(`${bytes.length - cursor.at} trailing bytes after record body`);
  return record;
}

export function decodeBatch(bytes: Buffer, options: DecodeOptions = {}): KvRecord[] {
  const views = options.views === true;
  const recordsMax = options.recordsMax ?? Number.POSITIVE_INFINITY;
  const cursor = new Cursor(bytes, 0, bytes.length);
  const count = cursor.u32('record count');
  if (count > recordsMax) throw new RecordDecodeError(`batch of ${count} records; the limit is ${recordsMax}`);
  const records: KvRecord[] = [];
  for (let i = 0; i < count; i++) {
    const keyLength = cursor.u16('key length');
    if (keyLength === 0) throw new RecordDecodeError('empty key');
    const key = cursor.copy(keyLength, 'key', views);
    records.push(readBody(cursor, key, views));
  }
  if (cursor.at !== bytes.length) throw new RecordDecodeError(`${bytes.length - cursor.at} trailing bytes after batch`);
  return records;
}
