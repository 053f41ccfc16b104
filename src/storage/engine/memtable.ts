// The memtable: the newest version of each key written since the last checkpoint,
// held in memory until a checkpoint moves it into the ordered store. It is a plain
// hash map, so a write costs one map operation and no hashing of the key's token.
//
// What it holds per key is one small entry object (version, expiry, where its bytes
// are); the key and value bytes are copied into large shared slabs (memtable-slab.ts),
// not into Buffers of their own. A Buffer is an expensive object for V8 to make and for
// its collector to move: with a record object and two Buffer views per key, building
// and promoting them was about half of the engine's CPU per write (ADR 0215). `get`
// hands out a record whose key and value are views of the slab; a slab is never written
// twice at the same place, so a view stays valid for as long as it is held.
//
// Scans (anti-entropy trees and streaming, and Replica.Scan from peers) need the keys in
// (token, key) order. The order is kept in an index built on the first scan and then
// kept up to date lazily: a write of a key the index lacks only notes the key, and the
// next scan sorts the noted keys and merges them in. An index entry names the key, not
// the record, so overwrites need no index work. A delete is a tombstone record; a key
// leaves a memtable only through a discard (cleanup of ranges the node no longer
// replicates), which leaves its index entry behind as stale: scans skip stale entries,
// and the index is compacted once they are a fair share of it. Without the index every
// scan page hashed and sorted the whole memtable: a full-ring scan of 100k memtable
// records in pages of 1000 took 69 s of blocked event loop.
import type { TokenFunction } from '../../ring/token-range.js';
import type { KvRecord, Version } from '../record.js';
import { supersedes } from '../record.js';
import { compareTokenKey } from '../token-key-order.js';
import { MemtableEntry } from './memtable-entry.js';
import { MemtableSlabs } from './memtable-slab.js';
import { TokenOrderedEntries } from './memtable-token-order.js';

/**
 * Resident bytes of one memtable entry besides its key and value bytes: the map entry,
 * its key string, the entry object, and the version object and its bigint (shared with
 * the record the engine was given). heapUsed grew by 100 bytes per entry over 200k
 * entries of 14-byte keys on Node 20; the rest is room for longer keys and for the map's
 * table between two doublings. (A record object with two Buffer views, as before ADR
 * 0215, took 384.)
 */
export const MEMTABLE_ENTRY_OVERHEAD_BYTES = 128;

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

const byTokenKey = (a: IndexedKey, b: IndexedKey): number => compareTokenKey(a.token, a.key, b.token, b.key);

export class Memtable {
  private readonly records = new Map<string, MemtableEntry>();
  private readonly slabs = new MemtableSlabs();
  /** Entries times MEMTABLE_ENTRY_OVERHEAD_BYTES, plus every slab byte written (see `bytes`). */
  private footprintBytes = 0;
  /** Every key in (token, key) order, once a scan asked for it; see `ordered`. */
  private index: IndexedKey[] | undefined;
  /** Keys written since the index was last brought up to date. */
  private unindexed: string[] = [];
  /**
   * Keys the index holds that were removed since (see `remove`): scans skip them
   * (`get` finds nothing), and a key put again simply makes its entry valid again.
   */
  private readonly staleInIndex = new Set<string>();
  /** A key noted in `unindexed` was removed since: it may be noted twice if put again. */
  private notedThenRemoved = false;
  private greatestStamp = -1n;

  /** The greatest stamp put here, -1 when nothing was: what a checkpoint of it adds to the store's bound. */
  get maxStamp(): bigint {
    return this.greatestStamp;
  }

  /**
   * Approximate resident bytes: the entries, and every key and value byte copied in.
   * The bytes of an overwritten version stay counted, since its slab still holds them
   * until the memtable is checkpointed and dropped.
   */
  get bytes(): number {
    return this.footprintBytes;
  }

  get size(): number {
    return this.records.size;
  }

  /** `mapKey` is mapKeyOf(key), for callers that look the same key up more than once. */
  get(key: Buffer, mapKey = mapKeyOf(key)): KvRecord | undefined {
    return this.records.get(mapKey)?.record();
  }

  /** The version held for a key (by mapKeyOf), without building a record: last-writer-wins lookups. */
  versionOf(mapKey: string): Version | undefined {
    return this.records.get(mapKey)?.version;
  }

