// The Helm chart against real tools: helm lints it, its values schema refuses nonsense,
// and `helm install` puts it into a real kube-apiserver (helm checks every manifest
// against the server's OpenAPI schemas on the way). Then the chart's ServiceAccount,
// with a real token from the TokenRequest API, can do what a pod needs (list and watch
// pods for discovery, its own QuorumKVCluster by name and that resource's status) and
// nothing more: no Secrets, no writes to pods, no other QuorumKVCluster, not its own
// spec, nothing in another namespace; and discovery as that pod takes only the pods its
// StatefulSet owns. TLS modes, the NetworkPolicy and insecure mode are in
// helm-chart-security.test.ts. The scale controller's ServiceAccount likewise
// gets its own QuorumKVCluster, that resource's status, its own StatefulSet's scale and
// a pod list, and nothing else; and `helm upgrade` leaves the StatefulSet's replicas
// to the controller.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { KubernetesDiscovery } from '../../src/discovery/kubernetes/kubernetes-discovery.js';
import { ListWatch } from '../../src/kubernetes/list-watch.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { Member } from '../../src/ring/member.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import { helm, refusedWith } from '../support/kube-calls.js';
import { KubeApiServer, findKubeBinaries, skipWithoutKube } from '../support/kube-api-server.js';
import { eventually, setPodStatus, statefulSetOwner } from '../support/kube-pods.js';

