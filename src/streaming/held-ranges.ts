// The token ranges this node may hold records of: every range it has replicated, in the
// read ring or the write ring, since its last cleanup (src/streaming/range-cleanup.ts).
// When members join, a node keeps the records of the ranges it hands over until a
// cleanup deletes them; whether it still holds such ranges is what Status reports as
// `cleanup.needed` and what the scale controller acts on. The set only grows as the
// rings change (each new view adds what the node replicates in it) and shrinks to the
// ranges it replicates when a cleanup finishes.
//
// Kept as sorted, merged closed token intervals and saved through a store (the node's
// data directory) whenever it grows. A save that a crash cuts off can lose a range the
// node replicated only in the view just before the crash; `needed` is then too low for
// that range, which only delays an automatic cleanup: `qkv cleanup` itself always goes
// by the rings, never by this set.
import type { Logger } from '../logging/logger.js';
import { replicatedRanges, unreplicatedRanges, type RingPair } from '../ring/replicated-ranges.js';
import { rangeIntervals, TOKEN_MAX, TOKEN_MIN, type TokenRange } from '../ring/token-range.js';
import type { TokenInterval } from './completed-ranges.js';

export interface HeldRangesStore {
  save(intervals: readonly TokenInterval[]): Promise<void>;
}

/** What a node that cannot know what it holds (a data directory from before this was kept) assumes. */
export const EVERY_TOKEN: readonly TokenInterval[] = Object.freeze([{ low: TOKEN_MIN, high: TOKEN_MAX }]);

export class HeldRanges {
  private held: readonly TokenInterval[];
  private saveTail: Promise<void> = Promise.resolve();
  /** The last answer of needsCleanup, for the same rings and the same held set. */
  private cached: { rings: RingPair; held: readonly TokenInterval[]; needed: boolean } | undefined;

  constructor(
    initial: readonly TokenInterval[],
    private readonly options: { readonly nodeId: string; readonly store: HeldRangesStore; readonly logger: Logger },
  ) {
    this.held = mergeIntervals([...initial]);
  }

  intervals(): readonly TokenInterval[] {
    return this.held;
  }

  /** The rings changed: what the node replicates in them it may hold from now on. */
  observe(rings: RingPair): void {
    const grown = mergeIntervals([...this.held, ...intervalsOf(replicatedRanges(rings, this.options.nodeId))]);
    if (sameIntervals(grown, this.held)) return;
    this.held = grown;
    this.save().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not save the ranges this node holds; the next ring change retries'));
  }

  /** Whether the node may hold records of ranges it replicates in neither of `rings`. */
  needsCleanup(rings: RingPair): boolean {
    const cached = this.cached;
    if (cached !== undefined && cached.rings === rings && cached.held === this.held) return cached.needed;
    const needed = intersects(this.held, intervalsOf(unreplicatedRanges(rings, this.options.nodeId)));
    this.cached = { rings, held: this.held, needed };
    return needed;
  }

  /**
   * A cleanup that went by `cleaned` finished: the node holds only what it replicates
   * there, and in `current` (a view that arrived as it finished).
   */
  async cleaned(cleaned: RingPair, current: RingPair): Promise<void> {
    const { nodeId } = this.options;
    this.held = mergeIntervals([...intervalsOf(replicatedRanges(cleaned, nodeId)), ...intervalsOf(replicatedRanges(current, nodeId))]);
    await this.save();
  }

  /** One save at a time, each writing the set as it is when it starts. */
  private save(): Promise<void> {
    const run = this.saveTail.then(() => this.options.store.save(this.held));
    this.saveTail = run.catch(() => {});
    return run;
  }
}

function intervalsOf(ranges: readonly TokenRange[]): TokenInterval[] {
  return ranges.flatMap((range) => rangeIntervals(range));
}

/** Sorted, with overlapping and adjacent intervals merged. */
export function mergeIntervals(intervals: TokenInterval[]): TokenInterval[] {
  intervals.sort((a, b) => (a.low < b.low ? -1 : a.low > b.low ? 1 : 0));
  const merged: Array<{ low: bigint; high: bigint }> = [];
  for (const { low, high } of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && low <= last.high + 1n) {
      if (high > last.high) last.high = high;
    } else {
      merged.push({ low, high });
    }
  }
  return merged;
}

/** Whether two sorted, merged interval lists share a token. */
export function intersects(a: readonly TokenInterval[], b: readonly TokenInterval[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x.high < y.low) i++;
    else if (y.high < x.low) j++;
    else return true;
  }
  return false;
}

function sameIntervals(a: readonly TokenInterval[], b: readonly TokenInterval[]): boolean {
  return a.length === b.length && a.every((interval, index) => interval.low === b[index]!.low && interval.high === b[index]!.high);
}