  /**
   * Stores a copy of the record when it supersedes the one held; returns whether it did.
   * The caller keeps its buffers: what was acknowledged cannot change under the memtable.
   */
  put(record: KvRecord, mapKey = mapKeyOf(record.key)): boolean {
    const current = this.records.get(mapKey);
    if (!supersedes(record.version, current?.version)) return false;
    if (current === undefined) {
      this.footprintBytes += MEMTABLE_ENTRY_OVERHEAD_BYTES;
      if (this.index !== undefined && !(this.staleInIndex.size > 0 && this.staleInIndex.delete(mapKey))) this.unindexed.push(mapKey);
    }
    const { key, value } = record;
    const slab = this.slabs.copyIn(key, value);
    this.footprintBytes += key.length + (value?.length ?? 0);
    this.records.set(mapKey, new MemtableEntry(slab, this.slabs.lastOffset, key.length, value === null ? -1 : value.length, record.version, record.expiresAtMs));
    if (record.version.stamp > this.greatestStamp) this.greatestStamp = record.version.stamp;
    return true;
  }

  /**
   * Drops a key (by mapKeyOf) whatever version it holds; returns whether it held one. `indexed` says
   * whether the scan index holds the key (see `isIndexed`): its entry is then left as
   * stale rather than searched for and spliced out.
   */
  remove(mapKey: string, indexed: boolean): boolean {
    const current = this.records.get(mapKey);
    if (current === undefined) return false;
    this.records.delete(mapKey);
    // Its bytes stay in their slab, and counted, until the memtable is dropped.
    this.footprintBytes -= MEMTABLE_ENTRY_OVERHEAD_BYTES;
    if (indexed) this.staleInIndex.add(mapKey);
    else if (this.index !== undefined) this.notedThenRemoved = true;
    return true;
  }

  /**
   * Whether the scan index holds an entry for the key at `token` (valid or stale); false
   * for a key only noted for the next scan, whose note `ordered` drops once the key is
   * gone.
   */
  isIndexed(token: bigint, key: Buffer): boolean {
    if (this.index === undefined) return false;
    const at = indexAfter(this.index, token, key) - 1;
    const entry = this.index[at];
    return entry !== undefined && entry.token === token && entry.key.equals(key);
  }

  /**
   * Every entry in (token, key) order, each key hashed once: what a checkpoint writes,
   * in the store's own key order (memtable-token-order.ts says why and how). The
   * memtable must not change while the result is used: a checkpoint takes it from a
   * frozen memtable.
   */
  inTokenOrder(tokenOf: TokenFunction): Promise<TokenOrderedEntries> {
    return TokenOrderedEntries.of([...this.records.values()], tokenOf);
  }

  /** Every record held, as views of the slabs (see `get`). */
  *values(): IterableIterator<KvRecord> {
    for (const entry of this.records.values()) yield entry.record();
  }

  /**
   * Every key in (token, key) order. Built on first use (one token hash per key and a
   * sort), then only the keys written since are hashed, sorted and merged in. The array
   * is replaced, never changed, so a caller may hold on to it while it walks. It may hold
   * stale entries of removed keys, for which `get` answers undefined; once they are an
   * eighth of it they are filtered out.
   */
  ordered(tokenOf: TokenFunction): readonly IndexedKey[] {
    const entry = (mapKey: string): IndexedKey => {
      const key = this.records.get(mapKey)!.key();
      return { token: tokenOf(key), key, mapKey };
    };
    if (this.index === undefined) {
      this.index = [...this.records.keys()].map(entry).sort(byTokenKey);
      this.unindexed = [];
      this.staleInIndex.clear();
      this.notedThenRemoved = false;
    } else if (this.unindexed.length > 0) {
      // A noted key may have been removed before this scan, and noted again when put again.
      const noted = this.notedThenRemoved ? [...new Set(this.unindexed)].filter((mapKey) => this.records.has(mapKey)) : this.unindexed;
      const fresh = noted.map(entry).sort(byTokenKey);
      this.unindexed = [];
      this.notedThenRemoved = false;
      this.index = mergeSorted(this.index, fresh);
    }
    if (this.staleInIndex.size > 0 && this.staleInIndex.size * 8 >= this.index.length) {
      const stale = this.staleInIndex;
      this.index = this.index.filter((indexed) => !stale.has(indexed.mapKey));
      stale.clear();
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
