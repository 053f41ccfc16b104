// `qkv bench`: a YCSB-style load generator (src/bench) against quorumkv, etcd, Redis or
// the no-op gRPC floor, and `qkv bench noop-server`, which serves that floor. On a
// terminal a progress line is rewritten once a second on stderr; otherwise the run is
// quiet until its summary (human text, or one JSON document with --json). The exit code
// is 1 when any operation failed, so a script cannot mistake a broken run for a slow one.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { BENCH_CONCURRENCY_MAX, BENCH_DURATION_MS_MAX, BENCH_RATE_PER_SECOND_MAX, BENCH_RECORDS_MAX, BATCH_ITEMS_MAX, REPLICATION_FACTOR_MAX, VALUE_BYTES_MAX_CEILING } from '../../limits.js';
import type { BenchTarget } from '../../bench/bench-target.js';
import { runBench } from '../../bench/bench-runner.js';
import { benchJson, benchText, progressLine, type BenchSettings } from '../../bench/bench-report.js';
import { DISTRIBUTIONS, type Distribution } from '../../bench/key-chooser.js';
import { startNoopKvServer } from '../../bench/noop-kv-server.js';
import { QuorumKvTarget } from '../../bench/targets/quorumkv-target.js';
import type { KvTransport } from '../../client/quorum-kv-client.js';
import { WORKLOADS, WORKLOAD_NAMES, isWorkloadName } from '../../bench/workload.js';
import { CertificateMissingError } from '../../errors/errors.js';
import { EXIT_FAILURE, EXIT_OK, UsageError, writeJson, type CliIo } from '../cli-io.js';
import { LOCAL_ADDRESSES, LOCAL_HOST } from '../local-cluster-layout.js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { clientSecurity, parseDurationMs } from './client-commands.js';

const TARGETS = ['quorumkv', 'etcd', 'redis', 'noop'] as const;
type TargetName = (typeof TARGETS)[number];
/** Targets whose adapter has a batch call (BatchPut). */
const BATCH_TARGETS: readonly TargetName[] = ['quorumkv', 'noop'];

/** Where each target listens when --addr is not given (each system's usual port). */
const DEFAULT_ADDRESSES: Readonly<Record<TargetName, string>> = {
  quorumkv: LOCAL_ADDRESSES,
  etcd: `${LOCAL_HOST}:2379`,
  redis: `${LOCAL_HOST}:6379`,
  noop: `${LOCAL_HOST}:7409`,
};
const NOOP_PORT_DEFAULT = 7409;
const BENCH_TIMEOUT_MS_DEFAULT = 10_000;
const PROGRESS_INTERVAL_MS = 1000;
/** The line --marks writes on stderr, followed by `start` or `end`. */
export const RUN_MARK = 'qkv-bench: measured phase';

export const BENCH_USAGE = `usage: qkv bench [flags]
       qkv bench noop-server [--host H] [--port P] [--value-bytes B] [--tls-dir DIR --node-id ID]

Runs a YCSB-style workload with closed-loop clients and prints throughput and latency
percentiles (HdrHistogram). Flags:
  --target quorumkv|etcd|redis|noop   system under test (default quorumkv)
  --addr host:port[,...]              its address(es); default: quorumkv's local cluster,
                                      etcd :2379, redis :6379, noop :${NOOP_PORT_DEFAULT}
  --workload ${WORKLOAD_NAMES.join('|')}         a 50/50 read/update, b 95/5, c reads only (default a)
  --distribution ${DISTRIBUTIONS.join('|')}    key popularity (default zipfian)
  --records N          keys in the key space, loaded before the run (default 100000)
  --value-bytes N      value size (default 100)
  --concurrency N      clients, each with one request in flight (default 64)
  --duration D         measured time, e.g. 10s (default 10s); --warmup D (default 1s)
  --batch N            keys per update; above 1 an update is one BatchPut (quorumkv, noop)
  --rate N             start at most N operations per second, all clients together
                       (default 0: each client sends its next one when answered)
  --w N --r N          quorumkv acks per write / replies per read (default 0 = cluster majority)
  --no-load            skip the load phase (the keys are already there)
  --timeout-ms N       deadline of each call (default ${BENCH_TIMEOUT_MS_DEFAULT})
  --certs-dir DIR --user NAME --insecure   how to reach a quorumkv target, as for the cluster commands
                                      (and a no-op server started with --tls-dir: give --certs-dir)
  --unary              quorumkv and noop: one unary call per request instead of the
                       multiplexed stream the client uses by default
  --json               print one JSON document instead of text
  --marks              write "${RUN_MARK} start|end" on stderr around the measured
                       phase (for tools that sample the servers meanwhile)

The no-op server answers the KV service's messages without doing anything: the floor
of what a gRPC server costs with this client.
`;

