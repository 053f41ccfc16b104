// The port every storage backend implements. The coordinator and the replica service
// see only this interface; src/storage/engine holds the durable backend (WAL + memtable
// + LMDB) and src/storage/memory the in-process one used by whole-cluster tests.
// One contract suite (test/storage/engine-contract.ts) runs against every backend.
import type { KvRecord, Version } from './record.js';
import type { TokenRange } from '../ring/token-range.js';

export interface ScanPage {
  /** Records in (token, key) order, tombstones included. */
  readonly records: KvRecord[];
  /** Pass back as `resumeAfter` to continue; absent when the range is exhausted. */
  readonly resumeAfter?: ScanCursor;
}

export interface ScanCursor {
  readonly token: bigint;
  readonly key: Buffer;
}

export interface ApplyResult {
  /** One entry per input record: true when it replaced what the engine held. */
  readonly applied: boolean[];
}

/** A key and the exact version of it to discard (see StorageEngine.discard). */
export interface DiscardEntry {
  readonly key: Buffer;
  readonly version: Version;
}

export interface StorageEngine {
  /**
   * Applies records under last-writer-wins. The promise resolves only once the
   * records are as durable as the engine's fsync policy promises; a record older
   * than or equal to the stored version is a no-op. `encoding`, when the caller has it
   * (records received from a peer), is the batch encoding of exactly these records
   * (record-codec.ts `encodeBatch(records)`); an engine may log it instead of encoding
   * the records again.
   */
  apply(records: readonly KvRecord[], encoding?: Buffer): Promise<ApplyResult>;

  /** The newest record for a key, tombstones and expired records included. */
  get(key: Buffer): KvRecord | undefined;

  /**
   * One page of the records whose key tokens fall in `range`: at most `limit` records and
   * about SCAN_PAGE_BYTES_MAX bytes of keys and values (at least one record), so a page
   * may hold fewer than `limit` records and still have `resumeAfter`.
   */
  scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): ScanPage;

  /**
   * Removes keys outright, leaving no tombstone: each key whose newest version is exactly
   * the entry's version is dropped from the engine; a key written again since the caller
   * read it (a newer version) or already gone is left as it is. For data this node no
   * longer replicates (cleanup, src/streaming/range-cleanup.ts), never for a delete a
   * client asked for: a delete must leave a tombstone, or an older copy elsewhere comes
   * back. Durable whatever the fsync policy: once the promise resolves, no restart,
   * replay or checkpoint brings the keys back. At most DISCARD_ENTRIES_MAX entries per call.
   * Resolves with the number of keys removed.
   *
   * `confirm`, when given, runs once the discard has the engine to itself (after any
   * checkpoint it waited for) and before anything is logged or removed; if it throws, the
   * discard removes nothing and rejects with that error. Cleanup checks there that the
   * rings have not changed while the discard waited.
   */
  discard(entries: readonly DiscardEntry[], confirm?: () => void): Promise<number>;

  /** Makes everything applied so far durable regardless of the fsync policy. */
  sync(): Promise<void>;

  close(): Promise<void>;
}
