// The ghz view's report: etcd, quorumkv and the no-op gRPC server each driven by ghz
// (one Go load generator, the same for all), with the servers' CPU per call, the share
// of one core its busiest process used, and issue 15's ghz targets checked against the
// figures of this run.
//
// The no-op row is the ceiling of this view on this machine: grpc-js answering a unary
// call and doing nothing else. A quorumkv node is a grpc-js server that does more, so
// its ghz throughput at one endpoint cannot pass the no-op's, and no-op/etcd says how
// far any grpc-js server could get against etcd here. The busiest process's share says
// whether one event loop, not the machine, is the limit: a coordinator at ~100 % of a
// core while the machine has room left is one event loop's ceiling.
import type { GhzOperation, GhzSummary } from './ghz-run.js';

export type GhzSystemKey = 'etcd' | 'quorumkv' | 'noop';

export interface GhzMeasurement extends GhzSummary {
  /** All of the system's server processes, during the ghz run. */
  readonly serverCpuSeconds?: number;
  /** The busiest server process's CPU time over the run's wall time (1 = one core). */
  readonly busiestProcessShare?: number;
}

export type GhzResults = ReadonlyMap<GhzSystemKey, ReadonlyMap<GhzOperation, GhzMeasurement>>;

/** Issue 15: both through ghz, puts and gets at least twice etcd's. */
export const TARGET_GHZ_VS_ETCD = 2;

const OPERATIONS: ReadonlyArray<{ readonly operation: GhzOperation; readonly label: string }> = [
  { operation: 'put', label: 'Put' },
  { operation: 'get', label: 'Get / Range' },
];

export function ghzReport(results: GhzResults, heading: string): string {
  const lines = [
    '',
    heading,
    '',
    '| op | etcd ×3 ops/s | p50 ms | p99 ms | quorumkv ×3 ops/s | p50 ms | p99 ms | no-op ops/s | quorumkv/etcd ops | quorumkv/etcd p99 | no-op/etcd (ceiling) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { operation, label } of OPERATIONS) {
    const etcd = results.get('etcd')?.get(operation);
    const qkv = results.get('quorumkv')?.get(operation);
    const noop = results.get('noop')?.get(operation);
    const cells = (summary: GhzSummary | undefined): string[] =>
      summary === undefined ? ['–', '–', '–'] : [`${summary.opsPerSecond}${hasErrors(summary) ? ' (errors)' : ''}`, summary.p50Ms.toFixed(2), summary.p99Ms.toFixed(2)];
    lines.push(
      `| ${label} | ${[...cells(etcd), ...cells(qkv), cells(noop)[0]!, ratio(qkv?.opsPerSecond, etcd?.opsPerSecond), ratio(qkv?.p99Ms, etcd?.p99Ms), ratio(noop?.opsPerSecond, etcd?.opsPerSecond)].join(' | ')} |`,
    );
  }
  lines.push('');
  lines.push('| server CPU per call, µs (busiest process, share of one core) | etcd ×3 | quorumkv ×3 | no-op |');
  lines.push('|---|---:|---:|---:|');
  for (const { operation, label } of OPERATIONS) {
    const cells = (['etcd', 'quorumkv', 'noop'] as const).map((system) => cpuText(results.get(system)?.get(operation)));
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Targets through ghz (this run):');
  for (const check of ghzTargetChecks(results)) lines.push(`- ${check}`);
  return lines.join('\n') + '\n';
}

export function ghzTargetChecks(results: GhzResults): string[] {
  return OPERATIONS.map(({ operation, label }) => {
    const ours = results.get('quorumkv')?.get(operation);
    const etcd = results.get('etcd')?.get(operation);
    if (ours === undefined || etcd === undefined || etcd.opsPerSecond === 0) return `ghz ${label} vs etcd: not measured`;
    const achieved = ours.opsPerSecond / etcd.opsPerSecond;
    const verdict = achieved >= TARGET_GHZ_VS_ETCD ? 'met' : `MISSED by ${((1 - achieved / TARGET_GHZ_VS_ETCD) * 100).toFixed(0)}%`;
    const noop = results.get('noop')?.get(operation);
    const ceiling = noop === undefined ? '' : `; the no-op grpc-js server reached ${(noop.opsPerSecond / etcd.opsPerSecond).toFixed(2)}× in the same run`;
    return `ghz ${label} vs etcd: ${achieved.toFixed(2)}× (target ≥ ${TARGET_GHZ_VS_ETCD}×) — ${verdict}${ceiling}`;
  });
}

function hasErrors(summary: GhzSummary): boolean {
  return Object.keys(summary.errors).length > 0;
}

function ratio(ours: number | undefined, theirs: number | undefined): string {
  return ours === undefined || theirs === undefined || theirs === 0 ? '–' : `${(ours / theirs).toFixed(2)}×`;
}

function cpuText(measurement: GhzMeasurement | undefined): string {
  if (measurement === undefined || measurement.serverCpuSeconds === undefined || measurement.count === 0) return '–';
  const perCall = ((measurement.serverCpuSeconds * 1e6) / measurement.count).toFixed(0);
  return measurement.busiestProcessShare === undefined ? perCall : `${perCall} (${(measurement.busiestProcessShare * 100).toFixed(0)} %)`;
}
