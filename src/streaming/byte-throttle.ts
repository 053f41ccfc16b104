// Paces streaming to a byte rate (Cassandra's stream_throughput_outbound): each batch
// takes its share of the budget before it is applied, and a caller that is ahead of
// the rate waits. Up to one second of unused budget may be spent at once, so a stream
// that paused (a slow scan, a retry) catches up briefly instead of losing its share.
//
// Time is the node's Clock (src/clock/clock.ts, docs/decisions/0120-clock-port.md): the
// rate is kept on virtual time in tests and in a cluster run on a ManualClock, where a
// throttle on the machine's time would make a "slow" stream wait for real.
import type { Clock } from '../clock/clock.js';

const BURST_MS = 1_000;

export class ByteThrottle {
  /** The moment (ms) at which every byte taken so far has been paid for. */
  private paidUntilMs = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: Clock,
  ) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
  }

  /**
   * Resolves once `bytes` fit the rate; rejects with the signal's reason (an AbortError
   * unless the caller gave another) when `signal` aborts, before or while it waits.
   */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.clock.nowMs();
    this.paidUntilMs = Math.max(this.paidUntilMs, now - BURST_MS) + (bytes * 1000) / this.bytesPerSecond;
    const waitMs = this.paidUntilMs - now;
    if (waitMs < 1) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        timer.cancel();
        reject(signal!.reason);
      };
      const timer = this.clock.setTimer(waitMs, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
