// The comparison's report: one Markdown table of throughput and p99 per workload and
// system with the ratios quorumkv/etcd and quorumkv/redis, the floor table (one node
// against the no-op gRPC server), and each target of issue 6 checked against the
// figures of this run. Markdown, so the output can go into docs/operations/performance.md as is.
import type { BenchSummary } from './bench-process.js';

export type SystemKey = 'etcd' | 'redis' | 'quorumkv' | 'quorumkv-1' | 'noop';

/** One run's summary and, where /proc could be read, the servers' CPU time during its measured phase. */
export type MeasuredRun = BenchSummary & { readonly serverCpuSeconds?: number };

/** Results by system, then by row name (put, get, a, b, batch-put). */
export type CompareResults = Map<SystemKey, Map<string, MeasuredRun>>;

export const ROWS: ReadonlyArray<{ readonly name: string; readonly label: string }> = [
  { name: 'put', label: 'put (write-only)' },
  { name: 'get', label: 'get (YCSB C)' },
  { name: 'a', label: 'YCSB A 50/50' },
  { name: 'b', label: 'YCSB B 95/5' },
];

/** The targets of the issue; the peer figures they compare with come from the same run. */
export const TARGET_PUT_VS_ETCD = 2;
export const TARGET_GET_VS_ETCD = 3;
export const TARGET_SINGLE_NODE_VS_FLOOR = 0.8;
export const TARGET_BATCH_PUT_KEYS_PER_SECOND = 100_000;

export function compareReport(results: CompareResults, batchItems: number): string {
  const lines: string[] = [];
  const cell = (system: SystemKey, row: string): string[] => {
    const summary = results.get(system)?.get(row);
    if (summary === undefined) return ['–', '–'];
    const flag = summary.errorCount > 0 ? ` (${summary.errorCount} errors)` : '';
    return [`${summary.opsPerSecond}${flag}`, summary.all.latency.p99Ms.toFixed(1)];
  };
  lines.push('| workload | etcd ×3 ops/s | p99 ms | redis ops/s | p99 ms | quorumkv ×3 ops/s | p99 ms | quorumkv/etcd | quorumkv/redis |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { name, label } of ROWS) {
    const qkv = results.get('quorumkv')?.get(name);
    lines.push(
      `| ${label} | ${[...cell('etcd', name), ...cell('redis', name), ...cell('quorumkv', name)].join(' | ')} | ` +
        `${ratioText(qkv, results.get('etcd')?.get(name))} | ${ratioText(qkv, results.get('redis')?.get(name))} |`,
    );
  }
  lines.push('');
  lines.push('| floor: put, 1 client process | ops/s | p99 ms |');
  lines.push('|---|---:|---:|');
  lines.push(`| no-op gRPC server | ${cell('noop', 'put').join(' | ')} |`);
  lines.push(`| quorumkv ×1 (N=1, fsync=always) | ${cell('quorumkv-1', 'put').join(' | ')} |`);
  const batch = results.get('quorumkv')?.get('batch-put');
  const noopBatch = results.get('noop')?.get('batch-put');
  if (batch !== undefined || noopBatch !== undefined) {
    lines.push('');
    lines.push(`| BatchPut, ${batchItems} keys per call | calls/s | keys/s | p99 ms |`);
    lines.push('|---|---:|---:|---:|');
    for (const [label, summary] of [['no-op gRPC server', noopBatch], ['quorumkv ×3', batch]] as const) {
      if (summary !== undefined) lines.push(`| ${label} | ${summary.opsPerSecond} | ${summary.keysPerSecond} | ${summary.all.latency.p99Ms.toFixed(1)} |`);
    }
  }
  lines.push('');
  lines.push('| server CPU per operation, µs (all processes of the system) | etcd ×3 | redis | quorumkv ×3 | quorumkv ×1 | no-op |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const { name, label } of [...ROWS, { name: 'batch-put', label: `BatchPut ×${batchItems} (per call)` }]) {
    const cells = (['etcd', 'redis', 'quorumkv', 'quorumkv-1', 'noop'] as const).map((system) => cpuPerOperation(results.get(system)?.get(name)));
    if (cells.some((text) => text !== '–')) lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Targets (this run):');
  for (const check of targetChecks(results)) lines.push(`- ${check}`);
  return lines.join('\n') + '\n';
}

export function targetChecks(results: CompareResults): string[] {
  const qkv = results.get('quorumkv');
  const etcd = results.get('etcd');
  const checks: string[] = [];
  const ratioCheck = (label: string, ours: BenchSummary | undefined, theirs: BenchSummary | undefined, goal: number): void => {
    if (ours === undefined || theirs === undefined || theirs.opsPerSecond === 0) return void checks.push(`${label}: not measured`);
    const ratio = ours.opsPerSecond / theirs.opsPerSecond;
    checks.push(`${label}: ${ratio.toFixed(2)}× (target ≥ ${goal}×) — ${ratio >= goal ? 'met' : `MISSED by ${((1 - ratio / goal) * 100).toFixed(0)}%`}`);
  };
  const p99Check = (label: string, ours: BenchSummary | undefined, theirs: BenchSummary | undefined): void => {
    if (ours === undefined || theirs === undefined) return void checks.push(`${label}: not measured`);
    const mine = ours.all.latency.p99Ms;
    const peer = theirs.all.latency.p99Ms;
    checks.push(`${label}: ${mine.toFixed(1)} ms vs etcd ${peer.toFixed(1)} ms — ${mine <= peer ? 'met' : `MISSED by ${(mine - peer).toFixed(1)} ms`}`);
  };
  ratioCheck('puts vs etcd', qkv?.get('put'), etcd?.get('put'), TARGET_PUT_VS_ETCD);
  ratioCheck('gets vs etcd', qkv?.get('get'), etcd?.get('get'), TARGET_GET_VS_ETCD);
  p99Check('put p99 vs etcd', qkv?.get('put'), etcd?.get('put'));
  p99Check('get p99 vs etcd', qkv?.get('get'), etcd?.get('get'));
  ratioCheck('single-node put vs no-op floor', results.get('quorumkv-1')?.get('put'), results.get('noop')?.get('put'), TARGET_SINGLE_NODE_VS_FLOOR);
  const batch = qkv?.get('batch-put');
  if (batch === undefined) checks.push('BatchPut keys/s on 3 nodes: not measured');
  else {
    const keys = batch.keysPerSecond;
    const met = keys >= TARGET_BATCH_PUT_KEYS_PER_SECOND;
    checks.push(
      `BatchPut keys/s on 3 nodes: ${keys} (target ≥ ${TARGET_BATCH_PUT_KEYS_PER_SECOND}) — ${met ? 'met' : `MISSED by ${((1 - keys / TARGET_BATCH_PUT_KEYS_PER_SECOND) * 100).toFixed(0)}%`}`,
    );
  }
  return checks;
}

function cpuPerOperation(run: MeasuredRun | undefined): string {
  if (run === undefined || run.serverCpuSeconds === undefined || run.all.operations === 0) return '–';
  return ((run.serverCpuSeconds * 1e6) / run.all.operations).toFixed(0);
}

function ratioText(ours: BenchSummary | undefined, theirs: BenchSummary | undefined): string {
  if (ours === undefined || theirs === undefined || theirs.opsPerSecond === 0) return '–';
  return `${(ours.opsPerSecond / theirs.opsPerSecond).toFixed(2)}×`;
}
