// `npm run bench:cpu`: the server CPU time one operation costs on a local quorumkv
// cluster — the figure that decides every ratio of `bench:compare` on a machine whose
// cores the servers and the load generator share.
//
// Per round it starts a 3-node cluster (N=3 W=2 R=2, fsync=always, durable storage, the
// same settings as bench:compare), loads the key space, and runs `qkv bench` for each row
// (put, get, the same two with `--unary` instead of the client's multiplexed stream,
// BatchPut of --batch keys), and a 1-node cluster (N=1) for `put-1` and `get-1`. During each
// measured phase it reads every node's user and system CPU time from /proc and, from the
// nodes' /metrics, how many records one WAL group commit and one coalesced Replica batch
// carried. Before the rows it measures the idle nodes' CPU per second (probes, timers), and
// each row is given with and without that share.
//
// CPU per operation depends on the machine less than throughput does, but it does depend
// on it: closed-loop clients go as fast as the shared CPU lets them, and the records per
// WAL sync and messages per Replica batch, and with them the CPU per operation, follow the
// throughput. So with `--build NAME=DIR` given more than once (DIR is a checkout with
// `npm run build` done; its nodes run, this build's `qkv bench` drives them), `--parallel`
// runs the builds' clusters side by side and every row on all of them at once, so that
// whatever else the machine does hits each build alike; without it the builds take turns,
// in alternating order. The summary gives each row's median over the rounds and the ratio
// to the first build. `--rate` paces the clients instead (`qkv bench --rate`); at a rate
// the machine always sustains nothing batches, which measures the unbatched path.
// `--own-client` has each build's own `qkv bench` drive its cluster, to compare changes
// to the client as well (its CPU comes out of the same cores). `--storage memory` runs the
// nodes on the in-memory engine, to tell the durable engine's share of a row from the rest.
//
// The batch-put row also gives keys/s and their share of issue 15's target of 100 000
// keys/s on three nodes, every write row the records the nodes' WALs took per key written,
// and every row the machine's 1-minute load average at its end:
// on a machine shared with other work the throughput means little without it.
// `npm run bench:batch` is this bench with that row alone. With `--cpu-prof-dir` the
// nodes and the load generator (`client` beside them) write V8 profiles.
//
//   npm run bench:cpu -- [--rounds 3] [--rows put,get,put-unary,get-unary,batch-put,put-1,get-1] [--rate 0] [--batch-rate 0] [--insecure]
//                        [--storage durable|memory] [--build before=../old --build after=. [--parallel]]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { median, parseBuildOption } from './build-option.js';
import { loadGeneratorPid, processCpuTimes } from './load-generator-cpu.js';
import { runBenchProcess, type BenchSummary } from './compare/bench-process.js';
import { ProcessGroup, type CpuTimes } from './compare/managed-process.js';
import { QKV_MAIN, startQuorumKvCluster, type RunningQuorumKvCluster } from './compare/quorumkv-cluster.js';

const ROWS = ['put', 'get', 'put-unary', 'get-unary', 'batch-put', 'put-1', 'get-1'] as const;
/** The rows that run on a 1-node cluster (N=1 W=R=1), issue 15's single-node target. */
const ONE_NODE_ROWS: readonly Row[] = ['put-1', 'get-1'];
type Row = (typeof ROWS)[number];
const READY_TIMEOUT_MS = 60_000;
/** Issue 15's target for BatchPut on three nodes. */
const BATCH_PUT_TARGET_KEYS_PER_SECOND = 100_000;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: ROWS.join(',') },
    build: { type: 'string', multiple: true },
    duration: { type: 'string', default: '10s' },
    warmup: { type: 'string', default: '2s' },
    records: { type: 'string', default: '100000' },
    'value-bytes': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '64' },
    distribution: { type: 'string', default: 'zipfian' },
    batch: { type: 'string', default: '100' },
    rate: { type: 'string', default: '0' },
    'batch-rate': { type: 'string', default: '0' },
    parallel: { type: 'boolean', default: false },
    'own-client': { type: 'boolean', default: false },
    insecure: { type: 'boolean', default: false },
    storage: { type: 'string', default: 'durable' },
    'idle-seconds': { type: 'string', default: '5' },
    'cpu-prof-dir': { type: 'string' },
    'json-out': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`usage: npm run bench:cpu -- [--rounds 3] [--rows ${ROWS.join(',')}] [--build NAME=DIR ...]
       [--parallel] [--own-client] [--insecure] [--rate 0] [--batch-rate 0] [--idle-seconds 5] [--duration 10s] [--warmup 2s] [--records 100000] [--value-bytes 100] [--concurrency 64]
       [--distribution zipfian|uniform] [--batch 100] [--storage durable|memory] [--cpu-prof-dir DIR] [--json-out FILE]`);
  process.exit(0);
}