export async function runBenchCommand(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'noop-server') return runNoopServer(args.slice(1), io);
  const { values, positionals } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      addr: { type: 'string' },
      workload: { type: 'string' },
      distribution: { type: 'string' },
      records: { type: 'string' },
      'value-bytes': { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      batch: { type: 'string' },
      rate: { type: 'string' },
      w: { type: 'string' },
      r: { type: 'string' },
      'no-load': { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      'certs-dir': { type: 'string' },
      user: { type: 'string' },
      insecure: { type: 'boolean' },
      unary: { type: 'boolean' },
      json: { type: 'boolean' },
      marks: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(BENCH_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`bench: unexpected argument ${JSON.stringify(positionals[0])}`);
  const targetName = values.target ?? 'quorumkv';
  if (!(TARGETS as readonly string[]).includes(targetName)) throw new UsageError(`--target must be one of ${TARGETS.join(', ')}`);
  const workloadName = values.workload ?? 'a';
  if (!isWorkloadName(workloadName)) throw new UsageError(`--workload must be one of ${WORKLOAD_NAMES.join(', ')}`);
  const distribution = values.distribution ?? 'zipfian';
  if (!(DISTRIBUTIONS as readonly string[]).includes(distribution)) throw new UsageError(`--distribution must be one of ${DISTRIBUTIONS.join(', ')}`);
  const durationMs = parseDurationMs('duration', values.duration ?? '10s');
  const warmupMs = parseDurationMs('warmup', values.warmup ?? '1s');
  if (durationMs < 1 || durationMs > BENCH_DURATION_MS_MAX) throw new UsageError(`--duration must be from 1ms to ${BENCH_DURATION_MS_MAX / 60_000}m`);
  if (warmupMs > BENCH_DURATION_MS_MAX) throw new UsageError(`--warmup must be at most ${BENCH_DURATION_MS_MAX / 60_000}m`);
  const batchItems = integer('batch', values.batch, 1, BATCH_ITEMS_MAX) ?? 1;
  const settings: Omit<BenchSettings, 'description'> = {
    target: targetName,
    workload: WORKLOADS[workloadName],
    distribution: distribution as Distribution,
    records: integer('records', values.records, 1, BENCH_RECORDS_MAX) ?? 100_000,
    valueBytes: integer('value-bytes', values['value-bytes'], 0, VALUE_BYTES_MAX_CEILING) ?? 100,
    concurrency: integer('concurrency', values.concurrency, 1, BENCH_CONCURRENCY_MAX) ?? 64,
    durationMs,
    warmupMs,
    batchItems,
    ratePerSecond: integer('rate', values.rate, 0, BENCH_RATE_PER_SECOND_MAX) ?? 0,
    w: integer('w', values.w, 0, REPLICATION_FACTOR_MAX) ?? 0,
    r: integer('r', values.r, 0, REPLICATION_FACTOR_MAX) ?? 0,
  };
  const addresses = (values.addr ?? io.env['QKV_ADDR'] ?? DEFAULT_ADDRESSES[targetName as TargetName])
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (addresses.length === 0) throw new UsageError('--addr must name at least one host:port');
  const timeoutMs = integer('timeout-ms', values['timeout-ms'], 1, BENCH_DURATION_MS_MAX) ?? BENCH_TIMEOUT_MS_DEFAULT;

  if (batchItems > 1 && !BATCH_TARGETS.includes(targetName as TargetName)) throw new UsageError(`--batch is not supported by --target ${targetName}`);
  // The no-op server is plaintext unless it was started with --tls-dir; then give --certs-dir.
  const security = targetName === 'quorumkv' || (targetName === 'noop' && values['certs-dir'] !== undefined) ? clientSecurity(io, values) : {};
  const transport: KvTransport = values.unary === true ? 'unary' : 'stream';
  if (transport === 'unary' && !['quorumkv', 'noop'].includes(targetName)) throw new UsageError(`--unary is not supported by --target ${targetName}`);
  const target = await openTarget(targetName as TargetName, addresses, settings.w, settings.r, timeoutMs, transport, security.credentials);
  try {
    assert.ok(batchItems === 1 || target.batchPut !== undefined, 'a batch target has a batch call');
    const live = (io.stderr as NodeJS.WriteStream).isTTY === true;
    const result = await runBench(target, {
      ...settings,
      load: values['no-load'] !== true,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      ...(live ? { onProgress: (progress) => io.stderr.write(progressLine(progress)) } : {}),
      ...(values.marks ? { onRunPhase: (event) => io.stderr.write(`${RUN_MARK} ${event}\n`) } : {}),
    });
    if (live) io.stderr.write('\r' + ' '.repeat(90) + '\r');
    const full: BenchSettings = { ...settings, description: target.description };
    if (values.json) writeJson(io, benchJson(full, result));
    else io.stdout.write(benchText(full, result));
    const loadErrors = result.load === null ? 0 : Object.values(result.load.errors).reduce((sum, count) => sum + count, 0);
    return result.errorCount + loadErrors > 0 ? EXIT_FAILURE : EXIT_OK;
  } finally {
    await target.close();
  }
}

async function openTarget(name: TargetName, addresses: readonly string[], w: number, r: number, timeoutMs: number, transport: KvTransport, credentials?: ChannelCredentials): Promise<BenchTarget> {
  switch (name) {
    case 'quorumkv':
      return new QuorumKvTarget({ addresses, w, r, timeoutMs, transport, ...(credentials === undefined ? {} : { credentials }) });
    case 'noop':
      return new QuorumKvTarget({ addresses, w, r, timeoutMs, transport, ...(credentials === undefined ? {} : { credentials }), description: `no-op gRPC server at ${addresses.join(',')} (${transport}${credentials === undefined ? '' : ', TLS'})` });
    case 'etcd': {
      const { EtcdTarget } = await import('../../bench/targets/etcd-target.js');
      return EtcdTarget.open({ addresses, timeoutMs });
    }
    case 'redis': {
      if (addresses.length !== 1) throw new UsageError('--target redis takes one address');
      const { RedisTarget } = await import('../../bench/targets/redis-target.js');
      return RedisTarget.open({ address: addresses[0]!, timeoutMs });
    }
  }
}

async function runNoopServer(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { host: { type: 'string' }, port: { type: 'string' }, 'value-bytes': { type: 'string' }, 'tls-dir': { type: 'string' }, 'node-id': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(BENCH_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`bench noop-server: unexpected argument ${JSON.stringify(positionals[0])}`);
  if ((values['tls-dir'] === undefined) !== (values['node-id'] === undefined)) throw new UsageError('bench noop-server: --tls-dir and --node-id go together (the node certificate in that directory names that node)');
  const server = await startNoopKvServer({
    host: values.host ?? LOCAL_HOST,
    port: integer('port', values.port, 0, 65535) ?? NOOP_PORT_DEFAULT,
    valueBytes: integer('value-bytes', values['value-bytes'], 0, VALUE_BYTES_MAX_CEILING) ?? 100,
    ...(values['tls-dir'] === undefined ? {} : { tls: { dir: values['tls-dir'], nodeId: values['node-id']! } }),
  }).catch((error: unknown) => {
    // The node's hint ends in "or run without TLS with --insecure", a flag this command
    // does not take: here plaintext is the absence of --tls-dir.
    if (error instanceof CertificateMissingError) {
      throw new CertificateMissingError(error.file, 'point --tls-dir at a node\'s certificate directory (`qkv certs create-node`), or leave out --tls-dir and --node-id to serve plaintext');
    }
    throw error;
  });
  // The line a launcher waits for (with --port 0 it is the only way to learn the port).
  io.stdout.write(`noop-server listening on ${values.host ?? LOCAL_HOST}:${server.port}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await server.close();
  io.stdout.write(`noop-server stopped by ${signal}\n`);
  return EXIT_OK;
}

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
