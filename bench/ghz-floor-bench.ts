// `npm run bench:ghz-floor`: is the ghz ceiling grpc-js's or Node's? (issue 15)
//
// ghz (one Go load generator; 64 concurrent unary calls over 4 connections, 100-byte
// values, one endpoint) drives, in alternating rounds:
//   etcd ×3     Debian's etcd-server, KV.Put and KV.Range, plaintext (as bench:compare runs it);
//   grpc-js     `qkv bench noop-server`: grpc-js answering quorumkv's KV.Put and KV.Get and
//               doing nothing else, the ceiling bench:compare's ghz view prints;
//   raw http2   the same two calls answered on node:http2 alone, no grpc-js
//               (bench/compare/raw-http2-kv-server.ts), with the node's size check,
//               decoder, encoder and role check per call.
// Both Node.js servers run with TLS and ask for a client certificate as a node's client
// port does (ghz shows the admin certificate), unless --insecure. All systems are
// started once and idle while another is measured; each round measures every system's
// puts and then its gets, the order of the systems turning by one each round, so that
// a machine that gets busier or quieter during the run does not favour one of them.
//
// Per run it prints ops/s, p50/p99, the servers' CPU per call (user + system time from
// /proc over the calls ghz completed) and the 1-minute load average; at the end the
// medians over the rounds with their spread, and the ratios of each round (raw/etcd,
// grpc-js/etcd, raw/grpc-js) by their median. CPU per call is the steadier figure on a
// shared machine; throughput is what the target is stated in.
//
// Before the first round every system gets one unmeasured run of each op (--warmup-s), so
// that the Node.js servers' code is compiled and optimized before it is measured.
//
// --cpu-prof-dir DIR runs both Node.js servers under --cpu-prof; their profiles are written
// when they stop, and the run ends with each profile's busy time split by layer
// (bench/compare/cpu-profile-layers.ts): grpc-js, protobuf, Node's HTTP/2, TLS, native.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, positiveInteger } from './build-option.js';
import { layerSplit, layerTable } from './compare/cpu-profile-layers.js';
import { startEtcdCluster } from './compare/etcd-cluster.js';
import { cpuMicrosPerCall, measureWithGhz } from './compare/ghz-measure.js';
import { cleanUpOnInterrupt } from './compare/interrupt.js';
import { ghzBinary, type GhzOperation, type GhzSystem } from './compare/ghz-run.js';
import type { GhzMeasurement } from './compare/ghz-table.js';
import { ProcessGroup } from './compare/managed-process.js';
import { startNoopServer } from './compare/noop-server.js';
import { startRawHttp2Server } from './compare/raw-http2-server.js';
import type { RunningSystem } from './compare/running-system.js';

type FloorSystem = 'etcd' | 'grpc-js' | 'raw-http2';
const SYSTEMS: readonly FloorSystem[] = ['etcd', 'grpc-js', 'raw-http2'];
const PROTOCOL: Readonly<Record<FloorSystem, GhzSystem>> = { etcd: 'etcd', 'grpc-js': 'quorumkv', 'raw-http2': 'quorumkv' };
const LABEL: Readonly<Record<FloorSystem, string>> = { etcd: 'etcd ×3', 'grpc-js': 'grpc-js no-op', 'raw-http2': 'raw http2 no-op' };
const OPERATIONS: readonly GhzOperation[] = ['put', 'get'];
const READY_TIMEOUT_MS = 60_000;
const ROUNDS_MAX = 50;
const DURATION_S_MAX = 600;

// `flag` (below) turns an unknown flag into a one-line error too.
const { values } = flag(() =>
  parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'duration-s': { type: 'string', default: '5' },
      'warmup-s': { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '64' },
      'value-bytes': { type: 'string', default: '100' },
      only: { type: 'string', default: SYSTEMS.join(',') },
      insecure: { type: 'boolean', default: false },
      'cpu-prof-dir': { type: 'string' },
      'json-out': { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }),
);

if (values.help) {
  console.log(`usage: npm run bench:ghz-floor -- [--rounds 3] [--duration-s 5] [--warmup-s 2] [--concurrency 64] [--value-bytes 100]
       [--only ${SYSTEMS.join(',')}] [--insecure] [--cpu-prof-dir DIR] [--json-out FILE] [--keep-data]
ghz drives etcd ×3, the grpc-js no-op server and the raw node:http2 no-op server in
alternating rounds (puts, then gets) and prints ops/s, p99 and server CPU per call.
The Node.js servers use TLS with a client certificate unless --insecure. Needs ghz
(QKV_GHZ or PATH; bash scripts/ghz-env.sh builds it) and, for etcd, etcd-server.`);
  process.exit(0);
}

