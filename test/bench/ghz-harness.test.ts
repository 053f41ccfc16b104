// The ghz half of `npm run bench:compare`: ghz (built by scripts/ghz-env.sh, found
// through QKV_GHZ or PATH) drives a real etcd member's KV.Put/KV.Range through the
// trimmed etcd proto (bench/ghz) and a real quorumkv node's KV.Put/KV.Get over TLS with a
// client certificate, briefly, and the harness reads ghz's JSON report into figures
// that add up. Nothing is built here; without ghz the test skips and says why, unless
// QKV_GHZ_REQUIRED is set (CI sets it and installs ghz), when it fails.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasBinary } from '../../bench/compare/find-binary.js';
import { startEtcdCluster } from '../../bench/compare/etcd-cluster.js';
import { ghzBinary, parseGhzReport, runGhz, type GhzRunOptions, type GhzSummary } from '../../bench/compare/ghz-run.js';
import { ghzReport, ghzTargetChecks, type GhzMeasurement, type GhzResults } from '../../bench/compare/ghz-table.js';
import { ProcessGroup } from '../../bench/compare/managed-process.js';
import { startQuorumKvCluster } from '../../bench/compare/quorumkv-cluster.js';
import { CA_CERTIFICATE_FILE, clientPaths } from '../../src/security/certificate-files.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import { tempDir } from '../support/temp-dir.js';

const ghz = ghzBinary();

function skipReason(): string | undefined {
  if (ghz === undefined) {
    assert.notEqual(process.env['QKV_GHZ_REQUIRED'], '1', 'ghz is required (QKV_GHZ_REQUIRED=1) but neither QKV_GHZ nor PATH has it: bash scripts/ghz-env.sh');
    return 'ghz is not installed (bash scripts/ghz-env.sh, then QKV_GHZ=<its last line>)';
  }
  if (!hasBinary('etcd')) {
    assert.notEqual(process.env['CI'], 'true', 'etcd must be installed in CI (apt-get install etcd-server)');
    return 'etcd is not installed (apt-get install etcd-server)';
  }
  return undefined;
}

function assertSane(summary: GhzSummary, what: string): void {
  assert.deepEqual(summary.errors, {}, `${what}: no failed calls`);
  assert.ok(summary.count > 0, `${what}: calls were made`);
  assert.ok(summary.opsPerSecond > 0, `${what}: a throughput`);
  assert.ok(summary.p50Ms > 0 && summary.p50Ms <= summary.p99Ms, `${what}: p50 ${summary.p50Ms} <= p99 ${summary.p99Ms}`);
}

test('parseGhzReport refuses what is not a ghz JSON report', () => {
  assert.throws(() => parseGhzReport('{"count": 3}'), /ghz report without count/);
  const report = parseGhzReport(
    JSON.stringify({ count: 10, rps: 99.6, latencyDistribution: [{ percentage: 50, latency: 1_500_000 }, { percentage: 99, latency: 4_000_000 }], statusCodeDistribution: { OK: 9, Unavailable: 1 } }),
  );
  assert.deepEqual(report, { count: 10, opsPerSecond: 100, p50Ms: 1.5, p99Ms: 4, errors: { Unavailable: 1 } });
});

test('ghz drives etcd and a TLS quorumkv node, and its report is read', { timeout: 180_000, skip: skipReason() }, async () => {
  const group = new ProcessGroup();
  const dir = await tempDir();
  try {
    const common = { ghz: ghz!, concurrency: 4, durationSeconds: 1, valueBytes: 100, dir };
    const etcd = await startEtcdCluster(group, 1, { dir: join(dir, 'etcd'), readyTimeoutMs: 60_000 });
    const etcdRun = (operation: 'put' | 'get'): GhzRunOptions => ({ ...common, system: 'etcd', operation, address: etcd.addresses[0]! });
    assertSane(await runGhz(etcdRun('put')), 'etcd put');
    assertSane(await runGhz(etcdRun('get')), 'etcd range');
    await etcd.stop();

    const qkvDir = join(dir, 'qkv');
    const qkv = await startQuorumKvCluster(group, { dir: qkvDir, readyTimeoutMs: 60_000, size: 1, replicationFactor: 1, fsync: 'always' });
    const certs = join(qkvDir, 'certs');
    const admin = clientPaths(certs, BUILT_IN_ADMIN);
    const tls = { caCert: join(certs, CA_CERTIFICATE_FILE), cert: admin.certificatePath, key: admin.keyPath, serverName: 'localhost' };
    const qkvRun = (operation: 'put' | 'get'): GhzRunOptions => ({ ...common, system: 'quorumkv', operation, address: qkv.addresses[0]!, tls });
    assertSane(await runGhz(qkvRun('put')), 'quorumkv put');
    assertSane(await runGhz(qkvRun('get')), 'quorumkv get');
  } finally {
    await group.stopAll();
  }
});

test('the ghz report checks the targets against etcd and names the no-op ceiling of the same run', () => {
  const run = (opsPerSecond: number): GhzMeasurement => ({ count: opsPerSecond * 10, opsPerSecond, p50Ms: 2, p99Ms: 9, errors: {}, serverCpuSeconds: opsPerSecond * 10 * 100e-6, busiestProcessShare: 0.99 });
  const results: GhzResults = new Map([
    ['etcd', new Map([['put', run(8000)], ['get', run(10_000)]])],
    ['quorumkv', new Map([['put', run(16_000)], ['get', run(5000)]])],
    ['noop', new Map([['put', run(14_000)]])],
  ]);
  assert.deepEqual(ghzTargetChecks(results), [
    'ghz Put vs etcd: 2.00× (target ≥ 2×) — met; the no-op grpc-js server reached 1.75× in the same run',
    'ghz Get / Range vs etcd: 0.50× (target ≥ 2×) — MISSED by 75%',
  ]);
  const report = ghzReport(results, 'heading');
  assert.match(report, /\| Put \| 8000 \| 2\.00 \| 9\.00 \| 16000 \| 2\.00 \| 9\.00 \| 14000 \| 2\.00× \| 1\.00× \| 1\.75× \|/);
  assert.match(report, /\| Get \/ Range \| 10000 .* \| – \| 0\.50× \| 1\.00× \| – \|/);
  assert.match(report, /\| Put \| 100 \(99 %\) \| 100 \(99 %\) \| 100 \(99 %\) \|/);
});
