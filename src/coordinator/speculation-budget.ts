// A bound on the extra reads latency speculation sends (ADR 0175). When the whole
// cluster is slow (overload, a saturated CPU), every replica misses its p99 and a spare
// on every read would add a third read to every read exactly when there is no capacity
// for it: Finagle's retry budget and Cassandra's speculative retry under load show the
// same hazard. Each read earns `ratio` of a speculation, up to `burst` saved, and a
// speculation spends one, so over time at most `ratio` of reads speculate on latency.
// Spares asked because a replica FAILED are not budgeted: they are what keeps the read
// available.

/** At most one read in ten asks a spare for latency, over time. */
export const SPECULATION_RATIO = 0.1;
/** Speculations saved for a burst after a quiet spell. */
export const SPECULATION_BURST = 10;

export class SpeculationBudget {
  private tokens: number;

  constructor(
    private readonly ratio: number = SPECULATION_RATIO,
    private readonly burst: number = SPECULATION_BURST,
  ) {
    this.tokens = burst;
  }

  /** One read started. */
  earn(): void {
    this.tokens = Math.min(this.burst, this.tokens + this.ratio);
  }

  /** Whether one speculation may be sent now; spends it when it may. */
  trySpend(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
