// The chart on a real kubelet: the Dockerfile's image in containerd, the StatefulSet's
// pods on local PersistentVolumes, reached from outside through `kubectl port-forward`,
// as a user of kind or minikube reaches them. The steps follow
// docs/operations/kubernetes.md ("Deploy on kind or minikube", "Talk to it") and use the
// README's commands: helm install (with --wait), helm test, a client certificate minted
// from the chart's CA, `qkv status`, then the independent Python client, a deleted pod
// and a node process killed with SIGKILL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { copyFile, writeFile } from 'node:fs/promises';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { tempDir } from '../support/temp-dir.js';
import { REPO_ROOT, RealKubeCluster, runCommand, skipWithoutRealCluster, waitFor, type PortForward } from '../support/real-kube-cluster.js';

const NAMESPACE = 'quorumkv';
const RELEASE = 'qkv';
const member = (ordinal: number): string => `qkv-quorumkv-${ordinal}`;
const MEMBERS = [0, 1, 2].map(member);
const CLIENT_PORT = 7400;
const PEER_PORT = 7500;
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const PYTHON_CLIENT = join(REPO_ROOT, 'test', 'e2e', 'python', 'quorum_client.py');
// Debian's python3-grpcio (installed by .ci/run); the system interpreter on purpose, as
// in test/node/cluster.test.ts: a python3 earlier on PATH usually lacks grpc.
const PYTHON = '/usr/bin/python3';
const INSTALL_TIMEOUT = '10m';
const POD_BACK_TIMEOUT_MS = 300_000;

interface PodJson {
  metadata: { name: string; uid: string };
  spec: { volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }> };
  status: {
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; restartCount: number; containerID?: string; ready: boolean }>;
  };
}
interface PvcJson {
  metadata: { name: string; uid: string };
  status: { phase: string };
}
interface PythonRead {
  key: string;
  found: boolean;
  value: string;
  replicas: Array<{ node_id: string; answered: boolean; found: boolean }>;
}

const skip = skipWithoutRealCluster();

