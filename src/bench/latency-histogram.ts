// Latencies of one kind of operation in an HdrHistogram (hdr-histogram-js): microsecond
// resolution, 3 significant digits from 1 µs to BENCH_LATENCY_US_MAX, constant memory
// however long the run, and exact merging, so per-interval and whole-run percentiles
// come from the same data. The pure-JavaScript build is used: the WebAssembly one needs
// an asynchronous initialisation and buys nothing at a few hundred thousand values/s.
import hdr from 'hdr-histogram-js';
import { BENCH_LATENCY_US_MAX } from '../limits.js';

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: BENCH_LATENCY_US_MAX,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

  /** Records one latency given in milliseconds (fractions kept to the microsecond). */
  recordMs(latencyMs: number): void {
    const us = Math.round(latencyMs * 1000);
    this.histogram.recordValue(Math.min(BENCH_LATENCY_US_MAX, Math.max(1, us)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  reset(): void {
    this.histogram.reset();
  }

  percentileMs(percentile: number): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    const count = this.histogram.totalCount;
    if (count === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
    return {
      count,
      meanMs: round3(this.histogram.mean / 1000),
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: this.histogram.maxValue / 1000,
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
