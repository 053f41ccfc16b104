// The Grafana dashboard's queries against a real Prometheus (Debian's package) scraping
// a real 3-node cluster: after a workload that includes a failed quorum, every panel's
// PromQL expression returns data, and `promtool check metrics` accepts what /metrics
// serves (the security metrics of a node with TLS on included). Skips when prometheus
// is not installed, unless QKV_PROMETHEUS_REQUIRED=1 (CI).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { freePort } from '../support/kube-api-server.js';
import { eventually } from '../support/kube-pods.js';
import { NodeProcess } from '../support/node-process.js';
import { tempDir } from '../support/temp-dir.js';

const DASHBOARD = fileURLToPath(new URL('../../../helm/quorumkv/files/quorumkv-dashboard.json', import.meta.url));

function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function skipReason(): string | false {
  if (which('prometheus') !== undefined && which('promtool') !== undefined) return false;
  const reason = 'prometheus/promtool not installed (Debian package prometheus; .ci/run installs it)';
  if (process.env.QKV_PROMETHEUS_REQUIRED === '1') throw new Error(reason);
  return reason;
}

interface Panel {
  readonly title: string;
  readonly targets: ReadonlyArray<{ readonly expr: string }>;
}

interface QueryResult {
  readonly status: string;
  readonly data: { readonly resultType: string; readonly result: ReadonlyArray<{ readonly metric: Record<string, string>; readonly value: [number, string] }> };
}

test('every dashboard query returns data from a real Prometheus, and promtool accepts /metrics', { skip: skipReason(), timeout: 120_000 }, async () => {
  const dir = await tempDir();
  const ids = ['qkv-0', 'qkv-1', 'qkv-2'];
  const grpcPorts = [await freePort(), await freePort(), await freePort()];
  const peerPorts = [await freePort(), await freePort(), await freePort()];
  const httpPorts = [await freePort(), await freePort(), await freePort()];
  const certs = await ensureLocalCertificates({ dir: join(dir, 'certs'), nodeIds: ids, users: ['admin'] });
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${peerPorts[i]}`).join(',');
  const start = (i: number): NodeProcess =>
    NodeProcess.start(
      [
        '--node-id', ids[i]!, '--host', '127.0.0.1', '--grpc-port', String(grpcPorts[i]), '--peer-port', String(peerPorts[i]), '--http-port', String(httpPorts[i]),
        '--peers', peers, '--tls-dir', certs.nodeDirs.get(ids[i]!)!, '--data-dir', join(dir, ids[i]!), '--vnodes', '16',
      ],
      {},
    );
  const nodes = ids.map((_, i) => start(i));
  const client = new QuorumKvClient({ addresses: [`127.0.0.1:${grpcPorts[0]}`], timeoutMs: 2000, credentials: clientChannelCredentials(certs.dir, 'admin') });
  let prometheus: ChildProcess | undefined;
  try {
    await eventually(async () => {
      try {
        return (await client.status()).state === 'SERVING';
      } catch {
        return false;
      }
    }, () => nodes.map((node) => node.output.join('').slice(-500)).join('\n'), 20_000);

    const promPort = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: quorumkv',
      '    static_configs:',
      `      - targets: [${httpPorts.map((port) => `'127.0.0.1:${port}'`).join(', ')}]`,
      '',
    ].join('\n'));
    prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: 'ignore' });
    const query = async (expr: string): Promise<QueryResult> => {
      const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await response.json()) as QueryResult;
    };
    await eventually(async () => {
      try {
        return (await query('sum(up{job="quorumkv"})')).data.result[0]?.value[1] === '3';
      } catch {
        return false;
      }
      // Generous: Prometheus starts slowly and a 1 s scrape times out on a loaded machine
      // (the full suite on 2 cores once took longer than 30 s here).
    }, () => 'prometheus sees fewer than 3 targets up', 90_000);

    // A workload with every outcome the dashboard shows: writes, reads, and a write
    // whose quorum fails because one of its replicas is down.
    // rate() of a histogram is 0/0 (and its quantile NaN) unless the counters change
    // between two scrapes inside the window, so the traffic spans several scrapes.
    const workloadEndsMs = Date.now() + 4_000;
    for (let i = 0; i < 40 || Date.now() < workloadEndsMs; i += 1) {
      await client.put(Buffer.from(`key-${i}`), Buffer.from(`value-${i}`));
      await client.get(Buffer.from(`key-${i}`));
    }
    await nodes[2]!.stop();
    await assert.rejects(client.put(Buffer.from('needs-three'), Buffer.from('v'), { w: 3 }));
    // rate() needs two samples after the change; the scrape interval is 1 s.
    await new Promise((resolve) => setTimeout(resolve, 3500));

    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
    assert.ok(dashboard.panels.length >= 9);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$job', 'quorumkv');
        const answer = await query(expr);
        assert.equal(answer.status, 'success', `${panel.title}: ${expr}`);
        const numbers = answer.data.result.map((series) => Number(series.value[1])).filter((value) => !Number.isNaN(value));
        assert.ok(numbers.length > 0, `${panel.title}: ${expr} returned no data: ${JSON.stringify(answer.data.result)}`);
      }
    }
    const failures = await query('sum(qkv_quorum_failures_total)');
    assert.ok(Number(failures.data.result[0]?.value[1]) >= 1, JSON.stringify(failures.data));

    const metrics = await (await fetch(`http://127.0.0.1:${httpPorts[0]}/metrics`)).text();
    // Our own metrics must pass promtool's lint with no finding. prom-client's default
    // collectors export three gauges named *_total (nodejs_active_handles_total and
    // friends), which promtool flags; they are prom-client's names, not ours, so they
    // are checked to be exactly those three and nothing else.
    const ours = metrics.split('\n').filter((line) => /^(# (HELP|TYPE) )?qkv_/.test(line)).join('\n') + '\n';
    const checkedOurs = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    assert.equal(checkedOurs.status, 0, `promtool check metrics (qkv_*):\n${checkedOurs.stdout}${checkedOurs.stderr}`);
    assert.ok(ours.includes('qkv_coordinator_request_duration_seconds_bucket'), 'the qkv_ metrics were checked');
    const checkedAll = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    const findings = `${checkedAll.stdout}${checkedAll.stderr}`.split('\n').filter((line) => line.trim() !== '').sort();
    assert.deepEqual(findings, [
      'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
      'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
      'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
    ]);
    assert.match(execFileSync('promtool', ['--version'], { encoding: 'utf8' }), /promtool/);
  } finally {
    client.close();
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise<void>((resolve) => prometheus!.once('exit', () => resolve()));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(nodes.map((node) => node.stop()));
  }
});
