// The etcd and Redis adapters of `qkv bench` against the real servers (Debian's
// etcd-server and redis-server, installed by .ci/run), started by the launchers of
// `npm run bench:compare`: a short YCSB A run completes without errors. Where the
// binaries are missing outside CI the tests skip and say why; in CI they must run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessGroup } from '../../bench/compare/managed-process.js';
import { hasBinary } from '../../bench/compare/find-binary.js';
import { startEtcdCluster } from '../../bench/compare/etcd-cluster.js';
import { startRedisServer } from '../../bench/compare/redis-server.js';
import { runBenchProcess } from '../../bench/compare/bench-process.js';
import { tempDir } from '../support/temp-dir.js';

const SHORT = ['--workload', 'a', '--records', '200', '--duration', '700ms', '--warmup', '0s', '--concurrency', '8', '--timeout-ms', '10000'];

function skipReason(binary: string, packageName: string): string | undefined {
  if (hasBinary(binary)) return undefined;
  assert.notEqual(process.env['CI'], 'true', `${binary} must be installed in CI (apt-get install ${packageName})`);
  return `${binary} is not installed (apt-get install ${packageName})`;
}

test('qkv bench drives a real etcd cluster', { timeout: 120_000, skip: skipReason('etcd', 'etcd-server') }, async () => {
  const group = new ProcessGroup();
  try {
    const etcd = await startEtcdCluster(group, 1, { dir: await tempDir(), readyTimeoutMs: 60_000 });
    const result = await runBenchProcess(['--target', 'etcd', '--addr', etcd.addresses.join(','), ...SHORT]);
    assert.equal(result.errorCount, 0, JSON.stringify(result.errors));
    assert.equal(result.load?.keys, 200);
    assert.ok(result.read.operations > 0 && result.update.operations > 0);
  } finally {
    await group.stopAll();
  }
});

test('qkv bench drives a real Redis server with appendfsync always', { timeout: 60_000, skip: skipReason('redis-server', 'redis-server') }, async () => {
  const group = new ProcessGroup();
  try {
    const redis = await startRedisServer(group, { dir: await tempDir(), readyTimeoutMs: 30_000 });
    const result = await runBenchProcess(['--target', 'redis', '--addr', redis.addresses[0]!, ...SHORT]);
    assert.equal(result.errorCount, 0, JSON.stringify(result.errors));
    assert.equal(result.load?.keys, 200);
    assert.ok(result.read.operations > 0 && result.update.operations > 0);
  } finally {
    await group.stopAll();
  }
});