const CHART = fileURLToPath(new URL('../../../helm/quorumkv', import.meta.url));
const RELEASE = 'qkv';
const NAMESPACE = 'chart';
const FULLNAME = 'qkv-quorumkv';

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
    // cluster.backup: exactly one of every and schedule, timeZone with schedule only (ADR 0250).
    const backup = (...sets: string[]): string[] => ['template', RELEASE, CHART, '--set', 'cluster.backup.destination=s3://b/p', ...sets.flatMap((set) => ['--set', set])];
    assert.match(await refusedWith(helm(backup('cluster.backup.every=1h', 'cluster.backup.schedule=0 3 * * *'))), /cluster\/backup.*oneOf/);
    assert.match(await refusedWith(helm(backup())), /cluster\/backup.*oneOf/);
    assert.match(await refusedWith(helm(backup('cluster.backup.every=1h', 'cluster.backup.timeZone=Europe/Berlin'))), /'schedule' required, if 'timeZone' exists/);
    assert.match(await refusedWith(helm(backup('cluster.backup.schedule=0 3 * *'))), /cluster\/backup\/schedule/);
    const cron = await helm(backup('cluster.backup.schedule=0 3 * * mon', 'cluster.backup.timeZone=Europe/Berlin'));
    assert.match(cron.stdout, /schedule: 0 3 \* \* mon\n\s+timeZone: Europe\/Berlin\n/);
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
    // With TLS (the default) the kubelet's gRPC probe cannot connect: HTTP probes.
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet?.path, '/livez');
    assert.equal(set.spec?.volumeClaimTemplates?.[0]?.metadata?.name, 'data');
    assert.deepEqual({ ...set.spec?.persistentVolumeClaimRetentionPolicy }, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    const peers = await core.readNamespacedService({ name: `${FULLNAME}-peers`, namespace: NAMESPACE });
    assert.equal(peers.spec?.clusterIP, 'None');
    assert.equal(peers.spec?.publishNotReadyAddresses, true);
    assert.deepEqual(peers.spec?.ports?.map((port) => `${port.name}:${port.port}`), ['grpc:7400', 'peer:7500', 'http:7480']);
    // The client Service carries the client port and nothing else.
    const client = await core.readNamespacedService({ name: FULLNAME, namespace: NAMESPACE });
    assert.equal(client.spec?.type, 'ClusterIP');
    assert.deepEqual(client.spec?.ports?.map((port) => `${port.name}:${port.port}`), ['grpc:7400']);
    const pdb = await kubeConfig.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: FULLNAME, namespace: NAMESPACE });
    assert.equal(pdb.spec?.maxUnavailable, 1);
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: CLUSTER_PLURAL };
    const cluster = (await custom.getNamespacedCustomObject({ ...base, name: FULLNAME })) as { spec: Record<string, unknown> };
    assert.equal(cluster.spec.writeQuorum, 3);
    assert.equal(cluster.spec.replicationFactor, 3);
    assert.equal(cluster.spec.replicas, 3);
    // The CEL rule of the installed CRD also guards what helm installs.
    assert.match(await refusedWith(helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--kubeconfig', server.kubeconfigPath, '--set', 'cluster.writeQuorum=3', '--set', 'cluster.replicationFactor=2'])), /writeQuorum must not exceed replicationFactor/);

    // No controller manager runs here, so the StatefulSet makes no pods: make one as
    // its controller would: the chart's pod template plus the claim volume.
    const volumes = [...(pod.volumes ?? []), { name: 'data', persistentVolumeClaim: { claimName: `data-${FULLNAME}-0` } }];
    const labels = set.spec!.template.metadata!.labels;
    await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: `${FULLNAME}-0`, labels, ownerReferences: [statefulSetOwner(FULLNAME, set.metadata!.uid!)] }, spec: { ...pod, volumes } } });
    await setPodStatus(core, NAMESPACE, `${FULLNAME}-0`, '127.0.0.6', true);
    // The same pod and labels, but not made by the StatefulSet: never a member.
    await core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: `${FULLNAME}-7`, labels }, spec: { ...pod, volumes } } });
    await setPodStatus(core, NAMESPACE, `${FULLNAME}-7`, '127.0.0.7', true);

    // A real token for the chart's service account, as the kubelet would mount it.
    const token = await core.createNamespacedServiceAccountToken({ name: FULLNAME, namespace: NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const asPod = server.kubeConfig(token.status!.token);
    const podCore = asPod.makeApiClient(k8s.CoreV1Api);
    const podCustom = asPod.makeApiClient(k8s.CustomObjectsApi);

    // Allowed: what discovery and the cluster-resource sync do, with the environment the
    // chart gives the node. The member's address is its peer port.
    const env = Object.fromEntries(container.env!.filter((item) => item.value !== undefined).map((item) => [item.name, item.value]));
    assert.equal(env.QKV_KUBE_STATEFULSET, FULLNAME);
    assert.equal(env.QKV_PEER_PORT, '7500');
    const seen: Array<readonly Member[]> = [];
    const discovery = new KubernetesDiscovery({ kubeConfig: asPod, namespace: NAMESPACE, labelSelector: env.QKV_KUBE_LABEL_SELECTOR!, peerPort: 1, statefulSet: env.QKV_KUBE_STATEFULSET!, logger: silentLogger, debounceMs: 20 });
    await discovery.start((members) => seen.push(members));
    try {
      assert.deepEqual(seen.at(-1), [{ id: `${FULLNAME}-0`, address: '127.0.0.6:7500', ready: true }]);
      await setPodStatus(core, NAMESPACE, `${FULLNAME}-0`, '127.0.0.6', false);
      await eventually(() => seen.at(-1)?.[0]?.ready === false, () => JSON.stringify(seen), 10_000);
    } finally {
      await discovery.stop();
    }
    await podCustom.getNamespacedCustomObject({ ...base, name: FULLNAME });
    await podCustom.patchNamespacedCustomObjectStatus({ ...base, name: FULLNAME, body: { status: { readyMembers: 0 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

    // Exactly these rights, checked with access reviews as the pod.
    const reviews = asPod.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (attributes: k8s.V1ResourceAttributes): Promise<boolean> =>
      (await reviews.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NAMESPACE, ...attributes } } } })).status!.allowed;
    const clusters = { group: 'quorumkv.io', resource: 'quorumkvclusters' };
    const allowed: k8s.V1ResourceAttributes[] = [
      { resource: 'pods', verb: 'list' }, { resource: 'pods', verb: 'watch' },
      { ...clusters, verb: 'get', name: FULLNAME }, { ...clusters, verb: 'list', name: FULLNAME }, { ...clusters, verb: 'watch', name: FULLNAME },
      { ...clusters, subresource: 'status', verb: 'patch', name: FULLNAME },
    ];
    const refused: k8s.V1ResourceAttributes[] = [
      { resource: 'pods', verb: 'get', name: `${FULLNAME}-1` }, { resource: 'pods', verb: 'delete', name: `${FULLNAME}-1` }, { resource: 'pods', verb: 'create' },
      { resource: 'pods', verb: 'patch', name: `${FULLNAME}-1` }, { resource: 'pods', subresource: 'exec', verb: 'create', name: `${FULLNAME}-1` },
      { ...clusters, verb: 'patch', name: FULLNAME }, { ...clusters, verb: 'update', name: FULLNAME }, { ...clusters, verb: 'delete', name: FULLNAME },
      { ...clusters, verb: 'list' }, { ...clusters, verb: 'watch' }, { ...clusters, verb: 'get', name: 'another' }, { ...clusters, verb: 'create' },
      { ...clusters, subresource: 'status', verb: 'patch', name: 'another' }, { ...clusters, subresource: 'status', verb: 'update', name: FULLNAME },
      { resource: 'secrets', verb: 'get', name: `${FULLNAME}-ca` }, { resource: 'secrets', verb: 'list' },
      { group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'delete', name: FULLNAME },
      { group: 'apps', resource: 'statefulsets', verb: 'get', name: FULLNAME },
      { resource: 'pods', verb: 'list', namespace: 'default' },
    ];
    for (const attributes of allowed) assert.equal(await can(attributes), true, `allowed: ${JSON.stringify(attributes)}`);
    for (const attributes of refused) assert.equal(await can(attributes), false, `refused: ${JSON.stringify(attributes)}`);

    // Refused: everything else, through real calls.
    const forbidden = /403|[Ff]orbidden/;
    assert.match(await refusedWith(podCore.listNamespacedSecret({ namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.readNamespacedSecret({ name: 'anything', namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.deleteNamespacedPod({ name: `${FULLNAME}-0`, namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCore.listNamespacedPod({ namespace: 'default' })), forbidden);
    assert.match(await refusedWith(podCore.listNamespacedConfigMap({ namespace: NAMESPACE })), forbidden);
    assert.match(await refusedWith(podCustom.patchNamespacedCustomObject({ ...base, name: FULLNAME, body: { spec: { logLevel: 'debug' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))), forbidden);
    assert.match(await refusedWith(podCustom.listNamespacedCustomObject({ ...base })), forbidden);
    assert.match(await refusedWith(podCore.readNamespacedPod({ name: `${FULLNAME}-0`, namespace: NAMESPACE })), forbidden);
  });
});

describe('helm chart: the scale controller (real helm and API server)', { skip: skipWithoutKube(true) }, () => {
  let server: KubeApiServer;
  const namespace = 'controller';

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    await helm(['install', RELEASE, CHART, '--namespace', namespace, '--create-namespace', '--kubeconfig', server.kubeconfigPath]);
  });
  after(async () => {
    await server?.stop();
  });

  test('the controller runs as its own pod, secured like the members and never selected as one', async () => {
    const apps = server.kubeConfig().makeApiClient(k8s.AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: `${FULLNAME}-controller`, namespace });
    const set = await apps.readNamespacedStatefulSet({ name: FULLNAME, namespace });
    assert.equal(deployment.spec?.replicas, 1);
    assert.equal(deployment.spec?.strategy?.type, 'Recreate');
    const pod = deployment.spec!.template.spec!;
    const member = set.spec!.template.spec!;
    assert.equal(pod.serviceAccountName, `${FULLNAME}-controller`);
    assert.deepEqual(pod.containers[0]!.args, ['controller']);
    assert.deepEqual(pod.containers[0]!.securityContext, member.containers[0]!.securityContext);
    for (const key of ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'seccompProfile'] as const) assert.deepEqual(pod.securityContext?.[key], member.securityContext?.[key], key);
    // Neither the members' selector (discovery, Services, PDB) nor the StatefulSet's matches it.
    const labels = deployment.spec!.template.metadata!.labels!;
    const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);
    assert.equal(selects(set.spec!.selector.matchLabels!), false);
    const env = Object.fromEntries(pod.containers[0]!.env!.filter((item) => item.value !== undefined).map((item) => [item.name, item.value]));
    assert.equal(env.QKV_CLUSTER_RESOURCE, FULLNAME);
    assert.equal(env.QKV_STATEFULSET, FULLNAME);
  });

  test("the controller's service account can do what it needs and nothing more", async () => {
    const core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({ name: `${FULLNAME}-controller`, namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const asController = server.kubeConfig(token.status!.token);
    const reviews = asController.makeApiClient(k8s.AuthorizationV1Api);
    const can = async (attributes: k8s.V1ResourceAttributes): Promise<boolean> =>
      (await reviews.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, ...attributes } } } })).status!.allowed;
    const clusters = { group: 'quorumkv.io', resource: 'quorumkvclusters' };
    const scale = { group: 'apps', resource: 'statefulsets', subresource: 'scale' };
    const allowed: k8s.V1ResourceAttributes[] = [
      { ...clusters, verb: 'get', name: FULLNAME }, { ...clusters, verb: 'list', name: FULLNAME }, { ...clusters, verb: 'watch', name: FULLNAME },
      { ...clusters, verb: 'patch', subresource: 'status', name: FULLNAME },
      { ...scale, verb: 'get', name: FULLNAME }, { ...scale, verb: 'patch', name: FULLNAME },
      { resource: 'pods', verb: 'list' },
    ];
    const refused: k8s.V1ResourceAttributes[] = [
      { ...clusters, verb: 'patch', name: FULLNAME }, { ...clusters, verb: 'update', name: FULLNAME }, { ...clusters, verb: 'delete', name: FULLNAME },
      { ...clusters, verb: 'get', name: 'another' }, { ...clusters, verb: 'list' }, { ...clusters, verb: 'patch', subresource: 'status', name: 'another' },
      { ...clusters, verb: 'update', subresource: 'status', name: FULLNAME }, { ...clusters, verb: 'patch', subresource: 'scale', name: FULLNAME },
      { ...scale, verb: 'update', name: FULLNAME }, { ...scale, verb: 'patch', name: 'another' },
      { group: 'apps', resource: 'statefulsets', verb: 'get', name: FULLNAME }, { group: 'apps', resource: 'statefulsets', verb: 'patch', name: FULLNAME },
      { group: 'apps', resource: 'deployments', verb: 'patch', name: `${FULLNAME}-controller` },
      { resource: 'pods', verb: 'get', name: `${FULLNAME}-0` }, { resource: 'pods', verb: 'watch' }, { resource: 'pods', verb: 'delete', name: `${FULLNAME}-0` },
      { resource: 'pods', verb: 'create' }, { resource: 'pods', subresource: 'exec', verb: 'create', name: `${FULLNAME}-0` },
      { resource: 'persistentvolumeclaims', verb: 'delete', name: `data-${FULLNAME}-0` },
      { resource: 'secrets', verb: 'list' }, { resource: 'secrets', verb: 'get', name: 'anything' },
      { resource: 'pods', verb: 'list', namespace: 'default' },
    ];
    for (const attributes of allowed) assert.equal(await can(attributes), true, `allowed: ${JSON.stringify(attributes)}`);
    for (const attributes of refused) assert.equal(await can(attributes), false, `refused: ${JSON.stringify(attributes)}`);

    // The same through real calls the controller makes: a list and a watch narrowed to
    // its resource by name (what resourceNames allows), the scale, its status.
    const custom = asController.makeApiClient(k8s.CustomObjectsApi);
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    const listed = (await custom.listNamespacedCustomObject({ ...base, fieldSelector: `metadata.name=${FULLNAME}` })) as { items: unknown[] };
    assert.equal(listed.items.length, 1);
    assert.match(await refusedWith(custom.listNamespacedCustomObject({ ...base })), /403|[Ff]orbidden/);
    // The controller's own list/watch loop, as the controller: it lists, then a change
    // made meanwhile reaches it through the watch, with no failure on the way.
    const seen: string[] = [];
    const watch = new ListWatch<{ metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> } }>({
      kubeConfig: asController,
      path: `/apis/${CLUSTER_GROUP}/${CLUSTER_VERSION}/namespaces/${namespace}/${CLUSTER_PLURAL}`,
      fieldSelector: `metadata.name=${FULLNAME}`,
      list: async (query) => (await custom.listNamespacedCustomObject({ ...base, ...query })) as { items?: [] },
      what: 'QuorumKVCluster',
      logger: silentLogger,
      onChange: (objects) => seen.push(objects.get(FULLNAME)?.metadata?.labels?.touched ?? 'listed'),
    });
    await watch.start();
    try {
      await eventually(() => watch.stats.watches >= 1, () => JSON.stringify(watch.stats));
      await server.kubeConfig().makeApiClient(k8s.CustomObjectsApi).patchNamespacedCustomObject(
        { ...base, name: FULLNAME, body: { metadata: { labels: { touched: 'yes' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventually(() => seen.includes('yes'), () => `${JSON.stringify(seen)} ${JSON.stringify(watch.stats)}`);
      assert.equal(watch.stats.failures, 0);
    } finally {
      await watch.stop();
    }
    const apps = asController.makeApiClient(k8s.AppsV1Api);
    assert.equal((await apps.readNamespacedStatefulSetScale({ name: FULLNAME, namespace })).spec?.replicas, 3);
    await custom.patchNamespacedCustomObjectStatus({ ...base, name: FULLNAME, body: { status: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    assert.match(await refusedWith(apps.readNamespacedStatefulSet({ name: FULLNAME, namespace })), /403|[Ff]orbidden/);
  });

  test('helm upgrade keeps the live StatefulSet replicas and puts the desired count in the QuorumKVCluster', async () => {
    const kubeConfig = server.kubeConfig();
    const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    // The controller is half way through a change: the StatefulSet is at 4.
    await apps.patchNamespacedStatefulSetScale({ name: FULLNAME, namespace, body: { spec: { replicas: 4 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await helm(['upgrade', RELEASE, CHART, '--namespace', namespace, '--kubeconfig', server.kubeconfigPath, '--set', 'replicas=5']);
    assert.equal((await apps.readNamespacedStatefulSet({ name: FULLNAME, namespace })).spec?.replicas, 4);
    const cluster = (await custom.getNamespacedCustomObject({ ...base, name: FULLNAME })) as { spec: Record<string, unknown> };
    assert.equal(cluster.spec.replicas, 5);
    // Fewer members than replicas per key is refused before anything changes.
    assert.match(await refusedWith(helm(['upgrade', RELEASE, CHART, '--namespace', namespace, '--kubeconfig', server.kubeconfigPath, '--set', 'replicas=2'])), /replicas must not be below replicationFactor/);
    assert.equal((await apps.readNamespacedStatefulSet({ name: FULLNAME, namespace })).spec?.replicas, 4);
  });
});
