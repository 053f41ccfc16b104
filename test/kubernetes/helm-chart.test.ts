// The Helm chart against real tools: helm lints it, its values schema refuses nonsense,
// and `helm install` puts it into a real kube-apiserver (helm checks every manifest
// against the server's OpenAPI schemas on the way). Then the chart's ServiceAccount,
// with a real token from the TokenRequest API, can do what a pod needs (discovery, its
// QuorumKVCluster and that resource's status) and nothing more: no Secrets, no writes
// to pods, nothing in another namespace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes/kubernetes-discovery.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { Member } from '../../src/membership/member.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import { KubeApiServer, findHelm, findKubeBinaries, skipWithoutKube } from '../support/kube-api-server.js';
import { eventually, setPodStatus } from '../support/kube-pods.js';

const run = promisify(execFile);
const CHART = fileURLToPath(new URL('../../../helm/quorumkv', import.meta.url));
const RELEASE = 'qkv';
const NAMESPACE = 'chart';
const FULLNAME = 'qkv-quorumkv';

async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(findHelm()!, [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { code?: number; body?: unknown; stderr?: string };
    return `${failure.code ?? ''} ${failure.message} ${String(failure.body ?? '')} ${failure.stderr ?? ''}`;
  }
  assert.fail('the call was allowed');
}

describe('helm chart (real helm and API server)', { skip: skipWithoutKube(true) }, () => {
  let server: KubeApiServer;

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
  });
  after(async () => {
    await server?.stop();
  });

  test('helm lint passes and the values schema refuses unknown keys and bad values', async () => {
    const lint = await helm(['lint', '--strict', CHART]);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.match(await refusedWith(helm(['template', RELEASE, CHART, '--set', 'replicaz=3'])), /additional properties 'replicaz' not allowed/);
    assert.match(await refusedWith(helm(['template', RELEASE, CHART, '--set', 'cluster.fsync=sometimes'])), /cluster\/fsync/);
    assert.match(await refusedWith(helm(['template', RELEASE, CHART, '--set', 'cluster.replicationFactor=8'])), /replicationFactor/);
  });

  test('helm install creates the cluster, and its service account has least privilege', async () => {
    const kubeConfig = server.kubeConfig();
    const install = await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace', '--kubeconfig', server.kubeconfigPath, '--set', 'cluster.writeQuorum=3']);
    assert.match(install.stdout, /STATUS: deployed/);
    assert.match(install.stdout, new RegExp(`port-forward pod/${FULLNAME}-0`));

    const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const set = await apps.readNamespacedStatefulSet({ name: FULLNAME, namespace: NAMESPACE });
    assert.equal(set.spec?.podManagementPolicy, 'Parallel');
    assert.equal(set.spec?.replicas, 3);
    const pod = set.spec!.template.spec!;
    const container = pod.containers[0]!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(container.readinessProbe?.grpc?.service, 'quorumkv.v1.KV');
    assert.equal(set.spec?.volumeClaimTemplates?.[0]?.metadata?.name, 'data');
    const peers = await core.readNamespacedService({ name: `${FULLNAME}-peers`, namespace: NAMESPACE });
    assert.equal(peers.spec?.clusterIP, 'None');
    assert.equal(peers.spec?.publishNotReadyAddresses, true);
    const pdb = await kubeConfig.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: FULLNAME, namespace: NAMESPACE });
    assert.equal(pdb.spec?.maxUnavailable, 1);
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: CLUSTER_PLURAL };
    const cluster = (await custom.getNamespacedCustomObject({ ...base, name: FULLNAME })) as { spec: Record<string, unknown> };
    assert.equal(cluster.spec.writeQuorum, 3);
    assert.equal(cluster.spec.replicationFactor, 3);
    // The CEL rule of the installed CRD also guards what helm installs.
    assert.match(await refusedWith(helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--kubeconfig', server.kubeconfigPath, '--set', 'cluster.writeQuorum=3', '--set', 'cluster.replicationFactor=2'])), /writeQuorum must not exceed replicationFactor/);

    // No controller manager runs here, so the StatefulSet makes no pods: make one as
    // its controller would: the chart's pod template plus the claim volume.
    const volumes = [...(pod.volumes ?? []), { name: 'data', persistentVolumeClaim: { claimName: `data-${FULLNAME}-0` } }];
    await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: `${FULLNAME}-0`, labels: set.spec!.template.metadata!.labels }, spec: { ...pod, volumes } } });
    await setPodStatus(core, NAMESPACE, `${FULLNAME}-0`, '127.0.0.6', true);

    // A real token for the chart's service account, as the kubelet would mount it.
    const token = await core.createNamespacedServiceAccountToken({ name: FULLNAME, namespace: NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const asPod = server.kubeConfig(token.status!.token);
    const podCore = asPod.makeApiClient(k8s.CoreV1Api);
    const podCustom = asPod.makeApiClient(k8s.CustomObjectsApi);

    // Allowed: what discovery and the cluster-resource sync do.
    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: asPod, namespace: NAMESPACE, labelSelector: `app.kubernetes.io/name=quorumkv,app.kubernetes.io/instance=${RELEASE}`, grpcPort: 1, logger: silentLogger, debounceMs: 20 });
    await discovery.start((members) => seen.push(members));
    try {
      assert.deepEqual(seen.at(-1), [{ id: `${FULLNAME}-0`, address: '127.0.0.6:7400', ready: true }]);
      await setPodStatus(core, NAMESPACE, `${FULLNAME}-0`, '127.0.0.6', false);
      await eventually(() => seen.at(-1)?.[0]?.ready === false, () => JSON.stringify(seen), 10_000);
    } finally {
      await discovery.stop();
    }
    await podCustom.getNamespacedCustomObject({ ...base, name: FULLNAME });
    await podCustom.patchNamespacedCustomObjectStatus({ ...base, name: FULLNAME, body: { status: { readyMembers: 0 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

    // Refused: everything else.
    const forbidden = /403|[Ff]orbidden/;
    assert.match(await refusedWith(podCore.listNamespacedSecret({ namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.readNamespacedSecret({ name: 'anything', namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.deleteNamespacedPod({ name: `${FULLNAME}-0`, namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.listNamespacedPod({ namespace: 'default' })), forbidden);
    assert.match(await refusedWith(podCore.listNamespacedConfigMap({ namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCustom.patchNamespacedCustomObject({ ...base, name: FULLNAME, body: { spec: { logLevel: 'debug' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))), forbidden);
  });
});
