// `npm run bench:compare`: the same YCSB workloads, one after another in one run, against
// a 3-node etcd cluster, a Redis server with appendfsync always, a 3-node quorumkv cluster
// (N=3 W=2 R=2 fsync=always), a single quorumkv node and the no-op gRPC floor, all on
// loopback on this machine. Prints a Markdown table with ratios and checks the targets
// of issue 6 against the figures of this run; no peer figure is written down anywhere.
//
// When ghz is there (QKV_GHZ or PATH; scripts/ghz-env.sh builds it), etcd, the 3-node
// quorumkv and the no-op server are also driven by ghz, the same Go load generator for
// all, at the same concurrency, value size and duration, and a second table prints those
// ratios (bench/compare/ghz-table.ts): the first view measures each system with its own
// client, the second with one client, and the no-op row is that view's ceiling.
//
// Each system is started just before its workloads and stopped right after, so idle
// servers do not take CPU from the one being measured. Everything started is stopped on
// success, on an error and on Ctrl-C, and the data directory (under the OS temp dir)
// is removed unless --keep-data is given.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBenchProcess } from './compare/bench-process.js';
import { compareReport, type CompareResults, type MeasuredRun, type SystemKey } from './compare/compare-table.js';
import { startEtcdCluster } from './compare/etcd-cluster.js';
import { cpuMicrosPerCall, measureWithGhz } from './compare/ghz-measure.js';
import { cleanUpOnInterrupt } from './compare/interrupt.js';
import { ghzBinary, type GhzOperation, type GhzSystem } from './compare/ghz-run.js';
import { ghzReport, type GhzMeasurement, type GhzSystemKey } from './compare/ghz-table.js';
import { ProcessGroup } from './compare/managed-process.js';
import { startNoopServer } from './compare/noop-server.js';
import { startQuorumKvCluster } from './compare/quorumkv-cluster.js';
import { startRedisServer } from './compare/redis-server.js';
import type { RunningSystem } from './compare/running-system.js';

const SYSTEMS: readonly SystemKey[] = ['etcd', 'redis', 'quorumkv', 'quorumkv-1', 'noop'];
const READY_TIMEOUT_MS = 60_000;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    warmup: { type: 'string', default: '2s' },
    records: { type: 'string', default: '100000' },
    'value-bytes': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '64' },
    distribution: { type: 'string', default: 'zipfian' },
    batch: { type: 'string', default: '100' },
    only: { type: 'string', default: SYSTEMS.join(',') },
    'cpu-prof-dir': { type: 'string' },
    'json-out': { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
    insecure: { type: 'boolean', default: false },
    'no-ghz': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`usage: npm run bench:compare -- [--duration 10s] [--warmup 2s] [--records 100000] [--value-bytes 100]
       [--concurrency 64] [--distribution zipfian|uniform] [--batch 100] [--only ${SYSTEMS.join(',')}]
       [--cpu-prof-dir DIR] [--json-out FILE] [--keep-data] [--insecure] [--no-ghz]
quorumkv runs with TLS and client certificates, as it does by default; --insecure runs it
plaintext, to measure what TLS costs. With ghz (QKV_GHZ or PATH; bash scripts/ghz-env.sh
builds it) etcd and quorumkv are also driven by ghz; --no-ghz skips that view.`);
  process.exit(0);
}

const only = values.only.split(',').map((name) => name.trim());
for (const name of only) if (!(SYSTEMS as readonly string[]).includes(name)) throw new Error(`--only: unknown system ${name}`);
const common = [
  '--duration', values.duration,
  '--warmup', values.warmup,
  '--records', values.records,
  '--value-bytes', values['value-bytes'],
  '--concurrency', values.concurrency,
  '--distribution', values.distribution,
  '--timeout-ms', '30000',
];

/** The runs each system gets, in order; the first one loads the key space. */
function runsOf(system: SystemKey): Array<{ row: string; args: string[] }> {
  const put = { row: 'put', args: ['--workload', 'write-only'] };
  const batch = { row: 'batch-put', args: ['--workload', 'write-only', '--batch', values.batch, '--no-load'] };
  const reads = [
    { row: 'get', args: ['--workload', 'c', '--no-load'] },
    { row: 'a', args: ['--workload', 'a', '--no-load'] },
    { row: 'b', args: ['--workload', 'b', '--no-load'] },
  ];
  switch (system) {
    case 'etcd':
    case 'redis':
      return [put, ...reads];
    case 'quorumkv':
      return [put, ...reads, batch];
    case 'quorumkv-1':
      return [{ row: 'put', args: ['--workload', 'write-only', '--no-load'] }];
    case 'noop':
      return [{ row: 'put', args: ['--workload', 'write-only', '--no-load'] }, batch];
  }
}