describe('the chart on a real kubelet', { skip, timeout: 1_800_000 }, () => {
  let cluster: RealKubeCluster;
  let certsDir: string;
  let stubsDir: string;
  const forwards: PortForward[] = [];

  const pod = (name: string): Promise<PodJson> => cluster.kubectlJson<PodJson>(['-n', NAMESPACE, 'get', 'pod', name]);
  const isReady = (json: PodJson): boolean => json.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const forward = async (name: string): Promise<PortForward> => {
    const opened = await cluster.portForward(NAMESPACE, name, CLIENT_PORT);
    forwards.push(opened);
    return opened;
  };
  const python = async <T>(address: string, args: readonly string[]): Promise<T> => {
    const { stdout } = await runCommand(PYTHON, [PYTHON_CLIENT, stubsDir, address, certsDir, ...args]);
    return JSON.parse(stdout) as T;
  };

  before(async () => {
    cluster = await RealKubeCluster.acquire();
  });

  after(async () => {
    await Promise.all(forwards.map((opened) => opened.close()));
    if (cluster === undefined) return;
    // Leave the tier's cluster as it was found for the next file: the release, its
    // namespace and the claims go (the local volumes stay Released, not reused).
    await cluster.helm(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait']).catch(() => undefined);
    await cluster.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
    await cluster.release();
  });

  test('helm install --wait and helm test pass; three pods are Ready on bound PVCs', async (t) => {
    const started = Date.now();
    await cluster.helm(['install', RELEASE, 'helm/quorumkv', '--namespace', NAMESPACE, '--create-namespace', '--wait', '--timeout', INSTALL_TIMEOUT]);
    t.diagnostic(`helm install --wait took ${Date.now() - started} ms`);
    const tested = await cluster.helm(['test', RELEASE, '--namespace', NAMESPACE, '--timeout', '5m']);
    assert.match(tested.stdout, /Phase:\s+Succeeded/);

    for (const name of MEMBERS) assert.ok(isReady(await pod(name)), `${name} is Ready`);
    const claims = await cluster.kubectlJson<{ items: PvcJson[] }>(['-n', NAMESPACE, 'get', 'pvc']);
    assert.deepEqual(
      claims.items.map((claim) => [claim.metadata.name, claim.status.phase]).sort(),
      MEMBERS.map((name) => [`data-${name}`, 'Bound']),
    );
  });

  test('qkv status through kubectl port-forward shows three NORMAL members found through the API', async () => {
    // The README's path: the CA from the chart's Secret, a client certificate for admin.
    const caDir = await tempDir(undefined, 'qkv-e2e-ca-');
    certsDir = await tempDir(undefined, 'qkv-e2e-certs-');
    for (const [field, file] of [['tls\\.crt', 'ca.crt'], ['tls\\.key', 'ca.key']] as const) {
      const { stdout } = await cluster.kubectl(['-n', NAMESPACE, 'get', 'secret', 'qkv-quorumkv-ca', '-o', `jsonpath={.data.${field}}`]);
      await writeFile(join(caDir, file), Buffer.from(stdout, 'base64'));
    }
    await copyFile(join(caDir, 'ca.crt'), join(certsDir, 'ca.crt'));
    await runCommand(process.execPath, [CLI, 'certs', 'create-client', '--ca-dir', caDir, '--certs-dir', certsDir, '--user', 'admin']);

    const zero = await forward(member(0));
    const { stdout } = await runCommand(process.execPath, [CLI, 'status', '--certs-dir', certsDir, '--user', 'admin', '--addr', zero.address]);
    const podIps = new Map<string, string>();
    for (const name of MEMBERS) podIps.set(name, (await pod(name)).status.podIP ?? '');
    for (const name of MEMBERS) {
      const row = stdout.split('\n').find((line) => line.startsWith(`${name} `));
      assert.ok(row, `a row for ${name} in:\n${stdout}`);
      const [, address, , ready, ring] = row.split(/\s+/);
      // The member's peer address: the pod's IP, which discovery read from the API server.
      assert.equal(address, `${podIps.get(name)}:${PEER_PORT}`, row);
      assert.deepEqual([ready, ring], ['yes', 'NORMAL'], row);
    }
  });

  test('the Python grpcio client puts and gets through port-forward with chosen W and R', async () => {
    stubsDir = await tempDir(undefined, 'qkv-e2e-python-stubs-');
    await runCommand('protoc', [
      `-I${join(REPO_ROOT, 'proto')}`,
      `--python_out=${stubsDir}`,
      `--grpc_python_out=${stubsDir}`,
      '--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin',
      'quorumkv/v1/common.proto',
      'quorumkv/v1/kv.proto',
    ]);
    const zero = await forward(member(0));
    const two = await forward(member(2));
    const written = await python<Array<{ acks: number }>>(zero.address, ['put', '3', 'python-w3', '10']);
    assert.ok(written.every((put) => put.acks === 3), JSON.stringify(written));
    const oneReplica = await python<PythonRead[]>(two.address, ['get', '1', 'python-w3', '10']);
    assert.ok(oneReplica.every((read) => read.found && read.value === `value of ${read.key}`), JSON.stringify(oneReplica));

    const quorum = await python<Array<{ acks: number }>>(two.address, ['put', '2', 'python-w2', '10']);
    assert.ok(quorum.every((put) => put.acks >= 2), JSON.stringify(quorum));
    const everyReplica = await python<PythonRead[]>(zero.address, ['get', '3', 'python-w2', '10']);
    for (const read of everyReplica) {
      assert.equal(read.value, `value of ${read.key}`);
      assert.equal(read.replicas.filter((replica) => replica.answered).length, 3, JSON.stringify(read));
    }
  });

  test('a deleted pod comes back on its PVC with its data (R=3 reads)', async () => {
    const victim = member(1);
    const zero = await forward(member(0));
    await python(zero.address, ['put', '3', 'before-delete', '20']);
    const claimBefore = await cluster.kubectlJson<PvcJson>(['-n', NAMESPACE, 'get', 'pvc', `data-${victim}`]);
    const podBefore = await pod(victim);

    await cluster.kubectl(['-n', NAMESPACE, 'delete', 'pod', victim, '--wait']);
    const podAfter = await waitFor(`${victim} re-created and Ready`, POD_BACK_TIMEOUT_MS, async () => {
      const json = await pod(victim);
      return json.metadata.uid !== podBefore.metadata.uid && isReady(json) ? json : undefined;
    });
    const claimAfter = await cluster.kubectlJson<PvcJson>(['-n', NAMESPACE, 'get', 'pvc', `data-${victim}`]);
    assert.equal(claimAfter.metadata.uid, claimBefore.metadata.uid, 'the same claim, not a new one');
    assert.equal(podAfter.spec.volumes?.find((volume) => volume.name === 'data')?.persistentVolumeClaim?.claimName, `data-${victim}`);

    // Read through the new pod itself, every replica answering: the victim's own answer
    // must hold each key, which it can only have from its volume.
    const back = await forward(victim);
    const reads = await python<PythonRead[]>(back.address, ['get', '3', 'before-delete', '20']);
    for (const read of reads) {
      assert.equal(read.value, `value of ${read.key}`);
      assert.deepEqual(read.replicas.find((replica) => replica.node_id === victim), { node_id: victim, answered: true, found: true }, read.key);
    }
  });

  test('kill -9 of the node process: the kubelet restarts it and no acknowledged write is lost', async (t) => {
    const victim = member(2);
    const zero = await forward(member(0));
    await python(zero.address, ['put', '3', 'before-kill', '20']);
    const before = await pod(victim);
    const container = before.status.containerStatuses?.find((status) => status.name === 'quorumkv');
    assert.ok(container?.containerID, 'the quorumkv container has an ID');
    const hostPid = await containerHostPid(cluster, container.containerID);

    // A writer at W=2 through member 0 for the whole episode.
    const client = new QuorumKvClient({ addresses: [zero.address], timeoutMs: 5_000, credentials: clientChannelCredentials(certsDir, 'admin') });
    const acknowledged: string[] = [];
    let failed = 0;
    let writing = true;
    const writer = (async () => {
      for (let index = 0; writing; index += 1) {
        const key = `during-kill-${index}`;
        try {
          await client.put(Buffer.from(key), Buffer.from(`value of ${key}`), { w: 2 });
          acknowledged.push(key);
        } catch {
          failed += 1;
        }
      }
    })();
    try {
      await waitFor('the writer acknowledges writes', 30_000, async () => (acknowledged.length >= 20 ? true : undefined));
      process.kill(hostPid, 'SIGKILL');
      await waitFor(`${victim} restarted by the kubelet and Ready`, POD_BACK_TIMEOUT_MS, async () => {
        const json = await pod(victim);
        const status = json.status.containerStatuses?.find((entry) => entry.name === 'quorumkv');
        return status !== undefined && status.restartCount > container.restartCount && isReady(json) ? json : undefined;
      });
      const settled = acknowledged.length;
      await waitFor('more writes after the restart', 30_000, async () => (acknowledged.length >= settled + 20 ? true : undefined));
    } finally {
      writing = false;
      await writer;
    }
    t.diagnostic(`writer: ${acknowledged.length} acknowledged, ${failed} failed`);
    const afterPod = await pod(victim);
    assert.equal(afterPod.metadata.uid, before.metadata.uid, 'the same pod: its container was restarted in place');

    for (const key of acknowledged) {
      const read = await client.get(Buffer.from(key), { r: 3 });
      assert.equal(read.found, true, `${key} acknowledged at W=2 is found`);
      assert.equal(read.value.toString(), `value of ${key}`);
    }
    client.close();
    const back = await forward(victim);
    const reads = await python<PythonRead[]>(back.address, ['get', '3', 'before-kill', '20']);
    for (const read of reads) {
      assert.deepEqual(read.replicas.find((replica) => replica.node_id === victim), { node_id: victim, answered: true, found: true }, read.key);
    }
  });
});

/** The host PID of a container's main process, from the cluster's own containerd. */
async function containerHostPid(cluster: RealKubeCluster, containerId: string): Promise<number> {
  const id = containerId.replace(/^containerd:\/\//, '');
  const socket = join(dirname(cluster.kubeconfig), 'containerd', 'containerd.sock');
  const { stdout } = await runCommand('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'list']);
  const row = stdout.split('\n').find((line) => line.startsWith(id));
  assert.ok(row, `task ${id} in:\n${stdout}`);
  const pid = Number(row.split(/\s+/)[1]);
  assert.ok(Number.isInteger(pid) && pid > 1, row);
  return pid;
}