interface Build {
  readonly name: string;
  readonly main: string;
}

const builds: Build[] = (values.build ?? []).map((text) => {
  const { name, dir } = parseBuildOption(text);
  return { name, main: join(dir, 'dist', 'src', 'cli', 'main.js') };
});
if (builds.length === 0) builds.push({ name: 'this', main: QKV_MAIN });
const rows = values.rows.split(',').map((name) => name.trim()) as Row[];
for (const row of rows) if (!(ROWS as readonly string[]).includes(row)) throw new Error(`--rows: unknown row ${row}`);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
const batchItems = Number(values.batch);
// `memory` leaves the storage engine out of every node, to tell its share of a row's CPU from the rest's.
if (values.storage !== 'durable' && values.storage !== 'memory') throw new Error(`--storage takes durable or memory, not ${JSON.stringify(values.storage)}`);
const storage: 'durable' | 'memory' = values.storage;

const common = [
  '--duration', values.duration,
  '--warmup', values.warmup,
  '--records', values.records,
  '--value-bytes', values['value-bytes'],
  '--concurrency', values.concurrency,
  '--distribution', values.distribution,
  '--timeout-ms', '30000',
];

const parallel = values.parallel && builds.length > 1;

function rowArgs(row: Row, load: boolean): string[] {
  const noLoad = load ? [] : ['--no-load'];
  const rate = ['--rate', values.rate];
  switch (row) {
    case 'put':
      return ['--workload', 'write-only', '--w', '2', ...rate, ...noLoad];
    case 'get':
      return ['--workload', 'c', '--r', '2', ...rate, ...noLoad];
    // The same workloads with one unary call per request instead of the client's
    // multiplexed stream (docs/decisions/0170-multiplexed-kv-stream.md), on the same cluster.
    case 'put-unary':
      return ['--workload', 'write-only', '--w', '2', '--unary', ...rate, ...noLoad];
    case 'get-unary':
      return ['--workload', 'c', '--r', '2', '--unary', ...rate, ...noLoad];
    case 'batch-put':
      return ['--workload', 'write-only', '--w', '2', '--batch', String(batchItems), '--rate', values['batch-rate'], ...noLoad];
    case 'put-1':
      return ['--workload', 'write-only', '--w', '1', ...rate, '--no-load'];
    case 'get-1':
      return ['--workload', 'c', '--r', '1', ...rate, '--no-load'];
  }
}

interface Measurement {
  readonly round: number;
  readonly build: string;
  readonly row: Row;
  readonly opsPerSecond: number;
  /** Keys written or read per second: a BatchPut call counts its keys. */
  readonly keysPerSecond: number;
  /** The machine's 1-minute load average when the measured phase ended. */
  readonly loadAverage: number;
  readonly operations: number;
  readonly errors: number;
  readonly p99Ms: number;
  /** Server CPU per operation (a BatchPut call counts once), µs. */
  readonly userUsPerOp: number;
  readonly systemUsPerOp: number;
  /** The same less the idle nodes' CPU over the phase's length, µs. */
  readonly busyUsPerOp: number;
  /** The load generator's CPU per operation, µs; undefined when its process could not be told apart (load-generator-cpu.ts). */
  readonly clientUsPerOp: number | undefined;
  /** Mean records per WAL group commit and messages per Replica apply call during the phase. */
  readonly walRecordsPerSync: number | undefined;
  readonly messagesPerApplyCall: number | undefined;
  /**
   * Records the nodes' WALs took per key written (BatchPut items counted one by one): at
   * most N, less when a replica drops a record older than the one it holds (the engine's
   * last-writer-wins check before its WAL: hot keys written by several coordinators at
   * once) and when a batch's repeated keys are sent once
   * (docs/decisions/0256-superseded-batch-records-not-sent.md).
   */
  readonly walRecordsPerKey: number | undefined;
}

