// The ordered on-disk store behind the memtable: LMDB through the `lmdb` package.
// Checkpoints write the memtable here; reads that miss the memtable land here; scans by
// token range walk it in order.
//
// Layout (format version 1, stored under meta key "format"):
//   database "records": key = token u64 big-endian | key bytes
//                       value = record body (src/storage/record-codec.ts)
//   database "meta":    "format" -> u32 format version
//                       "checkpoint-segment" -> u64: every WAL segment below this number
//                       is contained in "records"; recovery replays from it.
//                       "max-stamp" -> u64: no record in "records" has a greater stamp
//                       (written before the records it covers; absent in stores written
//                       before it was kept, which then count as holding any stamp).
// Big-endian tokens make LMDB's bytewise key order equal to (token, key) order, which
// is what token-range scans need. The checkpoint marker is written only after every
// record it covers is committed, so the store never claims a checkpoint it lacks.
import assert from 'node:assert/strict';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ConfigInvalidError } from '../../errors/errors.js';
import { TOKEN_MAX, type TokenFunction } from '../../ring/token-range.js';
import { recordPayloadBytes, type KvRecord, type Version } from '../record.js';
import { decodeBody, readRetentionFields, readVersion, type RetentionFields } from '../record-codec.js';
import { decodeCheckpointChunk } from './checkpoint-chunk.js';

export const STORE_FORMAT_VERSION = 1;
const META_FORMAT = 'format';
const META_CHECKPOINT_SEGMENT = 'checkpoint-segment';
const META_MAX_STAMP = 'max-stamp';
/** What maxStamp() says of a store that may hold any stamp. */
const STAMP_UNKNOWN = (1n << 64n) - 1n;

export interface StoreEntry {
  readonly token: bigint;
  readonly record: KvRecord;
}

export function storeKeyOf(token: bigint, key: Buffer): Buffer {
  const storeKey = Buffer.allocUnsafe(8 + key.length);
  storeKey.writeBigUInt64BE(token, 0);
  key.copy(storeKey, 8);
  return storeKey;
}

function tokenBound(token: bigint): Buffer {
  const bound = Buffer.allocUnsafe(8);
  bound.writeBigUInt64BE(token, 0);
  return bound;
}

export class OrderedStore {
  private lookupKey = Buffer.allocUnsafe(64);
  /** See maxStamp(); -1 for an empty store. */
  private stampBound = STAMP_UNKNOWN;
  /** The write of a raised stamp bound, awaited when the checkpoint finishes. */
  private boundWritten: Promise<boolean> | undefined;

  private constructor(
    private readonly root: RootDatabase<Buffer, Buffer>,
    private readonly records: Database<Buffer, Buffer>,
    private readonly meta: Database<Buffer, string>,
    private readonly tokenOf: TokenFunction,
  ) {}

  static async open(path: string, tokenOf: TokenFunction): Promise<OrderedStore> {
    const root = open<Buffer, Buffer>({ path, compression: false, keyEncoding: 'binary', encoding: 'binary', cache: false });
    const records = root.openDB<Buffer, Buffer>({ name: 'records', keyEncoding: 'binary', encoding: 'binary', cache: false });
    const meta = root.openDB<Buffer, string>({ name: 'meta', keyEncoding: 'ordered-binary', encoding: 'binary', cache: false });
    const store = new OrderedStore(root, records, meta, tokenOf);
    const format = meta.get(META_FORMAT);
    if (format === undefined) {
      const version = Buffer.alloc(4);
      version.writeUInt32BE(STORE_FORMAT_VERSION, 0);
      await meta.put(META_FORMAT, version);
      await root.flushed;
    } else if (format.readUInt32BE(0) !== STORE_FORMAT_VERSION) {
      await root.close();
      throw new ConfigInvalidError(`store at ${path} has format version ${format.readUInt32BE(0)}; this build reads ${STORE_FORMAT_VERSION}`);
    }
    const maxStamp = meta.get(META_MAX_STAMP);
    if (maxStamp !== undefined) store.stampBound = maxStamp.readBigUInt64BE(0);
    else if (records.getKeysCount({ limit: 1 }) === 0) store.stampBound = -1n;
    return store;
  }

  /**
   * An upper bound of the stamps of the records in the store: a record with a greater
   * stamp supersedes whatever the store holds for its key, so last-writer-wins need not
   * look there. -1 for an empty store, 2^64-1 when unknown.
   */
  maxStamp(): bigint {
    return this.stampBound;
  }

  /** The first WAL segment the store does not contain. */
  checkpointSegment(): bigint {
    const value = this.meta.get(META_CHECKPOINT_SEGMENT);
    return value === undefined ? 0n : value.readBigUInt64BE(0);
  }

  get(key: Buffer): KvRecord | undefined {
    const body = this.records.get(this.lookupKeyFor(key));
    return body === undefined ? undefined : decodeBody(key, body);
  }

  /** The stored version of `key`, read without decoding (or copying) the value. */
  versionOf(key: Buffer): Version | undefined {
    const body = this.records.get(this.lookupKeyFor(key));
    return body === undefined ? undefined : readVersion(body);
  }

  /**
   * The store key of `key` in a buffer shared by every call: LMDB copies a key before a
   * get, put or remove call returns, so it is only good until the next call.
   */
  private lookupKeyFor(key: Buffer): Buffer {
    const length = 8 + key.length;
    if (this.lookupKey.length < length) this.lookupKey = Buffer.allocUnsafe(Math.max(length, 2 * this.lookupKey.length));
    this.lookupKey.writeBigUInt64BE(this.tokenOf(key), 0);
    key.copy(this.lookupKey, 8);
    return this.lookupKey.subarray(0, length);
  }

