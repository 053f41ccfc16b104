// The memtable: the newest version of each key written since the last checkpoint,
// held in memory until a checkpoint moves it into the ordered store. It is a plain
// hash map, so a write costs one map operation and no hashing of the key's token.
//
// Scans (anti-entropy trees and streaming, and Replica.Scan from peers) need the keys in
// (token, key) order. The order is kept in an index built on the first scan and then
// kept up to date lazily: a write of a key the index lacks only notes the key, and the
// next scan sorts the noted keys and merges them in. Keys never leave a memtable (a
// delete is a tombstone record), and an index entry names the key, not the record, so
// overwrites need no index work. Without the index every scan page hashed and sorted
// the whole memtable: a full-ring scan of 100k memtable records in pages of 1000 took
// 69 s of blocked event loop.
import type { TokenFunction } from '../../ring/token-range.js';
import type { KvRecord } from '../record.js';
import { recordFootprintBytes, supersedes } from '../record.js';

/** Buffers as map keys: latin1 maps each byte to one UTF-16 unit, so it is lossless. */
export function mapKeyOf(key: Buffer): string {
  return key.toString('latin1');
}

/** One key of the scan index. */
export interface IndexedKey {
  readonly token: bigint;
  readonly key: Buffer;
  readonly mapKey: string;
}

/** (token, key bytes) order, the order of the ordered store's keys. */
export function compareTokenKey(aToken: bigint, aKey: Buffer, bToken: bigint, bKey: Buffer): number {
  if (aToken !== bToken) return aToken < bToken ? -1 : 1;
  return Buffer.compare(aKey, bKey);
}

const byTokenKey = (a: IndexedKey, b: IndexedKey): number => compareTokenKey(a.token, a.key, b.token, b.key);

export class Memtable {
  private readonly records = new Map<string, KvRecord>();
  private footprintBytes = 0;
  /** Every key in (token, key) order, once a scan asked for it; see `ordered`. */
  private index: IndexedKey[] | undefined;
  /** Keys written since the index was last brought up to date. */
  private unindexed: string[] = [];
  private greatestStamp = -1n;

  /** The greatest stamp put here, -1 when nothing was: what a checkpoint of it adds to the store's bound. */
  get maxStamp(): bigint {
    return this.greatestStamp;
  }

  get bytes(): number {
    return this.footprintBytes;
  }

  get size(): number {
    return this.records.size;
  }

  /** `mapKey` is mapKeyOf(key), for callers that look the same key up more than once. */
  get(key: Buffer, mapKey = mapKeyOf(key)): KvRecord | undefined {
    return this.records.get(mapKey);
  }

  /** Stores the record when it supersedes the one held; returns whether it did. */
  put(record: KvRecord, mapKey = mapKeyOf(record.key)): boolean {
    const current = this.records.get(mapKey);
    if (!supersedes(record.version, current?.version)) return false;
    if (current) this.footprintBytes -= recordFootprintBytes(current);
    else if (this.index !== undefined) this.unindexed.push(mapKey);
    this.records.set(mapKey, record);
    this.footprintBytes += recordFootprintBytes(record);
    if (record.version.stamp > this.greatestStamp) this.greatestStamp = record.version.stamp;
    return true;
  }

  values(): IterableIterator<KvRecord> {
    return this.records.values();
  }

  /**
   * Every key in (token, key) order. Built on first use (one token hash per key and a
   * sort), then only the keys written since are hashed, sorted and merged in. The array
   * is replaced, never changed, so a caller may hold on to it while it walks.
   */
  ordered(tokenOf: TokenFunction): readonly IndexedKey[] {
    const entry = (mapKey: string): IndexedKey => {
      const key = this.records.get(mapKey)!.key;
      return { token: tokenOf(key), key, mapKey };
    };
    if (this.index === undefined) {
      this.index = [...this.records.keys()].map(entry).sort(byTokenKey);
      this.unindexed = [];
    } else if (this.unindexed.length > 0) {
      const fresh = this.unindexed.map(entry).sort(byTokenKey);
      this.unindexed = [];
      this.index = mergeSorted(this.index, fresh);
    }
    return this.index;
  }
}

function mergeSorted(a: readonly IndexedKey[], b: readonly IndexedKey[]): IndexedKey[] {
  const merged: IndexedKey[] = new Array<IndexedKey>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) merged[k++] = byTokenKey(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) merged[k++] = a[i++]!;
  while (j < b.length) merged[k++] = b[j++]!;
  return merged;
}

/** Index of the first entry after (token, key) — or at/after `token` when `key` is absent. */
export function indexAfter(index: readonly IndexedKey[], token: bigint, key?: Buffer): number {
  let low = 0;
  let high = index.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = index[middle]!;
    const before = key === undefined ? entry.token < token : compareTokenKey(entry.token, entry.key, token, key) <= 0;
    if (before) low = middle + 1;
    else high = middle;
  }
  return low;
}
