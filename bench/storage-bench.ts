// Storage engine benchmark: acknowledged writes per second and latency at several
// concurrencies with fsync=always and 100-byte values, beside the machine's limit
// measured in the same run: a plain loop that writes the same bytes in the same batch
// sizes (records per sync) with fdatasync. Then the time to reopen after many writes,
// and resident memory while writing many keys.
//
// Beside each level it prints the process's CPU time (user + system, process.cpuUsage)
// per acknowledged write: the work an apply costs, which hardly depends on how busy the
// rest of the machine is, unlike writes per second. And the share of the level's time
// the WAL spent making groups durable (the qkv_wal_fsync_duration_seconds histogram: under
// fsync=always each group's O_DSYNC write, ADR 0262, else its fdatasync; from the call to
// its callback, so a thread-pool hop included): measured in the same window as the writes, unlike the limit, which runs
// after them while the neighbours' I/O may have changed, it says how much of the
// engine's cycle is the disk's and how much is everything else (the CPU of the records,
// the write's hop).
//
// Each level runs once per checkpoint thread named in --checkpoint-thread (the engine's
// checkpoints on the main thread, its default, or on a worker thread: ADR 0195), one after the other
// and each beside its own limit, --rounds times; the reopen and memory phases use the
// first one named.
//
//   npm run bench:storage -- [--seconds 5] [--levels 1,64,1024] [--checkpoint-thread main,worker] [--rounds 1]
//                            [--batch-records 1] [--memtable-bytes 67108864]
//                            [--checkpoint-records 200000] [--reopen-records 1000000] [--memory-records 10000000]
// `--checkpoint-records 0 --reopen-records 0 --memory-records 0` skips those phases.
// At the write levels each writer applies --batch-records records per call (a replica
// applying a BatchPut's records: 100), and the engine's memtable budget is
// --memtable-bytes; a budget far above what a level writes (4000000000) keeps
// checkpoints out of the measurement, so the apply path's CPU per write is measured
// alone, since how many checkpoints fall into a 5 s window varies from run to run.
//
// The checkpoint phase writes that many records into a memtable large enough to hold
// them, then checkpoints once per checkpoint thread, and prints how long the main
// thread was busy during the checkpoint (performance.eventLoopUtilization): the time
// a checkpoint takes from answering requests, which the worker thread is there to cut,
// and its CPU per record on all threads and on the main thread alone (Linux: /proc).
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { silentLogger } from '../src/logging/logger.js';
import { MEMTABLE_BYTES_DEFAULT } from '../src/limits.js';
import { DurableStorageEngine, type CheckpointThread } from '../src/storage/engine/durable-storage-engine.js';
import { prometheusStorageMetrics } from '../src/metrics/storage-prometheus.js';
import type { KvRecord } from '../src/storage/record.js';
import { encodeBatch } from '../src/storage/record-codec.js';
import { FRAME_HEADER_BYTES } from '../src/storage/wal/wal-format.js';
import type { FsyncPolicy } from '../src/storage/wal/fsync-policy.js';
import { createTokenHasher } from '../src/ring/token-hasher.js';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    levels: { type: 'string', default: '1,64,1024' },
    'reopen-records': { type: 'string', default: '1000000' },
    'memory-records': { type: 'string', default: '10000000' },
    dir: { type: 'string', default: '.bench' },
    'checkpoint-thread': { type: 'string', default: 'main,worker' },
    rounds: { type: 'string', default: '1' },
    'checkpoint-records': { type: 'string', default: '200000' },
    'batch-records': { type: 'string', default: '1' },
    'memtable-bytes': { type: 'string', default: String(MEMTABLE_BYTES_DEFAULT) },
  },
});
const CHECKPOINT_THREADS = flags['checkpoint-thread'].split(',').map((text): CheckpointThread => {
  if (text !== 'worker' && text !== 'main') throw new Error(`--checkpoint-thread: ${JSON.stringify(text)} is neither worker nor main`);
  return text;
});
/** A flag's value as a positive integer, or an error naming the flag. */
function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag}: ${JSON.stringify(text)} is not a positive integer`);
  return value;
}
const ROUNDS = positiveInteger('rounds', flags.rounds);
const SECONDS = Number(flags.seconds);
const BATCH_RECORDS = positiveInteger('batch-records', flags['batch-records']);
const MEMTABLE_BYTES = positiveInteger('memtable-bytes', flags['memtable-bytes']);
const LEVELS = flags.levels.split(',').map((text) => positiveInteger('levels', text));
const tokenOf = await createTokenHasher();
const VALUE = Buffer.alloc(100, 0x61);
const NODE_ID = 'bench-node';

function recordFor(n: number): KvRecord {
  return { key: Buffer.from(`key-${n.toString().padStart(10, '0')}`), value: VALUE, version: { stamp: BigInt(n + 1), nodeId: NODE_ID }, expiresAtMs: 0 };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function openEngine(
  dir: string,
  fsyncPolicy: FsyncPolicy,
  checkpointThread: CheckpointThread,
  registry = new Registry(),
  memtableBytesMax = MEMTABLE_BYTES_DEFAULT,
): Promise<{ engine: DurableStorageEngine; openMs: number }> {
  const started = performance.now();
  const { engine } = await DurableStorageEngine.open({ dir, tokenOf, metrics: prometheusStorageMetrics(registry), logger: silentLogger, fsyncPolicy, checkpointThread, memtableBytesMax });
  return { engine, openMs: performance.now() - started };
}

async function histogramSum(registry: Registry, name: string): Promise<{ count: number; sum: number }> {
  const values = (await registry.getSingleMetric(name)!.get()).values as Array<{ metricName?: string; value: number }>;
  const count = values.find((value) => value.metricName === `${name}_count`)?.value ?? 0;
  const sum = values.find((value) => value.metricName === `${name}_sum`)?.value ?? 0;
  return { count, sum };
}

async function histogramMean(registry: Registry, name: string): Promise<number> {
  const { count, sum } = await histogramSum(registry, name);
  return count === 0 ? 0 : sum / count;
}

/** Closed-loop writers: each issues its next write when the previous one is acknowledged. */
interface EngineLevel {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly recordsPerSync: number;
  /** Process CPU per acknowledged write, user and system, in µs. */
  readonly userUsPerWrite: number;
  readonly systemUsPerWrite: number;
  /** The longest the event loop was late for a 10 ms timer: how long it was blocked. */
  readonly loopBlockedMaxMs: number;
  /** The share of the level's time the WAL was in fdatasync calls (one at a time). */
  readonly fdatasyncShare: number;
}

async function measureEngine(root: string, concurrency: number, checkpointThread: CheckpointThread): Promise<EngineLevel> {
  const dir = await mkdtemp(join(root, `engine-c${concurrency}-`));
  const registry = new Registry();
  const { engine } = await openEngine(dir, { kind: 'always' }, checkpointThread, registry, MEMTABLE_BYTES);
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + SECONDS * 1000;
  async function writer(): Promise<void> {
    while (performance.now() < deadline) {
      const records: KvRecord[] = [];
      for (let i = 0; i < BATCH_RECORDS; i++) records.push(recordFor(next++));
      const started = performance.now();
      await engine.apply(records);
      latencies.push(performance.now() - started);
    }
  }
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const stalls = watchLoopStalls(10);
  await Promise.all(Array.from({ length: concurrency }, () => writer()));
  const loopBlockedMaxMs = stalls.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const elapsedS = (performance.now() - started) / 1000;
  const recordsPerSync = await histogramMean(registry, 'qkv_wal_group_commit_records');
  const fdatasyncSeconds = (await histogramSum(registry, 'qkv_wal_fsync_duration_seconds')).sum;
  await engine.close();
  await rm(dir, { recursive: true, force: true });
  const sorted = Float64Array.from(latencies).sort();
  // Latencies are per apply call; writes and their CPU are per record.
  const writes = Math.max(1, latencies.length * BATCH_RECORDS);
  return {
    perSecond: (latencies.length * BATCH_RECORDS) / elapsedS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    recordsPerSync,
    userUsPerWrite: cpu.user / writes,
    systemUsPerWrite: cpu.system / writes,
    loopBlockedMaxMs,
    fdatasyncShare: fdatasyncSeconds / elapsedS,
  };
}

/** The machine's limit: the same frames, the same number per sync, in a tight loop. */
async function measureLimit(root: string, recordsPerSync: number): Promise<number> {
  const dir = await mkdtemp(join(root, 'limit-'));
  const frame = FRAME_HEADER_BYTES + encodeBatch([recordFor(0)]).length;
  const batch = Buffer.alloc(Math.max(1, Math.round(recordsPerSync)) * frame, 0x5a);
  const fd = openSync(join(dir, 'limit.log'), 'w');
  let records = 0;
  let position = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  while (performance.now() < deadline) {
    writeSync(fd, batch, 0, batch.length, position);
    fdatasyncSync(fd);
    position += batch.length;
    records += Math.max(1, Math.round(recordsPerSync));
  }
  const perSecond = records / ((performance.now() - started) / 1000);
  closeSync(fd);
  await rm(dir, { recursive: true, force: true });
  return perSecond;
}

function anonymousResidentBytes(): number {
  const match = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

async function writeMany(engine: DurableStorageEngine, count: number, onProgress?: (written: number) => void): Promise<void> {
  const batchSize = 100;
  const inFlight = 32;
  let next = 0;
  async function writer(): Promise<void> {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + batchSize);
      const records: KvRecord[] = [];
      for (let n = first; n < next; n++) records.push(recordFor(n));
      await engine.apply(records);
      onProgress?.(next);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, () => writer()));
}

/**
 * Watches the event loop with a timer every `tickMs`: stop() returns the longest the
 * loop kept a tick waiting beyond its interval, in ms.
 */
function watchLoopStalls(tickMs: number): { stop(): number } {
  let longestMs = 0;
  let lastTick = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestMs = Math.max(longestMs, now - lastTick - tickMs);
    lastTick = now;
  }, tickMs);
  return {
    stop: () => {
      clearInterval(ticker);
      return longestMs;
    },
  };
}

/**
 * CPU time (user + system) of this process's main thread so far, in ms, from Linux's
 * /proc (clock ticks of 10 ms); undefined where /proc is not there. Beside the process's
 * total it splits a checkpoint's CPU into the engine's thread and the others (lmdb-js
 * runs its write transactions on libuv's threads; the collector has helper threads).
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5), utime and stime, counted after the command name.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * One checkpoint of `records` records, and what it cost: the main thread's busy time,
 * and the process's CPU on all threads (lmdb-js's write thread, the worker, the
 * collector's helpers and the kernel's share included) and on the main thread alone.
 */
async function measureCheckpoint(
  root: string,
  records: number,
  checkpointThread: CheckpointThread,
): Promise<{ elapsedMs: number; busyMs: number; cpuMs: number; mainThreadCpuMs: number | undefined; loopBlockedMaxMs: number }> {
  const dir = await mkdtemp(join(root, `checkpoint-${checkpointThread}-`));
  const { engine } = await DurableStorageEngine.open({ dir, tokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' }, memtableBytesMax: 4 * 1024 * 1024 * 1024, checkpointThread });
  await writeMany(engine, records);
  const stalls = watchLoopStalls(5);
  const utilizationBefore = performance.eventLoopUtilization();
  const cpuBefore = process.cpuUsage();
  const mainThreadBefore = mainThreadCpuMs();
  const started = performance.now();
  await engine.checkpoint();
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const mainThreadAfter = mainThreadCpuMs();
  const utilization = performance.eventLoopUtilization(utilizationBefore);
  const loopBlockedMaxMs = stalls.stop();
  await engine.close();
  await rm(dir, { recursive: true, force: true });
  const mainThread = mainThreadBefore === undefined || mainThreadAfter === undefined ? undefined : mainThreadAfter - mainThreadBefore;
  return { elapsedMs, busyMs: utilization.active, cpuMs: (cpu.user + cpu.system) / 1000, mainThreadCpuMs: mainThread, loopBlockedMaxMs };
}

function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const root = flags.dir;
  await rm(root, { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(root, { recursive: true });
  console.log(`storage benchmark: fsync=always, 100-byte values, ${SECONDS} s per level, data under ${root}/`);
  console.log('');
  console.log(
    `checkpoints on: ${CHECKPOINT_THREADS.join(', ')}; ${ROUNDS} round(s); ${BATCH_RECORDS} record(s) per apply; memtable budget ${mb(MEMTABLE_BYTES)}; load average ${loadAverage()}`,
  );
  console.log('concurrency  checkpoints  engine writes/s  p50 ms  p99 ms  records/sync  limit records/s  engine/limit  CPU µs/write (user+sys)  loop blocked max ms  fdatasync share');
  const ratiosAt64 = new Map<CheckpointThread, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of LEVELS) {
      for (const checkpointThread of CHECKPOINT_THREADS) {
        const engine = await measureEngine(root, concurrency, checkpointThread);
        const limit = await measureLimit(root, engine.recordsPerSync);
        const ratio = engine.perSecond / limit;
        if (concurrency === 64) ratiosAt64.set(checkpointThread, [...(ratiosAt64.get(checkpointThread) ?? []), ratio]);
        console.log(
          `${String(concurrency).padStart(11)}  ${checkpointThread.padStart(11)}  ${engine.perSecond.toFixed(0).padStart(15)}  ${engine.p50Ms.toFixed(2).padStart(6)}  ${engine.p99Ms.toFixed(2).padStart(6)}  ${engine.recordsPerSync.toFixed(1).padStart(12)}  ${limit.toFixed(0).padStart(15)}  ${ratio.toFixed(2).padStart(12)}  ` +
            `${`${(engine.userUsPerWrite + engine.systemUsPerWrite).toFixed(1)} (${engine.userUsPerWrite.toFixed(1)}+${engine.systemUsPerWrite.toFixed(1)})`.padStart(23)}  ${engine.loopBlockedMaxMs.toFixed(0).padStart(19)}  ${engine.fdatasyncShare.toFixed(2).padStart(15)}`,
        );
      }
    }
  }
  for (const [checkpointThread, ratios] of ratiosAt64) {
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    console.log(`target: engine/limit >= 0.50 at concurrency 64, checkpoints on ${checkpointThread}: ${median >= 0.5 ? 'met' : 'MISSED'} (median ${median.toFixed(2)} of ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})`);
  }
  console.log(`load average at the end: ${loadAverage()}`);
  console.log('');

  const checkpointRecords = Number(flags['checkpoint-records']);
  if (checkpointRecords > 0) {
    console.log(`one checkpoint of ${checkpointRecords} records (fsync=never), main thread busy during it; load average ${loadAverage()}`);
    console.log('checkpoints  elapsed ms  main thread busy ms  busy µs/record  CPU µs/record (all threads)  of it main thread  loop blocked max ms');
    for (let round = 0; round < ROUNDS; round++) {
      for (const checkpointThread of CHECKPOINT_THREADS) {
        const checkpoint = await measureCheckpoint(root, checkpointRecords, checkpointThread);
        console.log(
          `${checkpointThread.padStart(11)}  ${checkpoint.elapsedMs.toFixed(0).padStart(10)}  ${checkpoint.busyMs.toFixed(0).padStart(19)}  ${((checkpoint.busyMs * 1000) / checkpointRecords).toFixed(2).padStart(14)}  ${((checkpoint.cpuMs * 1000) / checkpointRecords).toFixed(2).padStart(27)}  ${(checkpoint.mainThreadCpuMs === undefined ? '-' : ((checkpoint.mainThreadCpuMs * 1000) / checkpointRecords).toFixed(2)).padStart(17)}  ${checkpoint.loopBlockedMaxMs.toFixed(0).padStart(19)}`,
        );
      }
    }
    console.log('');
  }

  const reopenRecords = Number(flags['reopen-records']);
  if (reopenRecords > 0) {
    const reopenDir = await mkdtemp(join(root, 'reopen-'));
    const { engine } = await openEngine(reopenDir, { kind: 'never' }, CHECKPOINT_THREADS[0]!);
    await writeMany(engine, reopenRecords);
    // No close: the reopen must recover from what a crash would leave.
    const reopened = await openEngine(reopenDir, { kind: 'never' }, CHECKPOINT_THREADS[0]!);
    console.log(`reopen after ${reopenRecords} writes (no clean close): ${reopened.openMs.toFixed(0)} ms; target <= 3000 ms: ${reopened.openMs <= 3000 ? 'met' : 'MISSED'}`);
    await reopened.engine.close();
    await rm(reopenDir, { recursive: true, force: true });
  }

  const memoryRecords = Number(flags['memory-records']);
  if (memoryRecords > 0) {
    const memoryDir = await mkdtemp(join(root, 'memory-'));
    const { engine } = await openEngine(memoryDir, { kind: 'never' }, CHECKPOINT_THREADS[0]!);
    console.log(`memory phase: checkpoints on ${CHECKPOINT_THREADS[0]}`);
    const baseline = anonymousResidentBytes();
    let peak = baseline;
    let lastReport = 0;
    const started = performance.now();
    await writeMany(engine, memoryRecords, (written) => {
      if (written - lastReport >= memoryRecords / 10) {
        lastReport = written;
        const now = anonymousResidentBytes();
        peak = Math.max(peak, now);
        console.log(`  ${written} keys written, anonymous resident ${mb(now)}, total rss ${mb(process.memoryUsage().rss)}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
    });
    const budget = MEMTABLE_BYTES_DEFAULT + 100 * 1024 * 1024;
    const growth = peak - baseline;
    console.log(
      `memory while writing ${memoryRecords} keys: peak anonymous resident ${mb(peak)} (start ${mb(baseline)}, growth ${mb(growth)}); target growth <= memtable budget + 100 MB = ${mb(budget)}: ${growth <= budget ? 'met' : 'MISSED'}`,
    );
    await engine.close();
  }
  await rm(root, { recursive: true, force: true });
}

await main();
