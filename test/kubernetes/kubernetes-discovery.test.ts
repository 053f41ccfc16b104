// Kubernetes discovery against a real kube-apiserver: pods join, change readiness and
// leave, the adapter follows, and real node processes that discover each other through
// the API server rebuild their rings to match.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes/kubernetes-discovery.js';
import type { Member } from '../../src/membership/member.js';
import { silentLogger } from '../../src/logging/logger.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { KubeApiServer, findKubeBinaries, freePort, skipWithoutKube } from '../support/kube-api-server.js';
import { TEST_SELECTOR, createNamespace, createPod, deletePod, eventually, setPodStatus } from '../support/kube-pods.js';
import { NodeProcess } from '../support/node-process.js';

const skip = skipWithoutKube();

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
      await createPod(core, namespace, name, 7400, { zone: `zone-${i}` });
      await setPodStatus(core, namespace, name, `127.0.0.${i + 2}`, true);
    }
    // A pod of another cluster in the same namespace must not show up.
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'other-0', labels: { 'app.kubernetes.io/name': 'other' } }, spec: { containers: [{ name: 'x', image: 'x' }] } } });
    await setPodStatus(core, namespace, 'other-0', '127.0.0.9', true);

    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: server.kubeConfig(), namespace, labelSelector: TEST_SELECTOR, grpcPort: 1, logger: silentLogger, debounceMs: 50 });
    await discovery.start((members) => seen.push(members));
    try {
      const last = (): readonly Member[] => seen.at(-1) ?? [];
      const show = (): string => JSON.stringify(last());
      assert.deepEqual(last(), [
        { id: 'quorumkv-0', address: '127.0.0.2:7400', zone: 'zone-0', ready: true },
        { id: 'quorumkv-1', address: '127.0.0.3:7400', zone: 'zone-1', ready: true },
      ]);

      // A pod with no IP yet is not a member; it joins when the IP is written.
      await createPod(core, namespace, 'quorumkv-2', 7400);
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

  test('a burst of changes reaches the owner as one debounced change', async () => {
    const namespace = 'discovery-debounce';
    await createNamespace(core, namespace);
    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: server.kubeConfig(), namespace, labelSelector: TEST_SELECTOR, grpcPort: 7400, logger: silentLogger, debounceMs: 1500 });
    await discovery.start((members) => seen.push(members));
    try {
      assert.deepEqual(seen, [[]]);
      for (let i = 0; i < 4; i += 1) {
        await createPod(core, namespace, `quorumkv-${i}`, 7400);
        await setPodStatus(core, namespace, `quorumkv-${i}`, `127.0.0.${i + 2}`, true);
      }
      await eventually(() => (seen.at(-1)?.length ?? 0) === 4, () => JSON.stringify(seen));
      // Eight writes (create + status for four pods) well inside the debounce window.
      assert.equal(seen.length, 2, `reports: ${JSON.stringify(seen.map((members) => members.length))}`);
    } finally {
      await discovery.stop();
    }
  });

  test('real nodes discover each other through the API server and their rings follow', async () => {
    const namespace = 'discovery-nodes';
    await createNamespace(core, namespace);
    const grpcPort = await freePort();
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    for (const [i, ip] of ips.entries()) {
      await createPod(core, namespace, `quorumkv-${i}`, grpcPort);
      await setPodStatus(core, namespace, `quorumkv-${i}`, ip, true);
    }
    const httpPorts = [await freePort(), await freePort(), await freePort()];
    const nodes = ips.map((ip, i) =>
      NodeProcess.start(
        ['--node-id', `quorumkv-${i}`, '--host', ip, '--grpc-port', String(grpcPort), '--http-port', String(httpPorts[i]), '--storage', 'memory', '--discovery', 'kubernetes', '--kube-namespace', namespace, '--kube-label-selector', TEST_SELECTOR, '--vnodes', '16'],
        { KUBECONFIG: server.kubeconfigPath },
      ),
    );
    const clients = ips.map((ip) => new QuorumKvClient({ addresses: [`${ip}:${grpcPort}`], timeoutMs: 2000 }));
    try {
      const views = async (): Promise<string[]> =>
        Promise.all(clients.map(async (client) => {
          try {
            const status = await client.status();
            // Nodes that start a moment apart may join the first one (ring state JOINING,
            // docs/decisions/0080-ring-states-and-range-movement.md): wait until all are NORMAL.
            return `${status.members.map((member) => member.id).join(',')}@${status.ringDigest}/${status.ringState}`;
          } catch (error) {
            return `error: ${(error as Error).message}`;
          }
        }));
      const describeNodes = (): string => nodes.map((node) => node.output.join('').slice(-1500)).join('\n---\n');
      let last: string[] = [];
      const allSee = (ids: string): (() => Promise<boolean>) => async () => {
        last = await views();
        return last.every((view) => view.startsWith(`${ids}@`) && view.endsWith('/NORMAL')) && new Set(last).size === 1;
      };
      await eventually(allSee('quorumkv-0,quorumkv-1,quorumkv-2'), () => `${JSON.stringify(last)}\n${describeNodes()}`, 30_000);
      const put = await clients[0]!.put(Buffer.from('k'), Buffer.from('v'), { w: 3 });
      assert.equal(put.acks, 3);

      // quorumkv-2's pod is deleted: the other nodes drop it from their rings.
      await deletePod(core, namespace, 'quorumkv-2');
      await nodes[2]!.stop();
      const survivors = async (): Promise<boolean> => {
        const views2 = await Promise.all(clients.slice(0, 2).map(async (client) => (await client.status()).members.map((member) => member.id).join(',')));
        last = views2;
        return views2.every((view) => view === 'quorumkv-0,quorumkv-1');
      };
      await eventually(survivors, () => JSON.stringify(last), 15_000);
      const log = nodes[0]!.logRecords().filter((record) => record.msg === 'kubernetes discovery: members changed');
      assert.ok(log.some((record) => JSON.stringify(record.left) === '["quorumkv-2"]'), JSON.stringify(log));
    } finally {
      for (const client of clients) client.close();
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
});