/** Sums of a few series over all nodes, read from their /metrics. */
interface MetricSums {
  readonly walRecords: number;
  readonly walSyncs: number;
  readonly applyMessages: number;
  readonly applyCalls: number;
}

async function scrape(urls: readonly string[]): Promise<MetricSums | undefined> {
  try {
    const texts = await Promise.all(urls.map(async (url) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).text()));
    const sum = (name: string, labelFilter?: string): number => {
      let total = 0;
      for (const text of texts) {
        for (const line of text.split('\n')) {
          if (!line.startsWith(name)) continue;
          const rest = line.slice(name.length);
          if (rest[0] !== ' ' && rest[0] !== '{') continue;
          if (labelFilter !== undefined && !rest.includes(labelFilter)) continue;
          total += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
      }
      return total;
    };
    return {
      walRecords: sum('qkv_wal_group_commit_records_sum'),
      walSyncs: sum('qkv_wal_group_commit_records_count'),
      applyMessages: sum('qkv_replica_call_messages_sum', 'op="apply"'),
      applyCalls: sum('qkv_replica_call_messages_count', 'op="apply"'),
    };
  } catch {
    return undefined;
  }
}

function totalTimes(cluster: RunningQuorumKvCluster): CpuTimes | undefined {
  let userSeconds = 0;
  let systemSeconds = 0;
  for (const node of cluster.processes) {
    const times = node.cpuTimes();
    if (times === undefined) return undefined;
    userSeconds += times.userSeconds;
    systemSeconds += times.systemSeconds;
  }
  return { userSeconds, systemSeconds };
}

/** CPU seconds per second the nodes use with no traffic at all. */
async function idleCpuPerSecond(cluster: RunningQuorumKvCluster): Promise<number> {
  const seconds = Number(values['idle-seconds']);
  if (!(seconds > 0)) return 0;
  const before = totalTimes(cluster);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = totalTimes(cluster);
  if (before === undefined || after === undefined) return 0;
  return (after.userSeconds + after.systemSeconds - before.userSeconds - before.systemSeconds) / ((performance.now() - started) / 1000);
}