const ghz = values['no-ghz'] ? undefined : ghzBinary();
/** The systems ghz drives, and whose protocol it speaks to each (the no-op server has quorumkv's). */
const GHZ_SYSTEMS: ReadonlyMap<SystemKey, { readonly key: GhzSystemKey; readonly protocol: GhzSystem }> = new Map([
  ['etcd', { key: 'etcd', protocol: 'etcd' }],
  ['quorumkv', { key: 'quorumkv', protocol: 'quorumkv' }],
  ['noop', { key: 'noop', protocol: 'quorumkv' }],
]);

/** Both ops through ghz against the system's first endpoint; puts first, so gets find the keys. */
async function ghzRuns(system: GhzSystemKey, protocol: GhzSystem, running: RunningSystem, systemDir: string): Promise<Map<GhzOperation, GhzMeasurement>> {
  const results = new Map<GhzOperation, GhzMeasurement>();
  for (const operation of ['put', 'get'] as const) {
    if (interruption.interrupted) break;
    const measurement = await measureWithGhz(running, {
      ghz: ghz!,
      protocol,
      operation,
      concurrency: Number(values.concurrency),
      durationSeconds: Math.max(1, Math.round(parseSeconds(values.duration))),
      valueBytes: Number(values['value-bytes']),
      dir: systemDir,
      ...(system === 'quorumkv' ? { quorum: 2 } : {}),
    });
    results.set(operation, measurement);
    const errors = Object.keys(measurement.errors).length > 0 ? `, errors ${JSON.stringify(measurement.errors)}` : '';
    const micros = cpuMicrosPerCall(measurement);
    const cpu = micros === undefined ? '' : `  server CPU ${micros.toFixed(0)} µs/call, busiest process ${((measurement.busiestProcessShare ?? 0) * 100).toFixed(0)} % of a core`;
    console.error(`  ${running.name.padEnd(12)} ghz ${operation.padEnd(6)} ${String(measurement.opsPerSecond).padStart(7)} ops/s  p50 ${measurement.p50Ms.toFixed(1)} ms  p99 ${measurement.p99Ms.toFixed(1)} ms${cpu}${errors}`);
  }
  return results;
}

function parseSeconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(duration.trim());
  if (match === null) throw new Error(`--duration: not a duration: ${duration}`);
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount / 1000 : match[2] === 'm' ? amount * 60 : amount;
}

const group = new ProcessGroup();
const dir = mkdtempSync(join(tmpdir(), 'qkv-compare-'));
let killBench: (() => void) | undefined;

async function cleanUp(): Promise<void> {
  killBench?.();
  await group.stopAll();
  if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
}

const interruption = cleanUpOnInterrupt(cleanUp);

async function start(system: SystemKey): Promise<RunningSystem> {
  const systemDir = join(dir, system);
  mkdirSync(systemDir, { recursive: true });
  const launch = { dir: systemDir, readyTimeoutMs: READY_TIMEOUT_MS };
  const cpuProfileDir = values['cpu-prof-dir'];
  if (cpuProfileDir !== undefined) mkdirSync(cpuProfileDir, { recursive: true });
  switch (system) {
    case 'etcd':
      return startEtcdCluster(group, 3, launch);
    case 'redis':
      return startRedisServer(group, launch);
    case 'quorumkv':
      return startQuorumKvCluster(group, { ...launch, size: 3, replicationFactor: 3, fsync: 'always', insecure: values.insecure, ...(cpuProfileDir ? { cpuProfileDir } : {}) });
    case 'quorumkv-1':
      return startQuorumKvCluster(group, { ...launch, size: 1, replicationFactor: 1, fsync: 'always', insecure: values.insecure, ...(cpuProfileDir ? { cpuProfileDir } : {}) });
    case 'noop':
      return startNoopServer(group, Number(values['value-bytes']), { ...launch, insecure: values.insecure });
  }
}

