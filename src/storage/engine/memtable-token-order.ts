// A memtable's entries in (token, key) order, the ordered store's key order, for a
// checkpoint to write them in. LMDB is a B-tree: a checkpoint that wrote the memtable in
// its map's (insertion) order sent each record of a chunk to a random leaf page, so one
// chunk of 8192 records dirtied, copied and wrote back up to 8192 pages, and the next
// chunk most of the same pages again. In token order a chunk covers one stretch of the
// key space and dirties only the pages of that stretch
// (docs/decisions/0235-checkpoints-in-token-order.md has the measurements).
//
// The order is built to be cheap and to hold the event loop only briefly:
// - each key is hashed once, in slices with a yield to the event loop between them,
//   into two Uint32Arrays (the token's high and low halves), so no bigint is kept per
//   entry and comparing two tokens allocates nothing;
// - the entries are distributed into buckets by the top bits of their token (one
//   counting pass; tokens are hashes, so the buckets fill evenly), and a bucket is
//   sorted only when its chunk is written, so no single sort covers the whole memtable
//   (one sort of 200 000 entries held the event loop for 150–300 ms on the loaded
//   development machine) and each sort is small;
// - a bucket larger than a chunk (the tokens crowd into part of the ring, as when a node
//   receives one token range) is split by its own tokens before any sort (ADR 0236).
// The scan index (Memtable.ordered) serves scans, which reuse it; it keeps an object and
// a bigint per key, too much to build for every checkpoint.
import assert from 'node:assert/strict';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { TokenFunction } from '../../ring/token-range.js';
import type { MemtableEntry } from './memtable-entry.js';

