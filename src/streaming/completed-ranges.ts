// The token ranges a join or a decommission has already moved, so that a restart
// resumes where it stopped. Ranges are kept as sorted, merged closed intervals of
// tokens [low, high]: a range computed from a later ring (other members joined in the
// meantime) counts as done only when every token of it lies in a done interval.
import { rangeIntervals, type TokenRange } from '../ring/token-range.js';

export interface TokenInterval {
  readonly low: bigint;
  readonly high: bigint;
}

export class CompletedRanges {
  private intervals: TokenInterval[] = [];

  constructor(intervals: readonly TokenInterval[] = []) {
    for (const interval of intervals) this.addInterval(interval);
  }

  add(range: TokenRange): void {
    for (const interval of rangeIntervals(range)) this.addInterval(interval);
  }

  covers(range: TokenRange): boolean {
    return rangeIntervals(range).every(({ low, high }) => this.intervals.some((done) => done.low <= low && high <= done.high));
  }

  /** The merged intervals, ascending (what the progress file stores). */
  toIntervals(): readonly TokenInterval[] {
    return this.intervals;
  }

  get size(): number {
    return this.intervals.length;
  }

  private addInterval(added: TokenInterval): void {
    if (added.low > added.high) throw new RangeError(`interval [${added.low}, ${added.high}] is empty`);
    let low = added.low;
    let high = added.high;
    const kept: TokenInterval[] = [];
    for (const interval of this.intervals) {
      // Overlapping or adjacent intervals merge into one.
      if (interval.high + 1n < low || high + 1n < interval.low) kept.push(interval);
      else {
        if (interval.low < low) low = interval.low;
        if (interval.high > high) high = interval.high;
      }
    }
    kept.push({ low, high });
    kept.sort((a, b) => (a.low < b.low ? -1 : a.low > b.low ? 1 : 0));
    this.intervals = kept;
  }
}
