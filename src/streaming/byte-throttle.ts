// Paces streaming to a byte rate (Cassandra's stream_throughput_outbound): each batch
// takes its share of the budget before it is applied, and a caller that is ahead of
// the rate waits. Up to one second of unused budget may be spent at once, so a stream
// that paused (a slow scan, a retry) catches up briefly instead of losing its share.
import { setTimeout as sleep } from 'node:timers/promises';

const BURST_MS = 1_000;

export class ByteThrottle {
  /** The moment (ms) at which every byte taken so far has been paid for. */
  private paidUntilMs = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) throw new RangeError(`bytesPerSecond must be positive, got ${bytesPerSecond}`);
  }

  /** Resolves once `bytes` fit the rate; rejects with an AbortError when `signal` aborts. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = this.nowMs();
    this.paidUntilMs = Math.max(this.paidUntilMs, now - BURST_MS) + (bytes * 1000) / this.bytesPerSecond;
    const waitMs = this.paidUntilMs - now;
    if (waitMs >= 1) await sleep(waitMs, undefined, signal === undefined ? undefined : { signal });
  }
}
