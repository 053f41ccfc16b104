// Kubernetes discovery against a real kube-apiserver: pods join, change readiness and
// leave, the adapter follows; a pod with the cluster's labels that its StatefulSet does
// not own is never a member; and real node processes that discover each other through
// the API server keep their rings through a pod re-created with a new IP and drop a
// member only once it was decommissioned (LEFT). The pods declare a client port (`grpc`)
// and a peer port (`peer`); a member's address is its peer port. The real nodes run
// with TLS: a CA and node certificates named like the pods, made by the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes/kubernetes-discovery.js';
import { statefulSetOfPodName } from '../../src/discovery/kubernetes/pod-member.js';
import { NODE_CONFIG_DEFAULTS } from '../../src/config/node-config.js';
import { createDiscovery } from '../../src/node/node-discovery.js';
import type { Member } from '../../src/ring/member.js';
import { silentLogger } from '../../src/logging/logger.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { KubeApiServer, findKubeBinaries, freePort, skipWithoutKube } from '../support/kube-api-server.js';
import { TEST_LABELS, TEST_SELECTOR, createNamespace, createPod, deletePod, eventually, setPodStatus, statefulSetOwner } from '../support/kube-pods.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { NodeProcess } from '../support/node-process.js';
import { tempDir } from '../support/temp-dir.js';

const skip = skipWithoutKube();

test("the StatefulSet a member must belong to defaults to its pod name's", () => {
  assert.equal(statefulSetOfPodName('quorumkv-2'), 'quorumkv');
  assert.equal(statefulSetOfPodName('qkv-quorumkv-10'), 'qkv-quorumkv');
  for (const name of ['quorumkv', 'quorumkv-', 'quorumkv-01', '-3', 'quorumkv-x']) assert.equal(statefulSetOfPodName(name), undefined, name);
  // A node id that is no pod name needs --kube-statefulset; nothing is guessed.
  const config = { ...NODE_CONFIG_DEFAULTS, nodeId: 'laptop', discovery: 'kubernetes' as const, kubeLabelSelector: 'app=x' };
  assert.throws(() => createDiscovery(config, silentLogger, { id: 'laptop', address: '127.0.0.1:7500', ready: true }), /needs --kube-statefulset/);
});

