// The time port: what the core reads the time from and sets its timers with. Deadlines,
// pacing and periodic work go through a Clock passed in, never straight to Date.now()
// and setTimeout, so a test can run them on virtual time (manual-clock.ts) instead of
// waiting, and a deadline fires when the test says so rather than when the machine gets
// round to it (docs/decisions/0120-clock-port.md).
//
// The hybrid logical clock (hybrid-logical-clock.ts) stamps versions; it reads its wall
// time from a function, which a Clock's nowMs can be.

/** A timer set with Clock.setTimer; cancel() before it fires stops it (afterwards it does nothing). */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** Runs `callback` once, `delayMs` from now (at once for 0 or less, but never synchronously). */
  setTimer(delayMs: number, callback: () => void): Timer;
  /**
   * Runs `callback` every `intervalMs` until cancelled: periodic background work
   * (probes, hint replay, anti-entropy), which must not keep the process alive by itself.
   */
  setRepeating(intervalMs: number, callback: () => void): Timer;
}

/** The machine's clock: Date.now() and setTimeout. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer(delayMs, callback) {
    const timeout = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timeout) };
  },
  setRepeating(intervalMs, callback) {
    const interval = setInterval(callback, intervalMs);
    interval.unref();
    return { cancel: () => clearInterval(interval) };
  },
};

/** Resolves `delayMs` from now on `clock`. */
export function sleepOn(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(delayMs, resolve));
}