  /**
   * Entries with token in [low, high] in (token, key) order, starting after `after`
   * when given, at most `limit` of them and, past the first, no more than `bytesMax`
   * bytes of keys and values. `truncated` says the byte bound ended the list early: the
   * store may hold more entries below `limit` after the last one returned.
   */
  range(low: bigint, high: bigint, limit: number, after?: Buffer, bytesMax = Number.POSITIVE_INFINITY): { entries: StoreEntry[]; truncated: boolean } {
    assert.ok(low <= high, 'empty token interval');
    const start = after ?? tokenBound(low);
    const end = high === TOKEN_MAX ? undefined : tokenBound(high + 1n);
    const entries: StoreEntry[] = [];
    let bytes = 0;
    for (const { key: storeKey, value } of this.records.getRange({ start, end, limit: limit + 1 })) {
      if (after !== undefined && storeKey.equals(after)) continue;
      if (entries.length === limit) break;
      const key = Buffer.from(storeKey.subarray(8));
      const record = decodeBody(key, value);
      const size = recordPayloadBytes(record);
      if (entries.length > 0 && bytes + size > bytesMax) return { entries, truncated: true };
      bytes += size;
      entries.push({ token: storeKey.readBigUInt64BE(0), record });
    }
    return { entries, truncated: false };
  }

  /*
   * A checkpoint is written in three steps, so that it can be driven from the main
   * thread or from the checkpoint worker (checkpoint-worker.ts) alike:
   *
   *   beginCheckpoint(maxStamp)   the stamp bound, raised before the records it covers
   *   writeChunk(chunk) ...       the records, one awaited chunk at a time
   *   finishCheckpoint(segment)   the checkpoint marker, then a flush to disk
   *
   * The writes use lmdb-js's asynchronous puts, which the library commits in call order
   * on its own write thread: the B-tree work stays off the calling thread (a checkpoint
   * of 64k records blocked the event loop for ~1 s as synchronous puts inside a
   * transaction, ~0.1 s this way; synchronous puts were measured again once chunks
   * came in token order: ADR 0235). Chunks are awaited one by one because LMDB holds
   * every page a transaction dirties in memory until it commits. The engine sends the
   * records in the store's key order (memtable-token-order.ts), so a chunk dirties one
   * stretch of pages instead of a page per record. The marker is written only after
   * every record is committed; a crash before it leaves some records in the store that
   * the WAL replay then applies again as no-ops.
   */

  /**
   * Raises the stamp bound to cover a checkpoint's records. The bound goes out before the
   * records: lmdb-js commits asynchronous writes in call order, so the stored bound is
   * never below a stored record's stamp. `persist` false raises only this handle's view
   * (the main thread's, when the worker writes the bound).
   */
  beginCheckpoint(maxStamp: bigint, persist = true): void {
    if (maxStamp <= this.stampBound) return;
    this.stampBound = maxStamp;
    if (!persist) return;
    const bound = Buffer.alloc(8);
    bound.writeBigUInt64BE(maxStamp, 0);
    const written = this.meta.put(META_MAX_STAMP, bound);
    // Awaited when the checkpoint finishes; until then a failure must not count as unhandled.
    written.catch(() => {});
    this.boundWritten = written;
  }

  /**
   * Writes one chunk (checkpoint-chunk.ts). lmdb-js copies a key into its write
   * instructions at once but keeps only a pointer to the value until the write thread
   * has committed it, so the chunk's buffer must live until this resolves.
   */
  async writeChunk(chunk: Buffer): Promise<number> {
    const entries = decodeCheckpointChunk(chunk);
    const writes = new Array<Promise<boolean>>(entries.length);
    for (let index = 0; index < entries.length; index++) writes[index] = this.records.put(entries[index]!.storeKey, entries[index]!.body);
    await Promise.all(writes);
    return entries.length;
  }

  /** Writes the checkpoint marker after everything before it, and flushes to disk. */
  async finishCheckpoint(checkpointSegment: bigint): Promise<void> {
    const boundWritten = this.boundWritten;
    this.boundWritten = undefined;
    await boundWritten;
    const marker = Buffer.alloc(8);
    marker.writeBigUInt64BE(checkpointSegment, 0);
    await this.meta.put(META_CHECKPOINT_SEGMENT, marker);
    await this.root.flushed;
  }

  /**
   * Makes the next read see what another thread committed. lmdb-js reuses one read
   * transaction until its own setTimeout(0) resets it, so a read in the same turn as the
   * worker's answer would still see the store as it was before the checkpoint.
   */
  refreshReads(): void {
    this.root.resetReadTxn();
  }

  /** Removes entries by store key (purged tombstones) in one flushed transaction. */
  async remove(storeKeys: readonly Buffer[]): Promise<void> {
    if (storeKeys.length === 0) return;
    await this.root.transaction(() => {
      for (const storeKey of storeKeys) this.records.removeSync(storeKey);
    });
    await this.root.flushed;
  }

  /**
   * Entries after `after` in store-key order, for background sweeps over the whole store:
   * each entry's store key and the fields retention decides by, not the whole record.
   */
  sweep(limit: number, after?: Buffer): Array<{ storeKey: Buffer; fields: RetentionFields }> {
    const entries: Array<{ storeKey: Buffer; fields: RetentionFields }> = [];
    for (const { key: storeKey, value } of this.records.getRange({ start: after, limit: limit + 1 })) {
      if (after !== undefined && storeKey.equals(after)) continue;
      if (entries.length === limit) break;
      entries.push({ storeKey: Buffer.from(storeKey), fields: readRetentionFields(value) });
    }
    return entries;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
