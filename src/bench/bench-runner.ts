// The closed-loop workload runner behind `qkv bench`. `concurrency` virtual clients each
// keep exactly one request in flight: pick a key (uniform or zipfian), read it or update
// it in the workload's proportion, record the latency, repeat until the run ends. Three
// phases, as in YCSB: load (write every key once, so reads find data), warm-up
// (operations that are not recorded: connections, JIT), and the measured run.
//
// Throughput is completed operations over the measured time; a failed operation is
// counted by its error code and kept out of the latency histograms. With `batchItems`
// above 1 an update is one BatchPut of that many keys, and throughput is also given in
// keys per second. With `ratePerSecond` the clients together start at most that many
// operations per second (warm-up and run; the load phase is never paced): at a fixed
// rate the servers batch the same way whatever else the machine runs, which is what
// comparing their CPU time per operation needs.
import { performance } from 'node:perf_hooks';
import type { BenchItem, BenchTarget } from './bench-target.js';
import { createKeyChooser, type Distribution, type KeyChooser } from './key-chooser.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';
import { keyOf, type Workload } from './workload.js';

/** Keys per call when the load phase can use the target's batch call. */
export const LOAD_BATCH_ITEMS = 100;
/** Distinct random values cycled through, so values differ without a random fill per write. */
const VALUE_POOL_SIZE = 64;
/** A worker gives the event loop a turn this often, so progress timers run whatever the target. */
const YIELD_EVERY_OPERATIONS = 64;

export interface BenchOptions {
  readonly workload: Workload;
  readonly distribution: Distribution;
  readonly records: number;
  readonly valueBytes: number;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Keys per update: 1 = Put, more = one BatchPut of that many keys. */
  readonly batchItems: number;
  /** Write every key once before the run. */
  readonly load: boolean;
  /** Operations started per second by all clients together; 0 or absent = as fast as they answer. */
  readonly ratePerSecond?: number;
  readonly progressIntervalMs: number;
  readonly onProgress?: (progress: BenchProgress) => void;
  /** Called as the measured phase starts and after it ends. */
  readonly onRunPhase?: (event: 'start' | 'end') => void;
  readonly random?: () => number;
}