async function measure(cluster: RunningQuorumKvCluster, round: number, build: Build, row: Row, load: boolean, idlePerSecond: number, clientProfileDir?: string): Promise<Measurement> {
  const address = ['--target', 'quorumkv', '--addr', cluster.addresses.join(','), ...(cluster.clientArgs ?? [])];
  let cpuAtStart: CpuTimes | undefined;
  let cpuAtEnd: CpuTimes | undefined;
  let clientAtStart: CpuTimes | undefined;
  let clientAtEnd: CpuTimes | undefined;
  let phaseStarted = 0;
  let phaseSeconds = 0;
  let metricsAtStart: Promise<MetricSums | undefined> = Promise.resolve(undefined);
  let metricsAtEnd: Promise<MetricSums | undefined> = Promise.resolve(undefined);
  let loadAverage = 0;
  const nodeArgs = clientProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${clientProfileDir}`];
  const client = values['own-client'] ? build.main : undefined;
  // Side by side without --own-client both builds' load generators run one main: not told apart.
  const clientMain = client ?? (parallel ? undefined : QKV_MAIN);
  let clientPid: number | undefined;
  const summary: BenchSummary = await bench([...address, ...common, ...rowArgs(row, load)], { nodeArgs, ...(client === undefined ? {} : { main: client }) }, (event) => {
    // CPU first: the scrape itself costs the nodes a little CPU.
    if (event === 'start') {
      cpuAtStart = totalTimes(cluster);
      clientPid = clientMain === undefined ? undefined : loadGeneratorPid(clientMain);
      clientAtStart = clientPid === undefined ? undefined : processCpuTimes(clientPid);
      phaseStarted = performance.now();
      metricsAtStart = scrape(cluster.metricsUrls);
    } else {
      cpuAtEnd = totalTimes(cluster);
      clientAtEnd = clientPid === undefined ? undefined : processCpuTimes(clientPid);
      phaseSeconds = (performance.now() - phaseStarted) / 1000;
      loadAverage = loadavg()[0]!;
      metricsAtEnd = scrape(cluster.metricsUrls);
    }
  });
  const [before, after] = await Promise.all([metricsAtStart, metricsAtEnd]);
  if (cpuAtStart === undefined || cpuAtEnd === undefined) throw new Error('the nodes\' CPU time could not be read from /proc');
  const operations = Math.max(1, summary.all.operations);
  const ratio = (records: number, calls: number): number | undefined => (calls > 0 ? records / calls : undefined);
  const userUsPerOp = ((cpuAtEnd.userSeconds - cpuAtStart.userSeconds) * 1e6) / operations;
  const systemUsPerOp = ((cpuAtEnd.systemSeconds - cpuAtStart.systemSeconds) * 1e6) / operations;
  return {
    round,
    build: build.name,
    row,
    opsPerSecond: summary.opsPerSecond,
    keysPerSecond: summary.keysPerSecond,
    loadAverage,
    operations: summary.all.operations,
    errors: summary.errorCount,
    p99Ms: summary.all.latency.p99Ms,
    userUsPerOp,
    systemUsPerOp,
    busyUsPerOp: userUsPerOp + systemUsPerOp - (idlePerSecond * phaseSeconds * 1e6) / operations,
    clientUsPerOp:
      clientAtStart === undefined || clientAtEnd === undefined
        ? undefined
        : ((clientAtEnd.userSeconds + clientAtEnd.systemSeconds - clientAtStart.userSeconds - clientAtStart.systemSeconds) * 1e6) / operations,
    walRecordsPerSync: before && after ? ratio(after.walRecords - before.walRecords, after.walSyncs - before.walSyncs) : undefined,
    messagesPerApplyCall: before && after ? ratio(after.applyMessages - before.applyMessages, after.applyCalls - before.applyCalls) : undefined,
    walRecordsPerKey: before && after && keysWritten(row, operations) > 0 ? (after.walRecords - before.walRecords) / keysWritten(row, operations) : undefined,
  };
}

const group = new ProcessGroup();
const dir = mkdtempSync(join(tmpdir(), 'qkv-cpu-'));
let interrupted = false;
/** Ways to kill the `qkv bench` processes running now. */
const benchKillers = new Set<() => void>();

/** Runs one `qkv bench`, killed with everything else on Ctrl-C. */
async function bench(
  args: readonly string[],
  spawnOptions: { readonly nodeArgs?: readonly string[]; readonly main?: string } = {},
  onMark?: (event: 'start' | 'end') => void,
): Promise<BenchSummary> {
  let kill: (() => void) | undefined;
  try {
    return await runBenchProcess(args, {
      ...spawnOptions,
      onChild: (killer) => {
        kill = killer;
        benchKillers.add(killer);
      },
      ...(onMark === undefined ? {} : { onMark }),
    });
  } finally {
    if (kill !== undefined) benchKillers.delete(kill);
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the nodes...`);
    for (const kill of benchKillers) kill();
    void group.stopAll().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

/** Keys a row's `operations` wrote: BatchPut items one by one, a put one each, a read none. */
function keysWritten(row: Row, operations: number): number {
  if (row === 'batch-put') return operations * batchItems;
  return row === 'put' || row === 'put-unary' || row === 'put-1' ? operations : 0;
}

function report(m: Measurement): void {
  const cpu = m.userUsPerOp + m.systemUsPerOp;
  const wal = m.walRecordsPerSync === undefined ? '–' : m.walRecordsPerSync.toFixed(1);
  const calls = m.messagesPerApplyCall === undefined ? '–' : m.messagesPerApplyCall.toFixed(1);
  const errors = m.errors > 0 ? `  ${m.errors} errors` : '';
  const keys = m.row === 'batch-put' ? `  ${m.keysPerSecond} keys/s (${(m.keysPerSecond / BATCH_PUT_TARGET_KEYS_PER_SECOND).toFixed(2)} of 100k)` : '';
  const perKey = m.walRecordsPerKey === undefined ? '' : `  ${m.walRecordsPerKey.toFixed(2)} records/key`;
  const client = m.clientUsPerOp === undefined ? '' : `  client ${m.clientUsPerOp.toFixed(0)} µs/op`;
  console.error(
    `  round ${m.round} ${m.build.padEnd(8)} ${m.row.padEnd(9)} ${String(m.opsPerSecond).padStart(6)} ops/s  p99 ${m.p99Ms.toFixed(0).padStart(5)} ms  ` +
      `CPU ${cpu.toFixed(0).padStart(5)} µs/op (user ${m.userUsPerOp.toFixed(0)}, sys ${m.systemUsPerOp.toFixed(0)}; ${m.busyUsPerOp.toFixed(0)} above idle)${client}  ` +
      `${wal} records/sync${perKey}  ${calls} msgs/apply call${keys}  load ${m.loadAverage.toFixed(1)}${errors}`,
  );
}