/** A bad flag ends the run with its reason and no stack trace. */
function flag<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    console.error(`bench:ghz-floor: ${error instanceof Error ? error.message : String(error)} (--help lists the flags)`);
    process.exit(2);
  }
}

const rounds = flag(() => positiveInteger(values.rounds, 'rounds', ROUNDS_MAX));
const durationSeconds = flag(() => positiveInteger(values['duration-s'], 'duration-s', DURATION_S_MAX));
const warmupSeconds = flag(() => positiveInteger(values['warmup-s'], 'warmup-s', DURATION_S_MAX));
const concurrency = flag(() => positiveInteger(values.concurrency, 'concurrency', 10_000));
const valueBytes = flag(() => positiveInteger(values['value-bytes'], 'value-bytes', 1024 * 1024));
const only = values.only.split(',').map((name) => name.trim());
for (const name of only) flag(() => {
  if (!(SYSTEMS as readonly string[]).includes(name)) throw new Error(`--only: unknown system ${name} (${SYSTEMS.join(', ')})`);
});
const systems = SYSTEMS.filter((name) => only.includes(name));
const ghz = ghzBinary();
if (ghz === undefined) {
  console.error('bench:ghz-floor: ghz not found (QKV_GHZ or PATH; bash scripts/ghz-env.sh builds it)');
  process.exit(2);
}

interface Run extends GhzMeasurement {
  readonly round: number;
  readonly system: FloorSystem;
  readonly operation: GhzOperation;
  readonly load1: number;
}

const group = new ProcessGroup();
const dir = mkdtempSync(join(tmpdir(), 'qkv-ghz-floor-'));

async function cleanUp(): Promise<void> {
  await group.stopAll();
  if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
}

const interruption = cleanUpOnInterrupt(cleanUp);

