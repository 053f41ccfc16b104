// How a `qkv bench` run is shown: the live progress line on a terminal, the human
// summary, and the JSON document (the stable form other tools, such as
// `npm run bench:compare`, read).
import type { BenchOptions, BenchProgress, BenchResult, OperationResult } from './bench-runner.js';

/** What a report says about its run: the runner's options plus the target and quorums. */
export interface BenchSettings
  extends Pick<BenchOptions, 'workload' | 'distribution' | 'records' | 'valueBytes' | 'concurrency' | 'durationMs' | 'warmupMs' | 'batchItems' | 'ratePerSecond'> {
  readonly target: string;
  readonly description: string;
  readonly w: number;
  readonly r: number;
}

/** One line, rewritten in place with `\r` and padded so a shorter line covers a longer one. */
export function progressLine(progress: BenchProgress): string {
  const seconds = (progress.elapsedMs / 1000).toFixed(0).padStart(4);
  const unit = progress.phase === 'load' ? 'keys' : 'ops';
  const text = `${progress.phase.padEnd(6)} ${seconds}s  ${String(progress.done).padStart(9)} ${unit}  ${String(progress.opsPerSecond).padStart(7)} ${unit}/s  p99 ${progress.p99Ms.toFixed(2).padStart(8)} ms  errors ${progress.errors}`;
  return `\r${text.padEnd(90)}`;
}

export function benchJson(settings: BenchSettings, result: BenchResult): object {
  return {
    target: settings.target,
    description: settings.description,
    workload: settings.workload.name,
    readFraction: settings.workload.readFraction,
    distribution: settings.distribution,
    records: settings.records,
    valueBytes: settings.valueBytes,
    concurrency: settings.concurrency,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    batchItems: settings.batchItems,
    ratePerSecond: settings.ratePerSecond ?? 0,
    w: settings.w,
    r: settings.r,
    ...result,
  };
}

export function benchText(settings: BenchSettings, result: BenchResult): string {
  const lines = [
    `target     ${settings.description}`,
    `workload   ${settings.workload.description}; ${settings.distribution} over ${settings.records} keys, ${settings.valueBytes}-byte values, ` +
      `${settings.concurrency} clients, ${settings.durationMs / 1000} s${settings.batchItems > 1 ? `, ${settings.batchItems} keys per BatchPut` : ''}` +
      `${settings.ratePerSecond ? `, at most ${settings.ratePerSecond} ops/s` : ''}`,
  ];
  if (result.load !== null) {
    lines.push(`load       ${result.load.keys} keys in ${(result.load.elapsedMs / 1000).toFixed(1)} s (${result.load.keysPerSecond} keys/s)`);
  }
  const header = ['', 'ops', 'ops/s', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'];
  const row = (name: string, op: OperationResult): string[] => [
    name,
    String(op.operations),
    String(op.opsPerSecond),
    ...[op.latency.meanMs, op.latency.p50Ms, op.latency.p90Ms, op.latency.p99Ms, op.latency.p999Ms, op.latency.maxMs].map((ms) => ms.toFixed(2)),
  ];
  const rows = [header];
  if (result.read.operations > 0) rows.push(row('read', result.read));
  if (result.update.operations > 0) rows.push(row(settings.batchItems > 1 ? 'batch-put' : 'update', result.update));
  rows.push(row('all', result.all));
  lines.push('', alignRight(rows), '');
  if (settings.batchItems > 1) lines.push(`keys/s     ${result.keysPerSecond}`);
  const errors = Object.entries(result.errors).map(([code, count]) => `${code} ${count}`);
  lines.push(`errors     ${errors.length === 0 ? 'none' : errors.join(', ')}`);
  return lines.join('\n') + '\n';
}

function alignRight(rows: ReadonlyArray<readonly string[]>): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[index]!))).join('  ')).join('\n');
}