/** Where a cluster's nodes write their V8 profiles (`--cpu-prof-dir`), and its load generator in `client` below it. */
function profileDirOf(build: Build, round: number, size: number): string | undefined {
  return values['cpu-prof-dir'] === undefined ? undefined : join(resolve(values['cpu-prof-dir']), `${build.name}-r${round}-n${size}`);
}

async function startCluster(build: Build, round: number, size: number): Promise<RunningQuorumKvCluster> {
  const clusterDir = join(dir, `${build.name}-r${round}-n${size}`);
  mkdirSync(clusterDir, { recursive: true });
  const cpuProfileDir = profileDirOf(build, round, size);
  if (cpuProfileDir !== undefined) mkdirSync(join(cpuProfileDir, 'client'), { recursive: true });
  return startQuorumKvCluster(group, {
    dir: clusterDir,
    readyTimeoutMs: READY_TIMEOUT_MS,
    insecure: values.insecure,
    size,
    replicationFactor: size,
    fsync: 'always',
    storage,
    main: build.main,
    ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
  });
}

/** Writes every key once (the load phase of `qkv bench`, with a measured phase of 1 ms). */
async function load(cluster: RunningQuorumKvCluster): Promise<void> {
  const args = ['--target', 'quorumkv', '--addr', cluster.addresses.join(','), ...(cluster.clientArgs ?? []), ...common, '--workload', 'write-only', '--duration', '1ms', '--warmup', '0ms'];
  await bench(args);
}

/**
 * One round for every build. Alternating: one build's cluster after the other's, each
 * measured alone. Parallel: all builds' clusters run side by side and every row runs on
 * all of them at once, so that whatever else the machine does hits each build alike.
 */
async function runRound(round: number, size: number, clusterRows: readonly Row[], results: Measurement[]): Promise<void> {
  if (clusterRows.length === 0) return;
  // Alternate the order of the builds, so a machine getting busier favours neither.
  const order = round % 2 === 1 ? builds : [...builds].reverse();
  const groups = parallel ? [order] : order.map((build) => [build]);
  for (const together of groups) {
    if (interrupted) return;
    const clusters = await Promise.all(together.map((build) => startCluster(build, round, size)));
    try {
      const idle = await Promise.all(clusters.map((cluster) => idleCpuPerSecond(cluster)));
      together.forEach((build, i) => console.error(`  round ${round} ${build.name.padEnd(8)} ${size} node(s) idle: ${(idle[i]! * 1000).toFixed(1)} ms of CPU per second`));
      // Loading is not measured; clusters load one after the other. A single node's puts
      // need no keys; its gets do.
      if (size > 1 || clusterRows.includes('get-1')) for (const cluster of clusters) await load(cluster);
      for (const row of clusterRows) {
        if (interrupted) return;
        const measured = await Promise.all(
          together.map((build, i) => {
            const profileDir = profileDirOf(build, round, size);
            return measure(clusters[i]!, round, build, row, false, idle[i]!, profileDir === undefined ? undefined : join(profileDir, 'client'));
          }),
        );
        for (const measurement of measured) {
          results.push(measurement);
          report(measurement);
        }
      }
    } finally {
      await Promise.all(clusters.map((cluster) => cluster.stop()));
    }
  }
}

