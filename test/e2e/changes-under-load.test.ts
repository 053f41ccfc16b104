// The chart on a real kubelet, changed while a client writes: `helm upgrade` to a second
// image tag (a rolling restart), then scaling 3 → 5 → 3 through the QuorumKVCluster with
// the real StatefulSet controller, and all the while Debian's Prometheus scraping the
// pods it finds through the API server (kubernetes_sd_configs). The writer
// (test/support/continuous-writer.ts) puts at W=2 through `kubectl port-forward` to the
// three first members, one port-forward per member that comes back with its pod; at the
// end every acknowledged write is read back at R=3. The steps follow
// docs/operations/kubernetes.md ("What the end-to-end tests check under load").
//
// Needs the real cluster of the e2e tier (test/support/real-kube-cluster.ts; skips and
// says why without it, unless QKV_E2E_REQUIRED=1) and, for the Prometheus part, Debian's
// prometheus (QKV_PROMETHEUS_REQUIRED=1 makes its absence a failure).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GrpcKvClient } from '../../src/client/grpc-kv-client.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { assertNoAcknowledgedWriteLost, checkAcknowledgedWrites, describeWriteCheck } from '../support/acknowledged-write-check.js';
import { ContinuousWriter } from '../support/continuous-writer.js';
import { kubeBinDir } from '../support/kube-api-server.js';
import { LastingPortForward } from '../support/lasting-port-forward.js';
import { freePort } from '../support/process-cluster.js';
import { REPO_ROOT, RealKubeCluster, runCommand, skipWithoutRealCluster, waitFor } from '../support/real-kube-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const NAMESPACE = 'quorumkv-load';
const RELEASE = 'qkv-load';
const FULLNAME = `${RELEASE}-quorumkv`;
const member = (ordinal: number): string => `${FULLNAME}-${ordinal}`;
const CLIENT_PORT = 7400;
const HTTP_PORT = 7480;
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const SECOND_TAG = 'e2e-second';
const CHANGE_TIMEOUT_MS = 600_000;
const WRITE_TIMEOUT_MS = 5_000;
/** Local PersistentVolumes the scaling step needs free: one per member at five members. */
const VOLUMES_NEEDED = 5;

interface PodJson {
  metadata: { name: string; creationTimestamp: string; uid: string };
  spec: { containers: Array<{ name: string; image: string }> };
  status: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
}
interface ClusterResourceJson {
  metadata: { generation: number };
  status?: { replicas?: number; conditions?: Array<{ type: string; status: string; reason?: string; observedGeneration?: number }> };
}