describe('kubernetes discovery (real API server)', { skip }, () => {
  let server: KubeApiServer;
  let core: k8s.CoreV1Api;

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await server?.stop();
  });

  test('pods join, change readiness and leave; the member list follows', async () => {
    const namespace = 'discovery-members';
    await createNamespace(core, namespace);
    for (const [i, name] of ['quorumkv-0', 'quorumkv-1'].entries()) {
      await createPod(core, namespace, name, { grpc: 7400, peer: 7500 }, { zone: `zone-${i}` });
      await setPodStatus(core, namespace, name, `127.0.0.${i + 2}`, true);
    }
    // A pod of another cluster in the same namespace must not show up.
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'other-0', labels: { 'app.kubernetes.io/name': 'other' } }, spec: { containers: [{ name: 'x', image: 'x' }] } } });
    await setPodStatus(core, namespace, 'other-0', '127.0.0.9', true);

    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: server.kubeConfig(), namespace, labelSelector: TEST_SELECTOR, peerPort: 1, statefulSet: 'quorumkv', logger: silentLogger, debounceMs: 50 });
    await discovery.start((members) => seen.push(members));
    try {
      const last = (): readonly Member[] => seen.at(-1) ?? [];
      const show = (): string => JSON.stringify(last());
      // The address is the peer port's, never the client port's.
      assert.deepEqual(last(), [
        { id: 'quorumkv-0', address: '127.0.0.2:7500', zone: 'zone-0', ready: true },
        { id: 'quorumkv-1', address: '127.0.0.3:7500', zone: 'zone-1', ready: true },
      ]);

      // A pod with no IP yet is not a member; it joins when the IP is written.
      await createPod(core, namespace, 'quorumkv-2', { grpc: 7400, peer: 7500 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(last().length, 2, show());
      await setPodStatus(core, namespace, 'quorumkv-2', '127.0.0.4', false);
      await eventually(() => last().some((member) => member.id === 'quorumkv-2' && !member.ready), show);
      await setPodStatus(core, namespace, 'quorumkv-2', '127.0.0.4', true);
      await eventually(() => last().find((member) => member.id === 'quorumkv-2')?.ready === true, show);

      await deletePod(core, namespace, 'quorumkv-0');
      await eventually(() => last().map((member) => member.id).join() === 'quorumkv-1,quorumkv-2', show);
      assert.equal(discovery.stats.lists, 1, 'one list at start, then watch events only');
    } finally {
      await discovery.stop();
    }
  });

  test('only pods the StatefulSet owns are members, whatever their labels', async () => {
    const namespace = 'discovery-owners';
    await createNamespace(core, namespace);
    const ports = { grpc: 7400, peer: 7500 };
    await createPod(core, namespace, 'quorumkv-0', ports);
    // The cluster's labels and a member's name pattern, but made by someone else: no
    // owner, another StatefulSet, a ReplicaSet, or the right StatefulSet not as controller.
    await createPod(core, namespace, 'quorumkv-1', ports, { owners: [] });
    await createPod(core, namespace, 'quorumkv-2', ports, { owners: [statefulSetOwner('other')] });
    await createPod(core, namespace, 'quorumkv-3', ports, { owners: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'quorumkv', uid: '00000000-0000-4000-8000-000000000002', controller: true }] });
    await createPod(core, namespace, 'quorumkv-4', ports, { owners: [{ ...statefulSetOwner('quorumkv'), controller: false }] });
    // A member whose container names no peer port: the configured peer port.
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'quorumkv-5', labels: TEST_LABELS, ownerReferences: [statefulSetOwner('quorumkv')] }, spec: { containers: [{ name: 'quorumkv', image: 'quorumkv:test' }] } } });
    for (let i = 0; i <= 5; i += 1) await setPodStatus(core, namespace, `quorumkv-${i}`, `127.0.0.${i + 2}`, true);

    const logger = new RecordingLogger();
    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: server.kubeConfig(), namespace, labelSelector: TEST_SELECTOR, peerPort: 7501, statefulSet: 'quorumkv', logger, debounceMs: 50 });
    await discovery.start((members) => seen.push(members));
    try {
      assert.deepEqual(seen.at(-1), [
        { id: 'quorumkv-0', address: '127.0.0.2:7500', ready: true },
        { id: 'quorumkv-5', address: '127.0.0.7:7501', ready: true },
      ]);
      const refusals = logger.entries.filter((entry) => entry.level === 'warn' && /not owned by this StatefulSet/.test(entry.message));
      assert.equal(refusals.length, 1, 'one warning for the first list, not one per pod or per event');
      assert.deepEqual(refusals[0]!.fields.refused, {
        'quorumkv-1': 'no controlling owner',
        'quorumkv-2': 'owned by StatefulSet other, not quorumkv',
        'quorumkv-3': 'owned by ReplicaSet quorumkv',
        'quorumkv-4': 'no controlling owner',
      });

      // A status change of a refused pod is no news: no second warning, no member.
      await setPodStatus(core, namespace, 'quorumkv-2', '127.0.0.4', false);
      await createPod(core, namespace, 'quorumkv-6', ports);
      await setPodStatus(core, namespace, 'quorumkv-6', '127.0.0.8', true);
      await eventually(() => seen.at(-1)?.length === 3, () => JSON.stringify(seen.at(-1)));
      assert.deepEqual(seen.at(-1)?.map((member) => member.id), ['quorumkv-0', 'quorumkv-5', 'quorumkv-6']);
      assert.equal(logger.entries.filter((entry) => /not owned by this StatefulSet/.test(entry.message)).length, 1);
    } finally {
      await discovery.stop();
    }
  });

  test('a burst of changes reaches the owner as one debounced change', async () => {
    const namespace = 'discovery-debounce';
    await createNamespace(core, namespace);
    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: server.kubeConfig(), namespace, labelSelector: TEST_SELECTOR, peerPort: 7500, statefulSet: 'quorumkv', logger: silentLogger, debounceMs: 1500 });
    await discovery.start((members) => seen.push(members));
    try {
      assert.deepEqual(seen, [[]]);
      for (let i = 0; i < 4; i += 1) {
        await createPod(core, namespace, `quorumkv-${i}`, { grpc: 7400, peer: 7500 });
        await setPodStatus(core, namespace, `quorumkv-${i}`, `127.0.0.${i + 2}`, true);
      }
      await eventually(() => (seen.at(-1)?.length ?? 0) === 4, () => JSON.stringify(seen));
      // Eight writes (create + status for four pods) well inside the debounce window.
      assert.equal(seen.length, 2, `reports: ${JSON.stringify(seen.map((members) => members.length))}`);
    } finally {
      await discovery.stop();
    }
  });

  test('real nodes follow each other through the API server; a re-created pod keeps its ranges, only a decommission takes them out', async () => {
    const namespace = 'discovery-nodes';
    await createNamespace(core, namespace);
    // Every pod has its own IP, so all use the same two ports, as in a StatefulSet.
    const ports = { grpc: await freePort(), peer: await freePort() };
    const grpcPort = ports.grpc;
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    for (const [i, ip] of ips.entries()) {
      await createPod(core, namespace, `quorumkv-${i}`, ports);
      await setPodStatus(core, namespace, `quorumkv-${i}`, ip, true);
    }
    // Certificates name the node, not its address: a re-created pod with a new IP keeps its own.
    const certs = await ensureLocalCertificates({ dir: await tempDir(), nodeIds: ips.map((_, i) => `quorumkv-${i}`), users: ['admin'] });
    const credentials = clientChannelCredentials(certs.dir, 'admin');
    const httpPorts = [await freePort(), await freePort(), await freePort()];
    const dataDirs = [await tempDir(), await tempDir(), await tempDir()];
    // N=2, so that quorumkv-2 may be decommissioned (two NORMAL members stay); durable
    // storage, so that a restarted quorumkv-2 comes back NORMAL with its data.
    const start = (i: number, ip: string): NodeProcess =>
      NodeProcess.start(
        ['--node-id', `quorumkv-${i}`, '--host', ip, '--grpc-port', String(grpcPort), '--peer-port', String(ports.peer), '--tls-dir', certs.nodeDirs.get(`quorumkv-${i}`)!,
          '--http-port', String(httpPorts[i]), '--storage', 'durable', '--data-dir', dataDirs[i]!,
          '--replication-factor', '2', '--probe-interval-ms', '300', '--discovery', 'kubernetes', '--kube-namespace', namespace, '--kube-label-selector', TEST_SELECTOR, '--vnodes', '16'],
        { KUBECONFIG: server.kubeconfigPath },
      );
    const nodes = ips.map((ip, i) => start(i, ip));
    const clients = ips.map((ip) => new QuorumKvClient({ addresses: [`${ip}:${grpcPort}`], timeoutMs: 2000, credentials }));
    try {
      const view = async (client: QuorumKvClient): Promise<string> => {
        try {
          const status = await client.status();
          // Nodes that start a moment apart may join the first one (ring state JOINING,
          // docs/decisions/0080-ring-states-and-range-movement.md): wait until all are
          // NORMAL, and SERVING: a node answers Status while it still reaches its peers,
          // and refuses KV calls until then (NOT_READY).
          return `${status.members.map((member) => member.id).join(',')}@${status.ringDigest}/${status.ringState}/${status.state}`;
        } catch (error) {
          return `error: ${(error as Error).message}`;
        }
      };
      const describeNodes = (): string => nodes.map((node) => node.output.join('').slice(-1500)).join('\n---\n');
      let last: string[] = [];
      const allSee = (ids: string, among = clients): (() => Promise<boolean>) => async () => {
        last = await Promise.all(among.map(view));
        return last.every((line) => line.startsWith(`${ids}@`) && line.endsWith('/NORMAL/SERVING')) && new Set(last).size === 1;
      };
      await eventually(allSee('quorumkv-0,quorumkv-1,quorumkv-2'), () => `${JSON.stringify(last)}\n${describeNodes()}`, 30_000);
      const fullDigest = (await clients[0]!.status()).ringDigest;
      const put = await clients[0]!.put(Buffer.from('k'), Buffer.from('v'), { w: 2 });
      assert.equal(put.acks, 2);

      // A rolling restart: quorumkv-2 stops and its pod object is deleted, then re-created
      // under the same name and given a new IP only later. Discovery drops the member in
      // between; the others keep it in their rings (retained, not ready, down) because it
      // owns ranges (docs/decisions/0081-retain-members-until-left.md).
      await nodes[2]!.stop();
      await deletePod(core, namespace, 'quorumkv-2');
      const survivors = clients.slice(0, 2);
      const retainedDown = async (): Promise<boolean> => {
        const statuses = await Promise.all(survivors.map((client) => client.status()));
        last = statuses.map((status) => JSON.stringify({ digest: status.ringDigest, members: status.members.map(({ id, address, ready, liveness, retained }) => ({ id, address, ready, liveness, retained })) }));
        return statuses.every((status) => {
          const gone = status.members.find((member) => member.id === 'quorumkv-2');
          return gone?.retained === true && !gone.ready && gone.address === `127.0.0.4:${ports.peer}` && gone.liveness === 'down';
        });
      };
      await eventually(retainedDown, () => JSON.stringify(last), 15_000);
      for (const node of nodes.slice(0, 2)) {
        const changes = node.logRecords().filter((record) => record.msg === 'kubernetes discovery: members changed');
        assert.ok(changes.some((record) => JSON.stringify(record.left) === '["quorumkv-2"]'), 'discovery dropped the member: ' + JSON.stringify(changes));
      }
      for (const client of survivors) assert.equal((await client.status()).ringDigest, fullDigest, 'the read ring did not change while the pod was gone');

      await createPod(core, namespace, 'quorumkv-2', ports);
      const newIp = '127.0.0.5';
      await setPodStatus(core, namespace, 'quorumkv-2', newIp, true);
      nodes[2] = start(2, newIp);
      clients[2]!.close();
      clients[2] = new QuorumKvClient({ addresses: [`${newIp}:${grpcPort}`], timeoutMs: 2000, credentials });
      const reached = async (): Promise<boolean> => {
        const statuses = await Promise.all(clients.map((client) => client.status().catch((error: Error) => error)));
        last = statuses.map((status) => (status instanceof Error ? `error: ${status.message}` : JSON.stringify({ digest: status.ringDigest, state: status.ringState, serving: status.state, members: status.members.map(({ id, address, liveness, retained }) => ({ id, address, liveness, retained })) })));
        return statuses.every((status) => {
          if (status instanceof Error || status.ringDigest !== fullDigest || status.ringState !== 'NORMAL' || status.state !== 'SERVING') return false;
          const back = status.members.find((member) => member.id === 'quorumkv-2');
          return back?.address === `${newIp}:${ports.peer}` && !back.retained && (back.self || back.liveness === 'up');
        });
      };
      await eventually(reached, () => `${JSON.stringify(last)}\n${describeNodes()}`, 30_000);
      assert.equal((await clients[0]!.put(Buffer.from('k2'), Buffer.from('v2'), { w: 2 })).acks, 2);

      // A decommission: quorumkv-2 announces LEFT, then its pod goes for good. The others
      // take it out of their rings and, once discovery drops it, out of their member lists.
      await clients[2]!.decommission();
      await eventually(async () => (await clients[2]!.status()).ringState === 'LEFT', () => describeNodes(), 30_000);
      await nodes[2]!.stop();
      await deletePod(core, namespace, 'quorumkv-2');
      await eventually(allSee('quorumkv-0,quorumkv-1', survivors), () => JSON.stringify(last), 15_000);
      for (const client of survivors) assert.notEqual((await client.status()).ringDigest, fullDigest, 'the ring without quorumkv-2');
      assert.equal((await clients[0]!.get(Buffer.from('k2'), { r: 2 })).value?.toString(), 'v2');
    } finally {
      for (const client of clients) client.close();
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
});