function summaryTable(results: readonly Measurement[]): string {
  const lines: string[] = [];
  const first = builds[0]!.name;
  const header = ['row', ...builds.flatMap((build) => [`${build.name} CPU µs/op`, 'above idle', 'ops/s'])];
  if (builds.length > 1) header.push(...builds.slice(1).flatMap((build) => [`${build.name}/${first} CPU`, 'above idle']));
  lines.push(`| ${header.join(' | ')} |`);
  lines.push(`|---|${header.slice(1).map(() => '---:').join('|')}|`);
  for (const row of rows) {
    const cpuOf = (build: string): number | undefined => {
      const runs = results.filter((m) => m.build === build && m.row === row);
      return runs.length === 0 ? undefined : median(runs.map((m) => m.userUsPerOp + m.systemUsPerOp));
    };
    const busyOf = (build: string): number | undefined => {
      const runs = results.filter((m) => m.build === build && m.row === row);
      return runs.length === 0 ? undefined : median(runs.map((m) => m.busyUsPerOp));
    };
    const opsOf = (build: string): number | undefined => {
      const runs = results.filter((m) => m.build === build && m.row === row);
      return runs.length === 0 ? undefined : median(runs.map((m) => m.opsPerSecond));
    };
    const label = row === 'batch-put' ? `BatchPut ×${batchItems} (per call)` : row === 'put-1' ? 'put, 1 node (N=1)' : row === 'get-1' ? 'get, 1 node (N=1)' : row;
    const cells = builds.flatMap((build) => [cpuOf(build.name)?.toFixed(0) ?? '–', busyOf(build.name)?.toFixed(0) ?? '–', opsOf(build.name)?.toFixed(0) ?? '–']);
    const ratio = (mine: number | undefined, base: number | undefined): string => (base === undefined || mine === undefined ? '–' : `${(mine / base).toFixed(2)}×`);
    for (const build of builds.slice(1)) cells.push(ratio(cpuOf(build.name), cpuOf(first)), ratio(busyOf(build.name), busyOf(first)));
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** Each build's median BatchPut keys/s against issue 15's target, and the load averages the runs saw. */
function batchPutSummary(results: readonly Measurement[]): string {
  const lines = [`BatchPut ×${batchItems}, ${values.concurrency} clients, 3 nodes (target ${BATCH_PUT_TARGET_KEYS_PER_SECOND} keys/s):`];
  for (const build of builds) {
    const runs = results.filter((m) => m.build === build.name && m.row === 'batch-put');
    if (runs.length === 0) continue;
    const keys = median(runs.map((m) => m.keysPerSecond));
    const loads = runs.map((m) => m.loadAverage.toFixed(1)).join(', ');
    lines.push(`  ${build.name}: ${keys.toFixed(0)} keys/s, ${(keys / BATCH_PUT_TARGET_KEYS_PER_SECOND).toFixed(2)} of the target (median of ${runs.length}; load average ${loads})`);
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  console.error(
    `bench:cpu: ${rounds} round(s) of ${rows.join(', ')} for ${builds.map((build) => build.name).join(', ')}; ` +
      `${values.concurrency} clients, ${values['value-bytes']}-byte values, ${values.records} keys (${values.distribution}), ${values.duration} per row`,
  );
  const results: Measurement[] = [];
  const clusterRows = rows.filter((row) => !ONE_NODE_ROWS.includes(row));
  const oneNodeRows = rows.filter((row) => ONE_NODE_ROWS.includes(row));
  for (let round = 1; round <= rounds; round++) {
    if (interrupted) return 130;
    await runRound(round, 3, clusterRows, results);
    await runRound(round, 1, oneNodeRows, results);
  }
  const pacing = Number(values.rate) > 0 ? `clients paced at ${values.rate} ops/s (BatchPut ${values['batch-rate']} calls/s)` : 'closed-loop clients';
  console.log(
    `Server CPU per operation (user + system of all nodes; "above idle" less what the idle nodes use in the same time), ` +
      `median of ${rounds} round(s), ${parallel ? 'builds side by side' : 'builds one after the other'}, ${pacing}:\n`,
  );
  console.log(summaryTable(results));
  if (rows.includes('batch-put')) console.log(batchPutSummary(results));
  if (values['json-out'] !== undefined) writeFileSync(values['json-out'], JSON.stringify(results, null, 2));
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`bench:cpu failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (!interrupted) {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exit(code);