const isReady = (pod: PodJson): boolean => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const readySince = (pod: PodJson): number => Date.parse(pod.status.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');

function prometheusSkip(): string | false {
  if (spawnSync('sh', ['-c', 'command -v prometheus']).status === 0) return false;
  const reason = 'prometheus not installed (Debian package prometheus; .ci/run installs it)';
  if (process.env.QKV_PROMETHEUS_REQUIRED === '1') throw new Error(reason);
  return reason;
}

const skip = skipWithoutRealCluster();

describe('the chart on a real kubelet, changed under a continuous writer', { skip, timeout: 2_400_000 }, () => {
  let cluster: RealKubeCluster;
  let certsDir: string;
  let client: QuorumKvClient;
  let writer: ContinuousWriter | undefined;
  let prometheus: ChildProcess | undefined;
  let prometheusPort = 0;
  let prometheusOutput = '';
  let discoverPods: Promise<void> | undefined;
  let stopDiscovery = false;
  const forwards: LastingPortForward[] = [];

  const members = async (): Promise<PodJson[]> =>
    (await cluster.kubectlJson<{ items: PodJson[] }>(['-n', NAMESPACE, 'get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/name=quorumkv`])).items.filter((pod) =>
      pod.metadata.name.startsWith(`${FULLNAME}-`),
    );

  /** Starts the writer through the first three members; every test ends it with stopAndCheck. */
  const startWriter = (keyPrefix: string): ContinuousWriter =>
    (writer = ContinuousWriter.start(new GrpcKvClient(client), { keyPrefix, w: 2, timeoutMs: WRITE_TIMEOUT_MS }));
  const stopAndCheck = async (t: { diagnostic(message: string): void }): Promise<void> => {
    const ledger = await writer!.stop();
    writer = undefined;
    const report = await checkAcknowledgedWrites(new GrpcKvClient(client), ledger, { r: 3, timeoutMs: 10_000 });
    for (const line of describeWriteCheck(report).split('\n')) t.diagnostic(line);
    assert.ok(report.acknowledged > 0, 'the writer had writes acknowledged');
    assertNoAcknowledgedWriteLost(report);
  };

  before(async () => {
    cluster = await RealKubeCluster.acquire();
    const volumes = await cluster.kubectlJson<{ items: Array<{ status: { phase: string } }> }>(['get', 'pv']);
    const available = volumes.items.filter((volume) => volume.status.phase === 'Available').length;
    assert.ok(available >= VOLUMES_NEEDED, `scaling to 5 needs ${VOLUMES_NEEDED} Available PersistentVolumes, the cluster has ${available} (QKV_E2E_VOLUMES)`);
    await cluster.helm(['install', RELEASE, 'helm/quorumkv', '--namespace', NAMESPACE, '--create-namespace', '--wait', '--timeout', '10m']);

    // A client certificate from the chart's CA, as the walkthrough makes one.
    const caDir = await tempDir(undefined, 'qkv-e2e-load-ca-');
    certsDir = await tempDir(undefined, 'qkv-e2e-load-certs-');
    for (const [field, file] of [['tls\\.crt', 'ca.crt'], ['tls\\.key', 'ca.key']] as const) {
      const { stdout } = await cluster.kubectl(['-n', NAMESPACE, 'get', 'secret', `${FULLNAME}-ca`, '-o', `jsonpath={.data.${field}}`]);
      await writeFile(join(caDir, file), Buffer.from(stdout, 'base64'));
    }
    await copyFile(join(caDir, 'ca.crt'), join(certsDir, 'ca.crt'));
    await runCommand(process.execPath, [CLI, 'certs', 'create-client', '--ca-dir', caDir, '--certs-dir', certsDir, '--user', 'admin']);

    for (const ordinal of [0, 1, 2]) forwards.push(await LastingPortForward.open(join(kubeBinDir(), 'kubectl'), cluster.env, NAMESPACE, member(ordinal), CLIENT_PORT));
    client = new QuorumKvClient({ addresses: forwards.map((forward) => forward.address), timeoutMs: WRITE_TIMEOUT_MS, credentials: clientChannelCredentials(certsDir, 'admin') });
    await waitFor('a put through the port-forwards', 60_000, async () => (await client.put(Buffer.from('load/hello'), Buffer.from('hello'), { w: 3 })).acks);

    if (prometheusSkip() === false) prometheus = await startPrometheus();
  });

  after(async () => {
    stopDiscovery = true;
    await discoverPods;
    await writer?.stop();
    client?.close();
    await Promise.all(forwards.map((forward) => forward.close()));
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise<void>((resolve) => prometheus!.once('exit', () => resolve()));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (cluster === undefined) return;
    await cluster.helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait']).catch(() => undefined);
    await cluster.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
    await cluster.release();
  });

  /**
   * Debian's Prometheus scraping the pods' http ports. Debian builds Prometheus without
   * its Kubernetes service discovery (2.42.0+ds: "field kubernetes_sd_configs not found"),
   * so the test does that part: every 2 s it lists the release's pods from the API server
   * and writes them as file_sd targets, labelled with the pod's name.
   */
  async function startPrometheus(): Promise<ChildProcess> {
    const dir = await tempDir(undefined, 'qkv-e2e-prometheus-');
    prometheusPort = await freePort();
    const config = join(dir, 'prometheus.yml');
    const targetsFile = join(dir, 'pods.json');
    const writeTargets = async (): Promise<void> => {
      const pods = await cluster.kubectlJson<{ items: Array<{ metadata: { name: string }; status: { podIP?: string } }> }>([
        '-n', NAMESPACE, 'get', 'pods', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/name=quorumkv`,
      ]);
      const targets = pods.items
        .filter((pod) => pod.metadata.name.startsWith(`${FULLNAME}-`) && pod.status.podIP !== undefined)
        .map((pod) => ({ targets: [`${pod.status.podIP}:${HTTP_PORT}`], labels: { pod: pod.metadata.name } }));
      await writeFile(`${targetsFile}.tmp`, JSON.stringify(targets));
      await rename(`${targetsFile}.tmp`, targetsFile);
    };
    await writeTargets();
    discoverPods = (async () => {
      while (prometheus === undefined || prometheus.exitCode === null) {
        await sleep(2_000);
        await writeTargets().catch(() => undefined);
        if (stopDiscovery) return;
      }
    })();
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 2s',
        '  evaluation_interval: 2s',
        'scrape_configs:',
        '  - job_name: quorumkv',
        '    file_sd_configs:',
        `      - files: [${JSON.stringify(targetsFile)}]`,
        '        refresh_interval: 2s',
        '',
      ].join('\n'),
    );
    const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => (prometheusOutput = (prometheusOutput + chunk.toString()).slice(-4000)));
    return child;
  }

  async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    assert.equal(prometheus?.exitCode, null, `prometheus exited: ${prometheusOutput}`);
    const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const answer = (await response.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    assert.equal(answer.status, 'success', expr);
    return answer.data.result;
  }

  test('helm upgrade to a second image tag: a rolling restart one pod at a time, no acknowledged write lost', async (t) => {
    const before = await members();
    startWriter('load/upgrade');
    await waitFor('the writer is acknowledged', 60_000, async () => (writer!.summary().acknowledged >= 20 ? true : undefined));

    // Sample the members while the upgrade runs: how many of the three are not Ready at once.
    let sampling = true;
    let mostDownAtOnce = 0;
    const sampler = (async () => {
      while (sampling) {
        const pods = await members().catch(() => undefined);
        if (pods !== undefined) mostDownAtOnce = Math.max(mostDownAtOnce, 3 - pods.filter(isReady).length);
        await sleep(500);
      }
    })();
    const started = Date.now();
    try {
      await cluster.helm(['upgrade', RELEASE, 'helm/quorumkv', '--namespace', NAMESPACE, '--reuse-values', '--set', `image.tag=${SECOND_TAG}`, '--wait', '--timeout', '10m'], CHANGE_TIMEOUT_MS);
      await waitFor('every member runs the second tag and is Ready', CHANGE_TIMEOUT_MS, async () => {
        const pods = await members();
        return pods.length === 3 && pods.every((pod) => isReady(pod) && pod.spec.containers.find((c) => c.name === 'quorumkv')!.image.endsWith(`:${SECOND_TAG}`)) ? true : undefined;
      });
    } finally {
      sampling = false;
      await sampler;
    }
    t.diagnostic(`helm upgrade and the rollout took ${Date.now() - started} ms; at most ${mostDownAtOnce} member(s) not Ready at once`);
    const after = await members();
    // Every pod was replaced (new uid), highest ordinal first, and each was created only
    // after the one before it was Ready again: the StatefulSet's one-at-a-time rollout.
    for (const pod of after) assert.notEqual(pod.metadata.uid, before.find((old) => old.metadata.name === pod.metadata.name)?.metadata.uid, `${pod.metadata.name} was replaced`);
    const byOrdinal = (ordinal: number): PodJson => after.find((pod) => pod.metadata.name === member(ordinal))!;
    for (const [earlier, later] of [[2, 1], [1, 0]] as const) {
      assert.ok(
        Date.parse(byOrdinal(later).metadata.creationTimestamp) >= readySince(byOrdinal(earlier)) - 1_000,
        `${member(later)} was created at ${byOrdinal(later).metadata.creationTimestamp}, before ${member(earlier)} was Ready`,
      );
    }
    assert.ok(mostDownAtOnce <= 1, `${mostDownAtOnce} members were not Ready at once`);
    assert.ok(forwards.every((forward) => forward.starts >= 2), 'every port-forward was restarted with its pod');
    await stopAndCheck(t);
  });

  test('scaling 3 → 5 → 3 through the QuorumKVCluster: no acknowledged write lost, the removed members keep their PVCs', async (t) => {
    startWriter('load/scaling');
    await waitFor('the writer is acknowledged', 60_000, async () => (writer!.summary().acknowledged >= 20 ? true : undefined));
    const scaleTo = async (replicas: number): Promise<void> => {
      const started = Date.now();
      await cluster.kubectl(['-n', NAMESPACE, 'patch', 'quorumkvcluster', FULLNAME, '--type', 'merge', '-p', JSON.stringify({ spec: { replicas } })]);
      await waitFor(`${replicas} members Ready and the controller done`, CHANGE_TIMEOUT_MS, async () => {
        const resource = await cluster.kubectlJson<ClusterResourceJson>(['-n', NAMESPACE, 'get', 'quorumkvcluster', FULLNAME]);
        const scaling = resource.status?.conditions?.find((c) => c.type === 'Scaling');
        const pods = await members();
        const done =
          scaling?.status === 'False' && (scaling.observedGeneration ?? 0) >= resource.metadata.generation && pods.length === replicas && pods.every(isReady) && resource.status?.replicas === replicas;
        return done ? true : undefined;
      });
      t.diagnostic(`scaled to ${replicas} in ${Date.now() - started} ms; writer so far: ${JSON.stringify(writer!.summary())}`);
    };
    await scaleTo(5);
    const { stdout: status } = await runCommand(process.execPath, [CLI, 'status', '--certs-dir', certsDir, '--user', 'admin', '--addr', forwards[0]!.address]);
    for (const ordinal of [0, 1, 2, 3, 4]) assert.match(status, new RegExp(`^${member(ordinal)} .* NORMAL`, 'm'), status);
    await scaleTo(3);

    const claims = await cluster.kubectlJson<{ items: Array<{ metadata: { name: string }; status: { phase: string } }> }>(['-n', NAMESPACE, 'get', 'pvc']);
    for (const ordinal of [3, 4]) {
      const claim = claims.items.find((item) => item.metadata.name === `data-${member(ordinal)}`);
      assert.equal(claim?.status.phase, 'Bound', `the PVC of removed member ${member(ordinal)} is kept`);
    }
    await stopAndCheck(t);
  });

  test('Prometheus scrapes the pods found through the API server: every dashboard query returns data from them', { skip: prometheusSkip() }, async () => {
    // One failed quorum for the failures panel: W=3 while a member is being deleted.
    const victim = member(2);
    const deleting = cluster.kubectl(['-n', NAMESPACE, 'delete', 'pod', victim, '--wait=false']);
    await waitFor('a W=3 put fails while a member is away', 120_000, async () => {
      try {
        await client.put(Buffer.from(`load/needs-three-${Date.now()}`), Buffer.from('v'), { w: 3, timeoutMs: 2_000 });
        return undefined;
      } catch {
        return true;
      }
    });
    await deleting;
    await waitFor(`${victim} back and Ready`, CHANGE_TIMEOUT_MS, async () => ((await members()).filter(isReady).length === 3 ? true : undefined));
    // rate() needs two scrapes after the last change; the scrape interval is 2 s.
    await sleep(6_000);

    const targets = await query('up{job="quorumkv"} == 1');
    const podsScraped = new Set(targets.map((series) => series.metric.pod));
    for (const ordinal of [0, 1, 2]) assert.ok(podsScraped.has(member(ordinal)), `Prometheus scrapes ${member(ordinal)}: ${JSON.stringify([...podsScraped])}`);

    const dashboard = JSON.parse(await readFile(join(REPO_ROOT, 'helm', 'quorumkv', 'files', 'quorumkv-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$job', 'quorumkv');
        const numbers = (await query(expr)).map((series) => Number(series.value[1])).filter((value) => !Number.isNaN(value));
        assert.ok(numbers.length > 0, `${panel.title}: ${expr} returned no data from the pods`);
      }
    }
  });
});
