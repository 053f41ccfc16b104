// The workload runner's bookkeeping, against a target that answers in memory (the runner
// is generic over targets; the real systems are exercised in bench-command.test.ts and
// peer-targets.test.ts): the read share follows the workload, failures are counted by
// code and kept out of the histograms, the load phase writes every key once, and a
// batched update is one call of the asked size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench, type BenchOptions } from '../../src/bench/bench-runner.js';
import type { BenchItem, BenchTarget } from '../../src/bench/bench-target.js';
import { seededRandom } from '../../src/bench/key-chooser.js';
import { OverloadedError } from '../../src/errors/errors.js';
import { WORKLOADS } from '../../src/bench/workload.js';

class InMemoryTarget implements BenchTarget {
  readonly description = 'in-memory map';
  readonly data = new Map<string, Buffer>();
  gets = 0;
  puts = 0;
  batchSizes: number[] = [];
  failEvery = 0;
  private calls = 0;

  async put(key: Buffer, value: Buffer): Promise<void> {
    this.maybeFail();
    this.puts++;
    this.data.set(key.toString(), value);
  }

  async get(key: Buffer): Promise<boolean> {
    this.maybeFail();
    this.gets++;
    return this.data.has(key.toString());
  }

  async batchPut(items: readonly BenchItem[]): Promise<number> {
    this.maybeFail();
    this.batchSizes.push(items.length);
    for (const item of items) this.data.set(item.key.toString(), item.value);
    return 0;
  }

  async close(): Promise<void> {}

  private maybeFail(): void {
    this.calls++;
    if (this.failEvery > 0 && this.calls % this.failEvery === 0) throw new OverloadedError('test', 1);
  }
}

function options(overrides: Partial<BenchOptions>): BenchOptions {
  return {
    workload: WORKLOADS.a,
    distribution: 'uniform',
    records: 500,
    valueBytes: 16,
    concurrency: 4,
    durationMs: 150,
    warmupMs: 0,
    batchItems: 1,
    load: false,
    progressIntervalMs: 1000,
    random: seededRandom(1),
    ...overrides,
  };
}

test('the load phase writes every key once, in batches when the target has them', async () => {
  const target = new InMemoryTarget();
  const result = await runBench(target, options({ load: true, workload: WORKLOADS.c, durationMs: 20 }));
  assert.equal(target.data.size, 500);
  assert.deepEqual(target.batchSizes, [100, 100, 100, 100, 100]);
  assert.equal(result.load?.keys, 500);
  assert.deepEqual(result.load?.errors, {});
});

test('workload B reads about 95% of the time and every read finds a loaded key', async () => {
  const target = new InMemoryTarget();
  const result = await runBench(target, options({ load: true, workload: WORKLOADS.b }));
  const share = result.read.operations / result.operations;
  assert.ok(result.operations > 200, `only ${result.operations} operations`);
  assert.ok(share > 0.9 && share < 0.99, `read share ${share}`);
  assert.equal(result.operations, result.read.operations + result.update.operations);
  assert.equal(result.all.latency.count, result.operations);
  assert.equal(result.errorCount, 0);
});

test('workloads C and write-only do only one kind of operation', async () => {
  const reads = await runBench(new InMemoryTarget(), options({ workload: WORKLOADS.c }));
  assert.equal(reads.update.operations, 0);
  assert.ok(reads.read.operations > 0);
  const writes = await runBench(new InMemoryTarget(), options({ workload: WORKLOADS['write-only'] }));
  assert.equal(writes.read.operations, 0);
  assert.ok(writes.update.operations > 0);
});

test('failures are counted by code and stay out of the latency histograms', async () => {
  const target = new InMemoryTarget();
  target.failEvery = 4;
  const result = await runBench(target, options({}));
  assert.ok(result.errorCount > 0);
  assert.deepEqual(Object.keys(result.errors), ['OVERLOADED']);
  assert.equal(result.errors['OVERLOADED'], result.errorCount);
  assert.equal(result.all.latency.count, result.operations);
  assert.equal(target.gets + target.puts, result.operations);
});

test('a batched update is one call of the asked size and counts its keys', async () => {
  const target = new InMemoryTarget();
  const result = await runBench(target, options({ workload: WORKLOADS['write-only'], batchItems: 25 }));
  assert.ok(target.batchSizes.length > 0);
  assert.ok(target.batchSizes.every((size) => size === 25));
  assert.equal(result.update.operations, target.batchSizes.length);
  assert.equal(target.puts, 0);
  assert.ok(result.keysPerSecond >= result.opsPerSecond * 24, 'keys/s counts every key of a batch');
});

test('progress is reported once per interval with the phase and a rate', async () => {
  const seen: string[] = [];
  await runBench(new InMemoryTarget(), options({ durationMs: 130, progressIntervalMs: 40, onProgress: (progress) => seen.push(progress.phase) }));
  assert.ok(seen.length >= 2, `only ${seen.length} progress reports`);
  assert.ok(seen.every((phase) => phase === 'run'));
});

test('--rate caps the operations all clients start together, while the target keeps up', async () => {
  const paced = await runBench(new InMemoryTarget(), options({ concurrency: 16, durationMs: 1000, ratePerSecond: 200 }));
  // 200/s for one second; the timer granularity and a loaded machine leave some slack.
  assert.ok(paced.operations >= 120 && paced.operations <= 215, `${paced.operations} operations at 200/s for 1 s`);
  const unpaced = await runBench(new InMemoryTarget(), options({ concurrency: 16, durationMs: 300 }));
  assert.ok(unpaced.operations > 1000, `only ${unpaced.operations} operations without a rate`);
});