function targetArgs(system: SystemKey, running: RunningSystem): string[] {
  const addr = ['--addr', running.addresses.join(',')];
  switch (system) {
    case 'etcd':
      return ['--target', 'etcd', ...addr];
    case 'redis':
      return ['--target', 'redis', ...addr];
    case 'quorumkv':
      return ['--target', 'quorumkv', ...addr, ...(running.clientArgs ?? []), '--w', '2', '--r', '2'];
    case 'quorumkv-1':
      return ['--target', 'quorumkv', ...addr, ...(running.clientArgs ?? []), '--w', '1', '--r', '1'];
    case 'noop':
      return ['--target', 'noop', ...addr, ...(running.clientArgs ?? [])];
  }
}

async function main(): Promise<number> {
  const results: CompareResults = new Map();
  const ghzResults = new Map<GhzSystemKey, Map<GhzOperation, GhzMeasurement>>();
  if (ghz === undefined && !values['no-ghz']) console.error('bench:compare: ghz not found (QKV_GHZ or PATH; bash scripts/ghz-env.sh builds it): the ghz view is left out');
  console.error(`bench:compare: ${values.concurrency} clients, ${values['value-bytes']}-byte values, ${values.records} keys (${values.distribution}), ${values.duration} per run; data in ${dir}`);
  for (const system of SYSTEMS.filter((name) => only.includes(name))) {
    const running = await start(system);
    const rows = new Map<string, MeasuredRun>();
    results.set(system, rows);
    try {
      for (const run of runsOf(system)) {
        if (interruption.interrupted) return 130;
        let cpuAtStart: number | undefined;
        let cpuSeconds: number | undefined;
        const summary = await runBenchProcess([...targetArgs(system, running), ...common, ...run.args], {
          onChild: (kill) => (killBench = kill),
          onMark: (event) => {
            const now = running.cpuSeconds();
            if (event === 'start') cpuAtStart = now;
            else if (now !== undefined && cpuAtStart !== undefined) cpuSeconds = now - cpuAtStart;
          },
        });
        killBench = undefined;
        rows.set(run.row, { ...summary, ...(cpuSeconds === undefined ? {} : { serverCpuSeconds: cpuSeconds }) });
        const load = summary.load === null ? '' : ` (load ${summary.load.keysPerSecond} keys/s)`;
        const errors = summary.errorCount > 0 ? `, ${summary.errorCount} errors ${JSON.stringify(summary.errors)}` : '';
        const cpu = cpuSeconds === undefined || summary.all.operations === 0 ? '' : `  server CPU ${((cpuSeconds * 1e6) / summary.all.operations).toFixed(0)} µs/op`;
        console.error(`  ${running.name.padEnd(12)} ${run.row.padEnd(10)} ${String(summary.opsPerSecond).padStart(7)} ops/s  p99 ${summary.all.latency.p99Ms.toFixed(1)} ms${cpu}${load}${errors}`);
      }
      const ghzSystem = GHZ_SYSTEMS.get(system);
      if (ghz !== undefined && ghzSystem !== undefined && !interruption.interrupted) ghzResults.set(ghzSystem.key, await ghzRuns(ghzSystem.key, ghzSystem.protocol, running, join(dir, system)));
    } finally {
      await running.stop();
    }
  }
  const report = compareReport(results, Number(values.batch));
  console.log(report);
  if (ghzResults.size > 0) {
    const tls = values.insecure ? 'quorumkv and the no-op server plaintext' : 'quorumkv and the no-op server with TLS and a client certificate';
    console.log(ghzReport(ghzResults, `Both through ghz (${values.concurrency} concurrent calls, ${values['value-bytes']}-byte values, ${values.duration}, one endpoint each, ${tls}; etcd plaintext):`));
  }
  if (values['json-out'] !== undefined) {
    const own = Object.fromEntries([...results].map(([key, rows]) => [key, Object.fromEntries(rows)]));
    const viaGhz = Object.fromEntries([...ghzResults].map(([key, rows]) => [key, Object.fromEntries(rows)]));
    writeFileSync(values['json-out'], JSON.stringify({ ...own, ghz: viaGhz }, null, 2));
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`bench:compare failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await interruption.cleanUp();
}
if (interruption.interrupted) code = 130;
process.exit(code);
