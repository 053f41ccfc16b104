// An in-process storage backend: every record lives in memory, nothing survives the
// process. It is a real implementation of the StorageEngine port, not a mock: whole-
// cluster tests run on it (test/support/memory-cluster.ts) and it passes the same
// contract suite as the durable engine (test/storage/engine-contract.ts).
//
// Records are kept twice: in a Map by key for point reads and in an array sorted by
// (token, key bytes) for range scans, so scans come out in ring order like the durable
// store's. Inserting a new key costs a binary search and a splice, which is fine for the
// test-sized data sets this backend is for.
import assert from 'node:assert/strict';
import { StoreClosedError } from '../../errors/errors.js';
import { rangeIntervals, type TokenFunction, type TokenRange } from '../../ring/token-range.js';
import { compareVersions, recordPayloadBytes, supersedes, type KvRecord } from '../record.js';
import { DISCARD_ENTRIES_MAX, SCAN_PAGE_BYTES_MAX } from '../../limits.js';
import type { ApplyResult, DiscardEntry, ScanCursor, ScanPage, StorageEngine } from '../storage-engine.js';

interface Entry {
  readonly token: bigint;
  record: KvRecord;
}

export class MemoryStorageEngine implements StorageEngine {
  private readonly byKey = new Map<string, Entry>();
  /** Every entry, sorted by (token, key bytes). */
  private readonly ordered: Entry[] = [];
  private closed = false;

  constructor(private readonly tokenOf: TokenFunction) {}

  /** Number of keys held, tombstones included. */
  get size(): number {
    return this.byKey.size;
  }

  /** `encoding` is not needed: nothing is logged. */
  async apply(records: readonly KvRecord[], _encoding?: Buffer): Promise<ApplyResult> {
    if (this.closed) throw new StoreClosedError();
    const applied = records.map((record) => this.applyOne(record));
    return { applied };
  }

  get(key: Buffer): KvRecord | undefined {
    if (this.closed) throw new StoreClosedError();
    return this.byKey.get(key.toString('hex'))?.record;
  }

  scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): ScanPage {
    if (this.closed) throw new StoreClosedError();
    assert.ok(Number.isInteger(limit) && limit >= 1, 'scan limit must be a positive integer');
    const intervals = rangeIntervals(range);
    // A cursor always names a record inside the range, so it lies in exactly one of the
    // (at most two) intervals; the scan resumes in that interval and skips the earlier one.
    let first = 0;
    if (resumeAfter !== undefined) {
      first = intervals.findIndex((interval) => resumeAfter.token >= interval.low && resumeAfter.token <= interval.high);
      assert.ok(first >= 0, 'scan cursor lies outside the scanned range');
    }
    const records: KvRecord[] = [];
    let bytes = 0;
    for (let i = first; i < intervals.length; i++) {
      const interval = intervals[i]!;
      let index =
        i === first && resumeAfter !== undefined
          ? this.indexAfter(resumeAfter.token, resumeAfter.key)
          : this.indexAtToken(interval.low);
      for (; index < this.ordered.length; index++) {
        const entry = this.ordered[index]!;
        if (entry.token > interval.high) break;
        const size = recordPayloadBytes(entry.record);
        if (records.length === limit || (records.length > 0 && bytes + size > SCAN_PAGE_BYTES_MAX)) {
          const last = records[records.length - 1]!;
          return { records, resumeAfter: { token: this.tokenOf(last.key), key: last.key } };
        }
        records.push(entry.record);
        bytes += size;
      }
    }
    return { records };
  }

  async discard(entries: readonly DiscardEntry[], confirm?: () => void): Promise<number> {
    if (this.closed) throw new StoreClosedError();
    assert.ok(entries.length <= DISCARD_ENTRIES_MAX, 'too many entries in one discard');
    confirm?.();
    let removed = 0;
    for (const { key, version } of entries) {
      const id = key.toString('hex');
      const entry = this.byKey.get(id);
      if (entry === undefined || compareVersions(entry.record.version, version) !== 0) continue;
      this.byKey.delete(id);
      // indexAfter(token, key) is one past the entry itself.
      const index = this.indexAfter(entry.token, entry.record.key) - 1;
      assert.equal(this.ordered[index], entry, 'the ordered list lost an entry the map holds');
      this.ordered.splice(index, 1);
      removed++;
    }
    return removed;
  }

  async sync(): Promise<void> {
    if (this.closed) throw new StoreClosedError();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private applyOne(record: KvRecord): boolean {
    assert.ok(record.key.length > 0, 'record key must not be empty');
    const id = record.key.toString('hex');
    const existing = this.byKey.get(id);
    if (!supersedes(record.version, existing?.record.version)) return false;
    // The engine keeps its own copy: a caller that reuses its buffers after apply must
    // not be able to change what the store holds, as with a store that serializes.
    const copy: KvRecord = {
      key: Buffer.from(record.key),
      value: record.value === null ? null : Buffer.from(record.value),
      version: { stamp: record.version.stamp, nodeId: record.version.nodeId },
      expiresAtMs: record.expiresAtMs,
    };
    if (existing !== undefined) {
      existing.record = copy;
      return true;
    }
    const entry: Entry = { token: this.tokenOf(copy.key), record: copy };
    this.byKey.set(id, entry);
    this.ordered.splice(this.indexAfter(entry.token, copy.key), 0, entry);
    return true;
  }

  /** Index of the first entry whose token is >= `token`. */
  private indexAtToken(token: bigint): number {
    return this.search((entry) => entry.token >= token);
  }

  /** Index of the first entry ordered after (token, key). */
  private indexAfter(token: bigint, key: Buffer): number {
    return this.search((entry) => entry.token > token || (entry.token === token && Buffer.compare(entry.record.key, key) > 0));
  }

  /** Binary search for the first entry satisfying a predicate monotone over `ordered`. */
  private search(isAtOrPast: (entry: Entry) => boolean): number {
    let low = 0;
    let high = this.ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (isAtOrPast(this.ordered[middle]!)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
