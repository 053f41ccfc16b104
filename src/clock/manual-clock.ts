// A Clock that moves only when told to (TigerBeetle's simulated time, raft's manual
// clocks in tests). `advance(ms)` fires the timers that fall due, in the order of their
// due time (then the order they were set), and lets the promise reactions each one starts
// run before the next fires, so a test can say "20 ms pass" and then look at what
// happened, without sleeping and without depending on how busy the machine is.
//
// It ships beside the real clock, like MemoryNetwork beside the gRPC transport: a whole
// cluster in one process runs on it.
import assert from 'node:assert/strict';
import type { Clock, Timer } from './clock.js';

/** 2023-11-14T22:13:20Z: a fixed, realistic epoch time, so stamps and expiries look like real ones. */
export const MANUAL_CLOCK_START_MS = 1_700_000_000_000;

interface PendingTimer {
  readonly dueMs: number;
  readonly order: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  private currentMs: number;
  private readonly pending = new Set<PendingTimer>();
  private timersSet = 0;
  private advancing: Promise<void> = Promise.resolve();

  constructor(startMs: number = MANUAL_CLOCK_START_MS) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const timer: PendingTimer = { dueMs: this.currentMs + Math.max(0, delayMs), order: this.timersSet++, callback };
    this.pending.add(timer);
    return { cancel: () => this.pending.delete(timer) };
  }

  setRepeating(intervalMs: number, callback: () => void): Timer {
    assert.ok(intervalMs > 0, 'a repeating timer needs a positive interval');
    let current: Timer;
    const arm = (): void => {
      current = this.setTimer(intervalMs, () => {
        arm();
        callback();
      });
    };
    arm();
    return { cancel: () => current.cancel() };
  }

  /** Timers set and neither fired nor cancelled (a repeating timer counts once). */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in due order; each
   * timer's promise reactions (and timers it sets that fall due in the window) run
   * before the next. Resolves once time stands at the new value and the work it started
   * has run as far as it can without more time passing.
   */
  async advance(ms: number): Promise<void> {
    assert.ok(ms >= 0, 'time does not run backwards on a manual clock');
    // Calls that overlap (a poll that does not await its advance) run one after the
    // other, each from where the previous one left time: two advance(50) move it by 100.
    const run = this.advancing.then(() => this.advanceNow(ms));
    this.advancing = run.catch(() => {});
    return run;
  }

  private async advanceNow(ms: number): Promise<void> {
    const targetMs = this.currentMs + ms;
    await settleTurn();
    for (let next = this.nextDue(targetMs); next !== undefined; next = this.nextDue(targetMs)) {
      this.pending.delete(next);
      this.currentMs = Math.max(this.currentMs, next.dueMs);
      next.callback();
      await settleTurn();
    }
    this.currentMs = targetMs;
    await settleTurn();
  }

  /** Sets the time (forwards or backwards) without firing timers: a wall clock that steps. */
  set(nowMs: number): void {
    this.currentMs = nowMs;
  }

  private nextDue(limitMs: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (timer.dueMs > limitMs) continue;
      if (earliest === undefined || timer.dueMs < earliest.dueMs || (timer.dueMs === earliest.dueMs && timer.order < earliest.order)) earliest = timer;
    }
    return earliest;
  }
}

/**
 * Lets the promise reactions and I/O callbacks queued so far run: setImmediate comes
 * after the microtask queue has drained. A few rounds, because a chain of awaits that
 * crosses one setImmediate (as MemoryNetwork's delivery does not, but a storage engine
 * may) needs another.
 */
async function settleTurn(): Promise<void> {
  for (let round = 0; round < 3; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}
