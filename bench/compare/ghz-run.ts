// Runs ghz (an independent Go gRPC load generator, built by scripts/ghz-env.sh) against
// etcd's KV.Put/KV.Range or quorumkv's KV.Put/KV.Get, so both systems are driven by the
// same client at the same concurrency, value size and duration, and the client costs the
// same (and little) on both sides. ghz sends the messages of a data file round-robin:
// KEYS distinct keys with values of the given size, written once per run.
//
// The binary is QKV_GHZ, else `ghz` on PATH. ghz prints one JSON report (--format json);
// parseGhzReport turns it into the few figures the comparison prints and refuses a
// report it does not understand rather than printing zeros.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from './find-binary.js';

/** Distinct keys per run: enough that a get does not hit one hot key, few enough to load. */
export const GHZ_KEYS = 1000;
/** The proto directories: quorumkv's own and the trimmed etcd KV API (bench/ghz). */
const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));
const ETCD_PROTO_DIR = fileURLToPath(new URL('../../../bench/ghz', import.meta.url));

export type GhzSystem = 'etcd' | 'quorumkv';
export type GhzOperation = 'put' | 'get';

export interface GhzRunOptions {
  readonly ghz: string;
  readonly system: GhzSystem;
  readonly operation: GhzOperation;
  /** host:port of the one endpoint ghz connects to. */
  readonly address: string;
  readonly concurrency: number;
  readonly durationSeconds: number;
  readonly valueBytes: number;
  /** A directory for the data file. */
  readonly dir: string;
  /** quorumkv with TLS: the CA and a client certificate; absent = plaintext. */
  readonly tls?: { readonly caCert: string; readonly cert: string; readonly key: string; readonly serverName: string };
  /** quorumkv's W or R for every call; 0 = the cluster default. */
  readonly quorum?: number;
}

export interface GhzSummary {
  readonly count: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Calls that did not end OK, by status (ghz's statusCodeDistribution less OK). */
  readonly errors: Readonly<Record<string, number>>;
}

/** The ghz binary to use, or undefined when there is none. */
export function ghzBinary(): string | undefined {
  const fromEnv = process.env['QKV_GHZ'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return findBinary('ghz', 'bash scripts/ghz-env.sh (builds it with Go)');
  } catch {
    return undefined;
  }
}

function callOf(system: GhzSystem, operation: GhzOperation): string {
  if (system === 'etcd') return operation === 'put' ? 'etcdserverpb.KV.Put' : 'etcdserverpb.KV.Range';
  return operation === 'put' ? 'quorumkv.v1.KV.Put' : 'quorumkv.v1.KV.Get';
}

/** The request messages, one per key; protobuf JSON carries bytes as base64. */
function requests(options: GhzRunOptions): object[] {
  const value = Buffer.alloc(options.valueBytes, 'v').toString('base64');
  const quorum = options.quorum ?? 0;
  return Array.from({ length: GHZ_KEYS }, (_, i) => {
    const key = Buffer.from(`ghz-key-${i}`).toString('base64');
    if (options.operation === 'get') return options.system === 'etcd' ? { key } : { key, r: quorum };
    return options.system === 'etcd' ? { key, value } : { key, value, w: quorum };
  });
}

/** The ghz command line for one run (exported for the test that checks the harness). */
export function ghzArgs(options: GhzRunOptions, dataFile: string): string[] {
  const proto = options.system === 'etcd' ? ['--proto', join(ETCD_PROTO_DIR, 'etcd-kv.proto'), '--import-paths', ETCD_PROTO_DIR] : ['--proto', join(PROTO_ROOT, 'quorumkv/v1/kv.proto'), '--import-paths', PROTO_ROOT];
  const tls = options.tls === undefined ? ['--insecure'] : ['--cacert', options.tls.caCert, '--cert', options.tls.cert, '--key', options.tls.key, '--cname', options.tls.serverName];
  return [
    ...proto,
    '--call', callOf(options.system, options.operation),
    ...tls,
    '--data-file', dataFile,
    '--concurrency', String(options.concurrency),
    '--connections', String(Math.max(1, Math.min(options.concurrency, 4))),
    '--duration', `${options.durationSeconds}s`,
    '--total', '0',
    // Calls in flight at the end are finished and counted, not cut off as UNAVAILABLE.
    '--duration-stop', 'wait',
    '--timeout', '30s',
    '--format', 'json',
    options.address,
  ];
}

export async function runGhz(options: GhzRunOptions): Promise<GhzSummary> {
  const dataFile = join(options.dir, `ghz-${options.system}-${options.operation}.json`);
  writeFileSync(dataFile, JSON.stringify(requests(options)));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(options.ghz, ghzArgs(options, dataFile), { maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
      // ghz exits non-zero when any call failed; the report still says how many.
      if (out.trim().startsWith('{')) resolve(out);
      else reject(new Error(`ghz ${options.system} ${options.operation} failed: ${error?.message ?? ''} ${err.trim()}`));
    });
  });
  return parseGhzReport(stdout);
}

interface GhzJsonReport {
  readonly count?: unknown;
  readonly total?: unknown;
  readonly rps?: unknown;
  readonly latencyDistribution?: unknown;
  readonly statusCodeDistribution?: unknown;
}

/** ghz's --format json report: durations in nanoseconds. */
export function parseGhzReport(json: string): GhzSummary {
  const report = JSON.parse(json) as GhzJsonReport;
  if (typeof report.count !== 'number' || typeof report.rps !== 'number' || !Array.isArray(report.latencyDistribution)) {
    throw new Error('ghz report without count, rps and latencyDistribution: is this ghz --format json output?');
  }
  const percentile = (percentage: number): number => {
    const entry = (report.latencyDistribution as Array<{ percentage?: unknown; latency?: unknown }>).find((item) => item.percentage === percentage);
    if (entry === undefined || typeof entry.latency !== 'number') throw new Error(`ghz report has no p${percentage} latency`);
    return entry.latency / 1e6;
  };
  const statuses = (report.statusCodeDistribution ?? {}) as Record<string, number>;
  const errors: Record<string, number> = {};
  for (const [status, count] of Object.entries(statuses)) if (status !== 'OK') errors[status] = count;
  return { count: report.count, opsPerSecond: Math.round(report.rps), p50Ms: percentile(50), p99Ms: percentile(99), errors };
}
