// Smoke test of the benchmark path with real processes: a 3-node quorumkv cluster
// (durable storage, fsync=always, N=3) started by the same launcher `npm run
// bench:compare` uses (with TLS, as users run it), `qkv bench --json` run against it as
// a child process with the cluster's admin client certificate, and the no-op floor server. No timing is asserted: only that the runs complete without
// errors, report both kinds of operation, and really wrote the keys they loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ProcessGroup } from '../../bench/compare/managed-process.js';
import { startQuorumKvCluster, QKV_MAIN } from '../../bench/compare/quorumkv-cluster.js';
import { startNoopServer } from '../../bench/compare/noop-server.js';
import { runBenchProcess } from '../../bench/compare/bench-process.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { keyOf } from '../../src/bench/workload.js';
import { tempDir } from '../support/temp-dir.js';

const SHORT = ['--duration', '700ms', '--warmup', '0s', '--concurrency', '8', '--timeout-ms', '10000'];

test('qkv bench runs YCSB A and batched writes against a 3-node cluster', { timeout: 120_000 }, async () => {
  const group = new ProcessGroup();
  try {
    const dir = await tempDir();
    const cluster = await startQuorumKvCluster(group, { dir, readyTimeoutMs: 60_000, size: 3, replicationFactor: 3, fsync: 'always' });
    const addr = cluster.addresses.join(',');
    const security = cluster.clientArgs ?? [];
    assert.deepEqual(security, ['--certs-dir', join(dir, 'certs')], 'the cluster runs with TLS');

    const mixed = await runBenchProcess(['--addr', addr, ...security, '--workload', 'a', '--records', '300', '--value-bytes', '64', '--w', '2', '--r', '2', ...SHORT]);
    assert.equal(mixed.errorCount, 0, JSON.stringify(mixed.errors));
    assert.equal(mixed.load?.keys, 300);
    assert.ok(mixed.read.operations > 0 && mixed.update.operations > 0, 'YCSB A both reads and updates');
    assert.equal(mixed.all.latency.count, mixed.all.operations);
    assert.ok(mixed.all.latency.p99Ms >= mixed.all.latency.p50Ms);

    const batched = await runBenchProcess(['--addr', addr, ...security, '--workload', 'write-only', '--records', '300', '--batch', '20', '--value-bytes', '64', '--no-load', ...SHORT]);
    assert.equal(batched.errorCount, 0, JSON.stringify(batched.errors));
    assert.equal(batched.load, null);
    assert.equal(batched.read.operations, 0);
    assert.ok(batched.update.operations > 0);

    // The load phase wrote every key on a quorum: any node returns it at R=3.
    const client = new QuorumKvClient({ addresses: [cluster.addresses[2]!], timeoutMs: 5_000, credentials: clientChannelCredentials(join(dir, 'certs'), 'admin') });
    try {
      for (const record of [0, 150, 299]) {
        const answer = await client.get(keyOf(record), { r: 3 });
        assert.equal(answer.found, true, `record ${record} was loaded`);
        assert.equal(answer.value.length, 64);
      }
    } finally {
      client.close();
    }
  } finally {
    await group.stopAll();
  }
});

test('qkv bench measures the no-op floor server, plaintext and with TLS like a node\'s client port', { timeout: 90_000 }, async () => {
  const group = new ProcessGroup();
  try {
    for (const insecure of [true, false]) {
      const noop = await startNoopServer(group, 100, { dir: await tempDir(), readyTimeoutMs: 30_000, insecure });
      assert.equal(noop.clientArgs?.[0], insecure ? undefined : '--certs-dir', 'with TLS the client is told where the certificates are');
      const result = await runBenchProcess(['--target', 'noop', '--addr', noop.addresses[0]!, ...(noop.clientArgs ?? []), '--workload', 'b', '--records', '100', ...SHORT]);
      assert.equal(result.errorCount, 0, JSON.stringify(result.errors));
      assert.ok(result.read.operations > result.update.operations, 'B is mostly reads');
      if (!insecure) {
        // A plaintext client cannot speak to it: TLS is really on.
        const plaintext = spawnSync(process.execPath, [QKV_MAIN, 'bench', '--target', 'noop', '--addr', noop.addresses[0]!, '--no-load', '--duration', '200ms', '--warmup', '0s', '--concurrency', '1', '--json'], { encoding: 'utf8' });
        assert.equal(plaintext.status, 1, plaintext.stderr);
      }
      await noop.stop();
    }
  } finally {
    await group.stopAll();
  }
});

test('qkv bench refuses bad flags with a usage error and fails on an unreachable target', () => {
  const usage = spawnSync(process.execPath, [QKV_MAIN, 'bench', '--workload', 'z'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--workload must be one of a, b, c, write-only/);
  const batch = spawnSync(process.execPath, [QKV_MAIN, 'bench', '--target', 'redis', '--batch', '10', '--addr', '127.0.0.1:1'], { encoding: 'utf8' });
  assert.equal(batch.status, 2);
  assert.match(batch.stderr, /--batch is not supported by --target redis/);

  // Port 1 on loopback refuses connections: every call fails, and the exit code says so.
  const down = spawnSync(
    process.execPath,
    [QKV_MAIN, 'bench', '--target', 'noop', '--addr', '127.0.0.1:1', '--no-load', '--duration', '200ms', '--warmup', '0s', '--concurrency', '2', '--json'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(down.status, 1);
  const summary = JSON.parse(down.stdout) as { errorCount: number; operations: number; errors: Record<string, number> };
  assert.equal(summary.operations, 0);
  assert.ok(summary.errorCount > 0);
  assert.deepEqual(Object.keys(summary.errors), ['PEER_UNREACHABLE']);
});

test('qkv bench noop-server with a --tls-dir that holds no certificates says how to fix it with its own flags', async () => {
  const missing = join(await tempDir(), 'no-such-node');
  const result = spawnSync(process.execPath, [QKV_MAIN, 'bench', 'noop-server', '--port', '0', '--tls-dir', missing, '--node-id', 'noop'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /CERTIFICATE_MISSING: .*no-such-node.* does not exist; .*leave out --tls-dir and --node-id to serve plaintext/);
  // The node's own hint names --insecure, which this command refuses as an unknown flag.
  assert.doesNotMatch(result.stderr, /--insecure/);
});