export interface BenchProgress {
  readonly phase: 'load' | 'warmup' | 'run';
  readonly elapsedMs: number;
  /** Operations (keys in the load phase) completed so far in this phase. */
  readonly done: number;
  /** Over the last interval. */
  readonly opsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface LoadResult {
  readonly keys: number;
  readonly elapsedMs: number;
  readonly keysPerSecond: number;
  readonly errors: Readonly<Record<string, number>>;
}

export interface OperationResult {
  readonly operations: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary;
}

export interface BenchResult {
  readonly load: LoadResult | null;
  readonly elapsedMs: number;
  readonly operations: number;
  readonly opsPerSecond: number;
  /** Keys written or read per second (operations × batch size for batched updates). */
  readonly keysPerSecond: number;
  readonly read: OperationResult;
  readonly update: OperationResult;
  readonly all: OperationResult;
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
}

export async function runBench(target: BenchTarget, options: BenchOptions): Promise<BenchResult> {
  const random = options.random ?? Math.random;
  const values = valuePool(options.valueBytes, random);
  const load = options.load ? await loadPhase(target, options, values) : null;
  const chooser = createKeyChooser(options.distribution, options.records, random);
  if (options.warmupMs > 0) await measuredPhase('warmup', target, options, chooser, values, random, options.warmupMs);
  options.onRunPhase?.('start');
  const run = await measuredPhase('run', target, options, chooser, values, random, options.durationMs);
  options.onRunPhase?.('end');
  return { load, ...run };
}

async function loadPhase(target: BenchTarget, options: BenchOptions, values: readonly Buffer[]): Promise<LoadResult> {
  const errors = new ErrorCounter();
  const batch = target.batchPut !== undefined ? LOAD_BATCH_ITEMS : 1;
  let next = 0;
  let done = 0;
  const startedMs = performance.now();
  const progress = new ProgressTicker(options, 'load', startedMs, () => ({ done, errors: errors.total }));
  const worker = async (): Promise<void> => {
    while (next < options.records) {
      const first = next;
      const end = Math.min(options.records, first + batch);
      next = end;
      const callStartedMs = performance.now();
      try {
        if (batch === 1) {
          await target.put(keyOf(first), values[first % values.length]!);
        } else {
          const items: BenchItem[] = [];
          for (let record = first; record < end; record++) items.push({ key: keyOf(record), value: values[record % values.length]! });
          const failed = await target.batchPut!(items);
          if (failed > 0) errors.add('BATCH_ITEM_FAILED', failed);
        }
        progress.record(performance.now() - callStartedMs, end - first);
      } catch (error) {
        errors.add(errorCodeOf(error), end - first);
      }
      done += end - first;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    progress.stop();
  }
  const elapsedMs = performance.now() - startedMs;
  return { keys: options.records, elapsedMs: Math.round(elapsedMs), keysPerSecond: Math.round((options.records * 1000) / elapsedMs), errors: errors.snapshot() };
}

async function measuredPhase(
  phase: 'warmup' | 'run',
  target: BenchTarget,
  options: BenchOptions,
  chooser: KeyChooser,
  values: readonly Buffer[],
  random: () => number,
  durationMs: number,
): Promise<Omit<BenchResult, 'load'>> {
  const reads = new LatencyHistogram();
  const updates = new LatencyHistogram();
  const errors = new ErrorCounter();
  const { readFraction } = options.workload;
  const batchItems = options.batchItems;
  let valueIndex = 0;
  const startedMs = performance.now();
  const endMs = startedMs + durationMs;
  const pace = pacer(options.ratePerSecond ?? 0, startedMs);
  const progress = new ProgressTicker(options, phase, startedMs, () => ({ done: reads.count + updates.count, errors: errors.total }));

  const worker = async (): Promise<void> => {
    let sinceYield = 0;
    // The end is checked by the clock, not by a timer: a target that answers without
    // I/O (a failing connection, a test double) never lets a timer run.
    while (performance.now() < endMs) {
      if (pace !== undefined) {
        await pace();
        if (performance.now() >= endMs) break;
      } else if (++sinceYield === YIELD_EVERY_OPERATIONS) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const isRead = readFraction === 1 || (readFraction > 0 && random() < readFraction);
      const callStartedMs = performance.now();
      try {
        if (isRead) {
          await target.get(keyOf(chooser()));
        } else if (batchItems === 1) {
          await target.put(keyOf(chooser()), values[valueIndex++ % values.length]!);
        } else {
          const items: BenchItem[] = [];
          for (let i = 0; i < batchItems; i++) items.push({ key: keyOf(chooser()), value: values[valueIndex++ % values.length]! });
          const failed = await target.batchPut!(items);
          if (failed > 0) errors.add('BATCH_ITEM_FAILED', failed);
        }
        const latencyMs = performance.now() - callStartedMs;
        (isRead ? reads : updates).recordMs(latencyMs);
        progress.record(latencyMs, 1);
      } catch (error) {
        errors.add(errorCodeOf(error), 1);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    progress.stop();
  }
  const elapsedMs = performance.now() - startedMs;
  const all = new LatencyHistogram();
  all.add(reads);
  all.add(updates);
  const rate = (count: number): number => Math.round((count * 1000) / elapsedMs);
  const operations = all.count;
  return {
    elapsedMs: Math.round(elapsedMs),
    operations,
    opsPerSecond: rate(operations),
    keysPerSecond: rate(reads.count + updates.count * batchItems),
    read: { operations: reads.count, opsPerSecond: rate(reads.count), latency: reads.summary() },
    update: { operations: updates.count, opsPerSecond: rate(updates.count), latency: updates.summary() },
    all: { operations, opsPerSecond: rate(operations), latency: all.summary() },
    errors: errors.snapshot(),
    errorCount: errors.total,
  };
}

/**
 * Hands out start times `1000 / ratePerSecond` ms apart, shared by all clients; the
 * returned function resolves at the caller's turn. A client that falls behind starts at
 * once, so the rate is an upper bound and is kept on average while the target keeps up.
 */
function pacer(ratePerSecond: number, startedMs: number): (() => Promise<void>) | undefined {
  if (ratePerSecond <= 0) return undefined;
  const intervalMs = 1000 / ratePerSecond;
  let nextMs = startedMs;
  return async () => {
    const nowMs = performance.now();
    const slotMs = Math.max(nextMs, nowMs - intervalMs);
    nextMs = slotMs + intervalMs;
    if (slotMs > nowMs) await new Promise((resolve) => setTimeout(resolve, slotMs - nowMs));
    else await new Promise((resolve) => setImmediate(resolve));
  };
}

/** Calls onProgress once per interval with that interval's rate and p99. */
class ProgressTicker {
  private readonly interval = new LatencyHistogram();
  private intervalUnits = 0;
  private lastTickMs: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    options: BenchOptions,
    phase: BenchProgress['phase'],
    startedMs: number,
    totals: () => { done: number; errors: number },
  ) {
    this.lastTickMs = startedMs;
    const onProgress = options.onProgress;
    if (onProgress === undefined) return;
    this.timer = setInterval(() => {
      const nowMs = performance.now();
      const { done, errors } = totals();
      onProgress({
        phase,
        elapsedMs: Math.round(nowMs - startedMs),
        done,
        opsPerSecond: Math.round((this.intervalUnits * 1000) / (nowMs - this.lastTickMs)),
        p99Ms: this.interval.percentileMs(99),
        errors,
      });
      this.interval.reset();
      this.intervalUnits = 0;
      this.lastTickMs = nowMs;
    }, options.progressIntervalMs);
  }

  record(latencyMs: number, units: number): void {
    if (this.timer === undefined) return;
    this.interval.recordMs(latencyMs);
    this.intervalUnits += units;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

class ErrorCounter {
  private readonly counts = new Map<string, number>();
  total = 0;

  add(code: string, count: number): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + count);
    this.total += count;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** A stable label for a failure: a QkvError's or Node's `code`, a gRPC status number, or the error's name. */
export function errorCodeOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (typeof code === 'number') return `GRPC_${code}`;
    if (error instanceof Error) return error.name;
  }
  return 'UNKNOWN';
}

function valuePool(valueBytes: number, random: () => number): Buffer[] {
  return Array.from({ length: VALUE_POOL_SIZE }, () => {
    const value = Buffer.allocUnsafe(valueBytes);
    for (let i = 0; i < valueBytes; i++) value[i] = Math.floor(random() * 256);
    return value;
  });
}
