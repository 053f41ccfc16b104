// Hybrid logical clock (Kulkarni et al., 2014). A stamp is one 64-bit bigint: the upper
// 48 bits are wall-clock milliseconds, the lower 16 bits a logical counter. Stamps from
// one clock strictly increase even when the wall clock steps backwards, and `observe`
// folds in stamps seen from peers so causally later writes get later stamps.
//
// The wall clock is injected so tests can move it backwards on purpose.
import assert from 'node:assert/strict';
import { HLC_FORWARD_DRIFT_MS_MAX } from '../limits.js';

// The bound lives with the other limits; it is exported here too, where readers of the
// clock look for it.
export { HLC_FORWARD_DRIFT_MS_MAX };

export const LOGICAL_BITS = 16n;
const LOGICAL_MAX = (1n << LOGICAL_BITS) - 1n;
const WALL_MS_MAX = (1n << 48n) - 1n;

export type WallClock = () => number;

export function stampOf(wallMs: bigint, logical: bigint): bigint {
  assert.ok(wallMs >= 0n && wallMs <= WALL_MS_MAX, 'wall ms out of 48-bit range');
  assert.ok(logical >= 0n && logical <= LOGICAL_MAX, 'logical out of 16-bit range');
  return (wallMs << LOGICAL_BITS) | logical;
}

export function wallMsOf(stamp: bigint): bigint {
  return stamp >> LOGICAL_BITS;
}

export function logicalOf(stamp: bigint): bigint {
  return stamp & LOGICAL_MAX;
}

export class HybridLogicalClock {
  private last = 0n;

  constructor(private readonly wallClock: WallClock = Date.now) {}

  /** A stamp greater than every stamp this clock has issued or observed. */
  now(): bigint {
    const wallMs = BigInt(this.wallMs());
    const lastWall = wallMsOf(this.last);
    if (wallMs > lastWall) {
      this.last = stampOf(wallMs, 0n);
    } else {
      this.last = this.advanceLogical(lastWall, logicalOf(this.last));
    }
    return this.last;
  }

  /**
   * Folds in a stamp seen from elsewhere so later local stamps sort after it. A stamp
   * this clock does not accept (see `accepts`) is not adopted (returns false): one peer
   * with a wild clock, or a forged stamp near 2^64, must not drag every later local
   * stamp with it or exhaust the 48-bit wall field.
   */
  observe(remote: bigint): boolean {
    if (remote <= this.last) return true;
    if (!this.accepts(remote)) return false;
    this.last = remote;
    return true;
  }

  /**
   * Whether `observe` would take `remote` in, without taking it: true for a stamp this
   * clock has reached already (issued or observed, even while its wall clock has since
   * stepped back), and for one at most HLC_FORWARD_DRIFT_MS_MAX ahead of the wall clock.
   * No honest node issues a stamp beyond that, so a record carrying one is refused
   * wherever it would be stored (src/replica/record-from-future.ts).
   */
  accepts(remote: bigint): boolean {
    if (remote <= this.last) return true;
    return wallMsOf(remote) <= BigInt(this.wallMs()) + BigInt(HLC_FORWARD_DRIFT_MS_MAX);
  }

  /** The wall clock this HLC runs on, in whole milliseconds since the epoch. */
  wallMs(): number {
    return Math.floor(this.wallClock());
  }

  private advanceLogical(wallMs: bigint, logical: bigint): bigint {
    // When 65536 stamps are issued within one millisecond the counter would wrap;
    // borrowing the next millisecond keeps the order strict at the cost of running
    // a millisecond ahead of the wall clock.
    if (logical === LOGICAL_MAX) return stampOf(wallMs + 1n, 0n);
    return stampOf(wallMs, logical + 1n);
  }
}