/** Keys hashed between two yields to the event loop. */
const HASH_SLICE_ENTRIES = 8192;
/** Entries per bucket on average; a chunk takes whole buckets while they fit. */
const BUCKET_ENTRIES_MEAN = 1024;

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class TokenOrderedEntries {
  /** Where each bucket starts in `order`; bucket b ends where b + 1 starts. */
  private readonly bucketStart: Int32Array;
  /**
   * Entry indexes (into `entries`), grouped by bucket in bucket order; a bucket's
   * stretch is sorted by `sortedRanges` before anyone reads it.
   */
  private readonly order: Int32Array;
  /** order[0, sortedEnd) is sorted: what sortedRanges has handed out so far. */
  private sortedUntil = 0;
  /** The most entries one sort took: the event loop is held for that sort. */
  private largestSort = 0;

  private constructor(
    private readonly entries: readonly MemtableEntry[],
    private readonly tokenHigh: Uint32Array,
    private readonly tokenLow: Uint32Array,
  ) {
    const count = entries.length;
    const buckets = Math.max(1, Math.ceil(count / BUCKET_ENTRIES_MEAN));
    // A bucket is a range of the token's high half: bucket = floor(high * buckets / 2^32),
    // which keeps bucket order equal to token order.
    const bucketOf = (index: number): number => Math.floor((tokenHigh[index]! * buckets) / 0x1_0000_0000);
    const starts = new Int32Array(buckets + 1);
    for (let index = 0; index < count; index++) starts[bucketOf(index) + 1]!++;
    for (let bucket = 0; bucket < buckets; bucket++) starts[bucket + 1]! += starts[bucket]!;
    const next = starts.slice(0, buckets);
    const order = new Int32Array(count);
    for (let index = 0; index < count; index++) order[next[bucketOf(index)]!++] = index;
    this.bucketStart = starts;
    this.order = order;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Positions below this one are in order (handed out by sortedRanges). */
  get sortedEnd(): number {
    return this.sortedUntil;
  }

  /** The most entries sorted at once so far (each sort holds the event loop). */
  get largestSortEntries(): number {
    return this.largestSort;
  }

  /** Hashes every entry's key once, yielding to the event loop between slices, and buckets them. */
  static async of(entries: readonly MemtableEntry[], tokenOf: TokenFunction): Promise<TokenOrderedEntries> {
    const count = entries.length;
    const tokenHigh = new Uint32Array(count);
    const tokenLow = new Uint32Array(count);
    // One token at a time through an 8-byte scratch: its halves as numbers, no bigint kept.
    const scratch = new BigUint64Array(1);
    const halves = new Uint32Array(scratch.buffer);
    const highAt = hostIsLittleEndian ? 1 : 0;
    for (let index = 0; index < count; index++) {
      if (index > 0 && index % HASH_SLICE_ENTRIES === 0) await yieldToEventLoop();
      scratch[0] = tokenOf(entries[index]!.key());
      tokenHigh[index] = halves[highAt]!;
      tokenLow[index] = halves[1 - highAt]!;
    }
    return new TokenOrderedEntries(entries, tokenHigh, tokenLow);
  }

  /**
   * The positions [from, to) of chunks of at most `chunkEntriesMax` entries, in token
   * order: whole buckets while they fit. Each chunk's stretch is sorted just before it is
   * handed out, so no sort takes more than one chunk's entries: a bucket larger than a
   * chunk is first split by its own tokens (`split`), as often as it takes. Buckets
   * overflow when the tokens crowd into part of the ring, as when a node receives one
   * token range (a bootstrap or repair stream): one sort of such a memtable held the
   * event loop for 200 ms (ADR 0235).
   */
  *sortedRanges(chunkEntriesMax: number): Generator<{ readonly from: number; readonly to: number }> {
    assert.ok(chunkEntriesMax >= 1, 'a chunk holds at least one entry');
    yield* this.rangesOver(this.bucketStart, chunkEntriesMax);
  }

  /**
   * sortedRanges over the stretches of `order` that `bounds` delimits (stretch s is
   * [bounds[s], bounds[s + 1]), each unsorted, in token order of one another).
   */
  private *rangesOver(bounds: Int32Array, chunkEntriesMax: number): Generator<{ readonly from: number; readonly to: number }> {
    const stretches = bounds.length - 1;
    let stretch = 0;
    while (stretch < stretches) {
      const from = bounds[stretch]!;
      const to = bounds[stretch + 1]!;
      if (to - from > chunkEntriesMax) {
        const parts = this.split(from, to);
        if (parts !== undefined) {
          yield* this.rangesOver(parts, chunkEntriesMax);
          stretch++;
          continue;
        }
      }
      // The stretches [stretch, last) that fit in one chunk; at least one, which is
      // larger than a chunk only when it cannot be split (sorted whole, then cut).
      let last = stretch + 1;
      while (last < stretches && bounds[last + 1]! - from <= chunkEntriesMax) last++;
      const end = bounds[last]!;
      this.sortStretch(from, end);
      for (let at = from; at < end; at += chunkEntriesMax) yield { from: at, to: Math.min(end, at + chunkEntriesMax) };
      stretch = last;
    }
  }

  /**
   * Distributes the entries of order[from, to) into parts of about BUCKET_ENTRIES_MEAN by
   * where their token lies between the stretch's least and greatest (a token as a double
   * is rounded, but rounding never reverses an order, so the parts stay in token order);
   * returns the parts' bounds. At least two parts get an entry, so each is smaller than
   * the stretch. Undefined when every token rounds to the same double: only keys whose
   * tokens lie within about 2^12 of one another, which a hash does not produce.
   */
  private split(from: number, to: number): Int32Array | undefined {
    const { order } = this;
    let least = Number.POSITIVE_INFINITY;
    let greatest = Number.NEGATIVE_INFINITY;
    for (let position = from; position < to; position++) {
      const token = this.tokenNumberOf(order[position]!);
      if (token < least) least = token;
      if (token > greatest) greatest = token;
    }
    if (!(greatest > least)) return undefined;
    const parts = Math.max(2, Math.ceil((to - from) / BUCKET_ENTRIES_MEAN));
    const span = greatest - least;
    const partOf = (index: number): number => Math.min(parts - 1, Math.floor(((this.tokenNumberOf(index) - least) / span) * parts));
    const stretch = order.slice(from, to);
    const bounds = new Int32Array(parts + 1);
    for (const index of stretch) bounds[partOf(index) + 1]!++;
    bounds[0] = from;
    for (let part = 0; part < parts; part++) bounds[part + 1]! += bounds[part]!;
    const next = bounds.slice(0, parts);
    for (const index of stretch) order[next[partOf(index)]!++] = index;
    return bounds;
  }

  /** The token of entry `index` as a double: rounded, in the same order as the tokens. */
  private tokenNumberOf(index: number): number {
    return this.tokenHigh[index]! * 0x1_0000_0000 + this.tokenLow[index]!;
  }

  /** The entry at `position` of the order (once its range was handed out by sortedRanges). */
  entryAt(position: number): MemtableEntry {
    return this.entries[this.order[position]!]!;
  }

  /** The high 32 bits of the token of the entry at `position`. */
  tokenHighAt(position: number): number {
    return this.tokenHigh[this.order[position]!]!;
  }

  /** The low 32 bits of the token of the entry at `position`. */
  tokenLowAt(position: number): number {
    return this.tokenLow[this.order[position]!]!;
  }

  /** Sorts order[from, to) by (token, key bytes); stretches are sorted front to back. */
  private sortStretch(from: number, to: number): void {
    assert.equal(from, this.sortedUntil, 'token order sorted out of turn');
    const { entries, tokenHigh: high, tokenLow: low } = this;
    const stretch = Array.from(this.order.subarray(from, to));
    stretch.sort((a, b) => high[a]! - high[b]! || low[a]! - low[b]! || compareKeyBytes(entries[a]!, entries[b]!));
    this.order.set(stretch, from);
    this.sortedUntil = to;
    this.largestSort = Math.max(this.largestSort, to - from);
  }
}

/** Bytewise order of two entries' keys (two keys whose tokens are equal). */
function compareKeyBytes(a: MemtableEntry, b: MemtableEntry): number {
  return a.slab.compare(b.slab, b.keyOffset, b.keyOffset + b.keyLength, a.keyOffset, a.keyOffset + a.keyLength);
}