async function start(system: FloorSystem): Promise<RunningSystem> {
  const systemDir = join(dir, system);
  mkdirSync(systemDir, { recursive: true });
  const profileDir = values['cpu-prof-dir'];
  if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${system}.cpuprofile`];
  const launch = { dir: systemDir, readyTimeoutMs: READY_TIMEOUT_MS };
  switch (system) {
    case 'etcd':
      return startEtcdCluster(group, 3, launch);
    case 'grpc-js':
      return startNoopServer(group, valueBytes, { ...launch, insecure: values.insecure, nodeArgs });
    case 'raw-http2':
      return startRawHttp2Server(group, { ...launch, valueBytes, insecure: values.insecure, nodeArgs });
  }
}

function describe(run: Run): string {
  const cpu = cpuMicrosPerCall(run);
  const cpuText = cpu === undefined ? '' : `  server CPU ${cpu.toFixed(1)} µs/call, busiest process ${((run.busiestProcessShare ?? 0) * 100).toFixed(0)} % of a core`;
  const errors = Object.keys(run.errors).length > 0 ? `  ERRORS ${JSON.stringify(run.errors)}` : '';
  return `round ${run.round} ${LABEL[run.system].padEnd(16)} ${run.operation.padEnd(4)} ${String(run.opsPerSecond).padStart(6)} ops/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms${cpuText}  load ${run.load1.toFixed(1)}${errors}`;
}

function spread(numbers: readonly number[], digits: number): string {
  return `${median(numbers).toFixed(digits)} (${Math.min(...numbers).toFixed(digits)}–${Math.max(...numbers).toFixed(digits)})`;
}

/** The median over rounds of a/b, paired within each round. */
function pairedRatio(runs: readonly Run[], a: FloorSystem, b: FloorSystem, operation: GhzOperation, figure: (run: Run) => number | undefined): string {
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const of = (system: FloorSystem): number | undefined => {
      const run = runs.find((candidate) => candidate.round === round && candidate.system === system && candidate.operation === operation);
      return run === undefined ? undefined : figure(run);
    };
    const [top, bottom] = [of(a), of(b)];
    if (top !== undefined && bottom !== undefined && bottom > 0) ratios.push(top / bottom);
  }
  return ratios.length === 0 ? '–' : `${spread(ratios, 2)}×`;
}

function report(runs: readonly Run[]): string {
  const tls = values.insecure ? 'both Node.js servers plaintext' : 'both Node.js servers TLS with a client certificate';
  const lines = [
    '',
    `ghz, ${concurrency} concurrent unary calls, ${valueBytes}-byte values, ${durationSeconds} s per run, ${rounds} rounds, one endpoint each; ${tls}, etcd plaintext. Medians over the rounds (min–max):`,
    '',
    '| system | op | ops/s | p99 ms | server CPU µs/call | busiest process, % of a core |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const system of systems) {
    for (const operation of OPERATIONS) {
      const mine = runs.filter((run) => run.system === system && run.operation === operation);
      if (mine.length === 0) continue;
      const cpu = mine.map(cpuMicrosPerCall).filter((value): value is number => value !== undefined);
      const shares = mine.map((run) => run.busiestProcessShare).filter((value): value is number => value !== undefined);
      const errors = mine.some((run) => Object.keys(run.errors).length > 0) ? ' (errors)' : '';
      lines.push(
        `| ${LABEL[system]} | ${operation} | ${spread(mine.map((run) => run.opsPerSecond), 0)}${errors} | ${spread(mine.map((run) => run.p99Ms), 2)} | ${cpu.length === 0 ? '–' : spread(cpu, 1)} | ${shares.length === 0 ? '–' : spread(shares.map((share) => share * 100), 0)} |`,
      );
    }
  }
  lines.push('', '| op | raw/etcd ops | grpc-js/etcd ops | raw/grpc-js ops | raw/grpc-js CPU per call |', '|---|---:|---:|---:|---:|');
  for (const operation of OPERATIONS) {
    const ops = (run: Run): number => run.opsPerSecond;
    lines.push(
      `| ${operation} | ${pairedRatio(runs, 'raw-http2', 'etcd', operation, ops)} | ${pairedRatio(runs, 'grpc-js', 'etcd', operation, ops)} | ${pairedRatio(runs, 'raw-http2', 'grpc-js', operation, ops)} | ${pairedRatio(runs, 'raw-http2', 'grpc-js', operation, cpuMicrosPerCall)} |`,
    );
  }
  const loads = runs.map((run) => run.load1);
  lines.push('', `1-minute load average during the runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}; ratios are paired within each round.`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  console.error(`bench:ghz-floor: ${systems.map((system) => LABEL[system]).join(', ')}; ${rounds} rounds of ${durationSeconds} s per op; data in ${dir}`);
  const running = new Map<FloorSystem, RunningSystem>();
  for (const system of systems) running.set(system, await start(system));
  for (const system of systems) {
    for (const operation of OPERATIONS) {
      if (interruption.interrupted) return 130;
      const warmup = await measureWithGhz(running.get(system)!, { ghz: ghz!, protocol: PROTOCOL[system], operation, concurrency, durationSeconds: warmupSeconds, valueBytes, dir: join(dir, system) });
      console.error(`warm-up ${LABEL[system].padEnd(16)} ${operation.padEnd(4)} ${String(warmup.opsPerSecond).padStart(6)} ops/s (not counted)`);
    }
  }
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Each round starts one system later than the round before.
    const order = systems.map((_, i) => systems[(i + round - 1) % systems.length]!);
    for (const system of order) {
      for (const operation of OPERATIONS) {
        if (interruption.interrupted) return 130;
        const measurement = await measureWithGhz(running.get(system)!, { ghz: ghz!, protocol: PROTOCOL[system], operation, concurrency, durationSeconds, valueBytes, dir: join(dir, system) });
        const run: Run = { ...measurement, round, system, operation, load1: loadavg()[0]! };
        runs.push(run);
        console.error(describe(run));
      }
    }
  }
  console.log(report(runs));
  if (values['json-out'] !== undefined) writeFileSync(values['json-out'], JSON.stringify({ concurrency, valueBytes, durationSeconds, insecure: values.insecure, runs }, null, 2));
  const failed = runs.filter((run) => Object.keys(run.errors).length > 0);
  if (failed.length > 0) {
    console.error(`bench:ghz-floor: ${failed.length} runs had failed calls (see ERRORS above)`);
    return 1;
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`bench:ghz-floor failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await interruption.cleanUp();
}
if (interruption.interrupted) code = 130;
if (code === 0 && values['cpu-prof-dir'] !== undefined) printProfiles(values['cpu-prof-dir']);
process.exit(code);

/** The Node.js servers' profiles (written as they stopped), split by layer. */
function printProfiles(profileDir: string): void {
  const splits = (['grpc-js', 'raw-http2'] as const)
    .filter((system) => systems.includes(system) && existsSync(join(profileDir, `${system}.cpuprofile`)))
    .map((system) => ({ name: LABEL[system], split: layerSplit(readFileSync(join(profileDir, `${system}.cpuprofile`), 'utf8')) }));
  if (splits.length === 0) return;
  console.log(`Where the servers' busy time went (V8 profiles in ${profileDir}, start-up and warm-up included; self time by layer):\n`);
  console.log(layerTable(splits));
}
