// The chart's transport security against real helm and a real kube-apiserver
// (docs/decisions/0103-chart-tls-and-network-policy.md):
// - every tls.mode renders and installs; each member mints its own certificate in an
//   init container from the CA Secret, and the CA key is mounted nowhere else;
// - selfSigned: the CA Helm makes is a P-256 CA, and the same CA survives `helm
//   upgrade`, and an uninstall followed by a reinstall;
// - certManager: the Issuers and Certificates are accepted by cert-manager's own CRDs
//   (their schemas, from cert-manager's Go module; no cert-manager runs here);
// - existingSecret: the members mount the named Secret; one without a CA is refused;
// - the NetworkPolicy: the peer port from the members only, the client port from the
//   chart's own clients and the allow-list, the metrics port from monitoring;
// - insecure: plaintext members, and no NodePort or LoadBalancer while it is on;
// - users: the values' users (and the controller's) reach the QuorumKVCluster.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import { CHART_DIR, helm, refusedWith, renderChart, renderedObject } from '../support/kube-calls.js';
import { KubeApiServer, findCertManagerCrds, findKubeBinaries, skipWithoutCertManagerCrds, skipWithoutKube } from '../support/kube-api-server.js';
import { installCertManagerCrds } from '../support/kube-crd.js';

const RELEASE = 'qkv';
const FULLNAME = 'qkv-quorumkv';
const MEMBER_LABELS = { 'app.kubernetes.io/name': 'quorumkv', 'app.kubernetes.io/instance': RELEASE };
const CONTROLLER_LABELS = { 'app.kubernetes.io/name': 'quorumkv-controller', 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'controller' };
const TEST_POD_LABELS = { 'app.kubernetes.io/name': 'quorumkv-test', 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'test' };
const TLS_MODES = [
  { mode: 'selfSigned', values: [] as string[], caSecret: `${FULLNAME}-ca` },
  { mode: 'certManager', values: ['--set', 'tls.mode=certManager'], caSecret: `${FULLNAME}-ca` },
  { mode: 'existingSecret', values: ['--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret=my-ca'], caSecret: 'my-ca' },
];

type Pod = k8s.V1PodSpec;

function envOf(container: k8s.V1Container): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((item) => [item.name, item.value]));
}

/** The volume names a container mounts. */
function mounts(container: k8s.V1Container): string[] {
  return (container.volumeMounts ?? []).map((mount) => mount.name);
}

/** Whether a pod volume carries the CA key: a Secret volume projecting tls.key. */
function caKeyVolumes(pod: Pod, caSecret: string): string[] {
  return (pod.volumes ?? []).filter((volume) => volume.secret?.secretName === caSecret && volume.secret.items?.some((item) => item.key === 'tls.key')).map((volume) => volume.name);
}

/** Containers (init or not) mounting any of `volumes`. */
function mountersOf(pod: Pod, volumes: readonly string[]): string[] {
  return [...(pod.initContainers ?? []), ...pod.containers].filter((container) => mounts(container).some((name) => volumes.includes(name))).map((container) => container.name);
}

/** A plain copy (the client's model classes do not compare equal to literals). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe('helm chart: TLS modes, NetworkPolicy, users and insecure mode (real helm)', { skip: skipWithoutKube(true) }, () => {
  test('the values schema and the templates refuse nonsense, with the reason', async () => {
    const refusals: Array<[string[], RegExp]> = [
      [['--set', 'tls.mode=selfsigned'], /tls\/mode/],
      [['--set', 'tls.mode=existingSecret'], /tls.existingSecret: the name of a Secret/],
      [['--set', 'insecure=true', '--set', 'service.type=LoadBalancer'], /service.type=LoadBalancer is refused while insecure=true/],
      [['--set', 'insecure=true', '--set', 'service.type=NodePort'], /service.type=NodePort is refused while insecure=true/],
      [['--set', 'users[0].name=alice', '--set', 'users[0].roles[0]=root'], /users\/0\/roles\/0/],
      [['--set', 'users[0].name=alice'], /users\/0.*roles/],
      [['--set', 'users[0].name=-alice', '--set', 'users[0].roles[0]=read'], /users\/0\/name/],
      [['--set', 'users[0].name=alice', '--set', 'users[0].roles={read,read}'], /users\/0\/roles/],
      [['--set', 'users[0].name=alice', '--set', 'users[0].roles[0]=read', '--set', 'users[1].name=alice', '--set', 'users[1].roles[0]=write'], /"alice" is listed twice/],
      [['--set', 'users[0].name=quorumkv-controller', '--set', 'users[0].roles[0]=read'], /"quorumkv-controller" is reserved/],
      [['--set-json', 'networkPolicy.clientFrom=[{"podSelectr":{}}]'], /additional properties 'podSelectr' not allowed/],
      [['--set', 'ports.peer=70000'], /ports\/peer/],
    ];
    for (const [values, reason] of refusals) assert.match(await refusedWith(renderChart(RELEASE, values)), reason, values.join(' '));
    // With TLS on, a LoadBalancer or NodePort is the operator's choice.
    for (const type of ['LoadBalancer', 'NodePort']) {
      const service = renderedObject<k8s.V1Service>(await renderChart(RELEASE, ['--set', `service.type=${type}`]), 'Service', FULLNAME);
      assert.equal(service.spec?.type, type);
    }
  });

  test('every tls.mode: each member mints its own certificate, and only an init container mounts the CA key', async () => {
    for (const { mode, values, caSecret } of TLS_MODES) {
      const objects = await renderChart(RELEASE, ['--namespace', 'db', ...values]);
      const set = renderedObject<k8s.V1StatefulSet>(objects, 'StatefulSet', FULLNAME);
      const pod = set.spec!.template.spec!;
      const [init] = pod.initContainers ?? [];
      const main = pod.containers[0]!;
      assert.equal(init?.name, 'node-certificate', mode);
      const script = init!.args!.join('\n');
      assert.match(script, /certs create-node --ca-dir \/ca --certs-dir \/tls --node-id "\$POD_NAME"/, mode);
      for (const host of ['"$POD_NAME.qkv-quorumkv-peers.db.svc.cluster.local"', '"$POD_NAME.qkv-quorumkv-peers"', '"qkv-quorumkv.db.svc.cluster.local"', '"qkv-quorumkv"', '"$POD_IP"', 'localhost']) {
        assert.ok(script.includes(`--host ${host}`), `${mode}: --host ${host} in ${script}`);
      }
      assert.deepEqual(envOf(init!).POD_NAME, undefined, 'from the downward API, not a literal');
      assert.equal(init!.env!.find((item) => item.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
      // The CA key: one volume, the CA Secret's tls.key as ca.key, mounted by the init container only.
      const caVolumes = caKeyVolumes(pod, caSecret);
      assert.deepEqual(caVolumes, ['ca'], mode);
      assert.deepEqual(plain(pod.volumes!.find((volume) => volume.name === 'ca')!.secret!.items), [{ key: 'tls.crt', path: 'ca.crt' }, { key: 'tls.key', path: 'ca.key' }]);
      assert.deepEqual(mountersOf(pod, caVolumes), ['node-certificate'], mode);
      // The member: its certificate in a memory emptyDir, read-only, and TLS on.
      assert.deepEqual(plain(pod.volumes!.find((volume) => volume.name === 'tls')?.emptyDir), { medium: 'Memory', sizeLimit: '1Mi' });
      assert.deepEqual(plain(main.volumeMounts!.find((mount) => mount.name === 'tls')), { name: 'tls', mountPath: '/tls', readOnly: true });
      const env = envOf(main);
      assert.equal(env.QKV_TLS_DIR, '/tls');
      assert.equal(env.QKV_INSECURE, undefined);
      assert.equal(env.QKV_REFLECTION, 'false');
      assert.deepEqual(main.ports!.map((port) => `${port.name}:${port.containerPort}`), ['grpc:7400', 'peer:7500', 'http:7480']);

      // The scale controller: its own client certificate, no CA key in the long-running container.
      const controller = renderedObject<k8s.V1Deployment>(objects, 'Deployment', `${FULLNAME}-controller`).spec!.template.spec!;
      assert.deepEqual(envOf(controller.containers[0]!).QKV_USER, 'quorumkv-controller');
      assert.deepEqual(envOf(controller.containers[0]!).QKV_CERTS_DIR, '/certs');
      assert.deepEqual(mounts(controller.containers[0]!), ['certs']);
      // The helm test pod: user admin, its own labels (no member selector matches it).
      const testPod = renderedObject<k8s.V1Pod>(objects, 'Pod', `${FULLNAME}-test-put-get`);
      assert.equal(matches(set.spec!.selector.matchLabels!, testPod.metadata!.labels!), false);
      assert.match(testPod.spec!.containers[0]!.args!.join('\n'), /--certs-dir \/certs --user admin/);
      for (const spec of [controller, testPod.spec!]) {
        if (mode === 'certManager') {
          // cert-manager's client Secret, nothing minted, no CA volume at all.
          assert.equal(spec.initContainers, undefined, mode);
          assert.deepEqual(caKeyVolumes(spec, caSecret), []);
          const certs = spec.volumes!.find((volume) => volume.name === 'certs')!.secret!;
          assert.match(certs.secretName!, /^qkv-quorumkv-client-(admin|quorumkv-controller)$/);
          assert.deepEqual(certs.items!.map((item) => item.key), ['ca.crt', 'tls.crt', 'tls.key']);
        } else {
          assert.deepEqual(spec.initContainers!.map((container) => container.name), ['client-certificate']);
          assert.match(spec.initContainers![0]!.args!.join('\n'), /certs create-client --ca-dir \/ca --certs-dir \/certs --user (admin|quorumkv-controller)/);
          assert.deepEqual(mountersOf(spec, caKeyVolumes(spec, caSecret)), ['client-certificate'], mode);
        }
      }
      // Only selfSigned renders a Secret (the CA); only certManager renders cert-manager objects.
      assert.deepEqual(objects.filter((object) => object.kind === 'Secret').map((object) => object.metadata!.name), mode === 'selfSigned' ? [caSecret] : []);
      assert.equal(objects.some((object) => object.apiVersion === 'cert-manager.io/v1'), mode === 'certManager');
    }
  });

  test('insecure: plaintext members with gRPC probes, no CA, no certificates, and the test pod says --insecure', async () => {
    const objects = await renderChart(RELEASE, ['--set', 'insecure=true']);
    const pod = renderedObject<k8s.V1StatefulSet>(objects, 'StatefulSet', FULLNAME).spec!.template.spec!;
    const main = pod.containers[0]!;
    assert.equal(pod.initContainers, undefined);
    assert.deepEqual(pod.volumes!.map((volume) => volume.name), ['tmp']);
    assert.equal(envOf(main).QKV_INSECURE, 'true');
    assert.equal(envOf(main).QKV_TLS_DIR, undefined);
    assert.equal(main.readinessProbe?.grpc?.service, 'quorumkv.v1.KV');
    const controller = renderedObject<k8s.V1Deployment>(objects, 'Deployment', `${FULLNAME}-controller`).spec!.template.spec!;
    assert.equal(envOf(controller.containers[0]!).QKV_INSECURE, 'true');
    assert.equal(controller.volumes, undefined);
    assert.match(renderedObject<k8s.V1Pod>(objects, 'Pod', `${FULLNAME}-test-put-get`).spec!.containers[0]!.args!.join('\n'), /--insecure/);
    assert.equal(objects.some((object) => object.kind === 'Secret' || object.apiVersion === 'cert-manager.io/v1'), false);
    // Reflection is the operator's choice in either mode.
    const reflecting = renderedObject<k8s.V1StatefulSet>(await renderChart(RELEASE, ['--set', 'grpc.reflection=true']), 'StatefulSet', FULLNAME);
    assert.equal(envOf(reflecting.spec!.template.spec!.containers[0]!).QKV_REFLECTION, 'true');
  });

  test('without a QuorumKVCluster (cluster.create=false) the members read the users from a file', async () => {
    const objects = await renderChart(RELEASE, ['--set', 'cluster.create=false', '--set-json', 'users=[{"name":"alice","roles":["read"]}]']);
    const file = JSON.parse(renderedObject<k8s.V1ConfigMap>(objects, 'ConfigMap', `${FULLNAME}-users`).data!['users.json']!) as unknown;
    assert.deepEqual(file, { users: [{ name: 'alice', roles: ['read'] }] });
    const pod = renderedObject<k8s.V1StatefulSet>(objects, 'StatefulSet', FULLNAME).spec!.template;
    assert.equal(envOf(pod.spec!.containers[0]!).QKV_USERS_FILE, '/etc/quorumkv/users.json');
    assert.equal(pod.spec!.volumes!.find((volume) => volume.name === 'users')?.configMap?.name, `${FULLNAME}-users`);
    assert.match(pod.metadata!.annotations!['checksum/users']!, /^[0-9a-f]{64}$/, 'a change of users rolls the pods');
    assert.equal(objects.some((object) => object.kind === 'QuorumKVCluster' || object.kind === 'Deployment'), false);
  });

  test('the NetworkPolicy follows its values: another allow-list, no metrics, or none at all', async () => {
    const custom = await renderChart(RELEASE, ['--set-json', 'networkPolicy.clientFrom=[{"namespaceSelector":{"matchLabels":{"team":"shop"}}},{"ipBlock":{"cidr":"10.1.0.0/16"}}]', '--set-json', 'networkPolicy.metricsFrom=[]']);
    const policy = renderedObject<k8s.V1NetworkPolicy>(custom, 'NetworkPolicy', FULLNAME);
    const clientRule = policy.spec!.ingress!.find((rule) => rule.ports?.[0]?.port === 7400)!;
    // The client model names the field `_from` (`from` is a reserved word in it).
    assert.deepEqual(plain(clientRule._from!.slice(2)), [{ namespaceSelector: { matchLabels: { team: 'shop' } } }, { ipBlock: { cidr: '10.1.0.0/16' } }]);
    assert.equal(policy.spec!.ingress!.some((rule) => rule.ports?.[0]?.port === 7480), false, 'metrics closed');
    assert.deepEqual(plain(renderedObject<k8s.V1NetworkPolicy>(custom, 'NetworkPolicy', `${FULLNAME}-controller`).spec!.ingress), []);
    const none = await renderChart(RELEASE, ['--set', 'networkPolicy.enabled=false']);
    assert.equal(none.some((object) => object.kind === 'NetworkPolicy'), false);
  });
});

describe('helm chart security (real helm and API server)', { skip: skipWithoutKube(true) }, () => {
  let server: KubeApiServer;
  let core: k8s.CoreV1Api;
  const install = (namespace: string, values: readonly string[] = []): Promise<{ stdout: string }> =>
    helm(['install', RELEASE, CHART_DIR, '--namespace', namespace, '--create-namespace', '--kubeconfig', server.kubeconfigPath, ...values]);
  const upgrade = (namespace: string, values: readonly string[] = []): Promise<{ stdout: string }> =>
    helm(['upgrade', RELEASE, CHART_DIR, '--namespace', namespace, '--kubeconfig', server.kubeconfigPath, ...values]);
  /** The Secrets of a namespace, but for Helm's own release records. */
  const secretNames = async (namespace: string): Promise<string[]> =>
    (await core.listNamespacedSecret({ namespace })).items.filter((secret) => secret.type !== 'helm.sh/release.v1').map((secret) => secret.metadata!.name!).sort();

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    core = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await server?.stop();
  });

  test('selfSigned (the default): a P-256 CA, kept across helm upgrade, uninstall and reinstall', async () => {
    const namespace = 'self-signed';
    const installed = await install(namespace);
    assert.match(installed.stdout, /TLS \(selfSigned\)/);
    assert.match(installed.stdout, /qkv certs create-client --ca-dir ca --certs-dir certs --user admin/);
    const read = async (): Promise<Record<string, string>> => (await core.readNamespacedSecret({ name: `${FULLNAME}-ca`, namespace })).data!;
    const first = await read();
    const secret = await core.readNamespacedSecret({ name: `${FULLNAME}-ca`, namespace });
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(secret.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    const certificate = new X509Certificate(Buffer.from(first['tls.crt']!, 'base64'));
    assert.equal(certificate.ca, true);
    assert.match(certificate.subject, new RegExp(`CN=${FULLNAME} CA`));
    assert.equal(certificate.publicKey.asymmetricKeyType, 'ec');
    assert.equal(certificate.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(certificate.checkPrivateKey(createPrivateKey(Buffer.from(first['tls.key']!, 'base64'))), true);
    assert.equal(first['ca.crt'], first['tls.crt']);
    assert.ok(new Date(certificate.validTo).getTime() > Date.now() + 9 * 365 * 24 * 3600 * 1000, certificate.validTo);

    await upgrade(namespace, ['--set', 'cluster.logLevel=debug']);
    assert.deepEqual(await read(), first, 'helm upgrade keeps the CA');
    await helm(['uninstall', RELEASE, '--namespace', namespace, '--kubeconfig', server.kubeconfigPath]);
    assert.deepEqual(await read(), first, 'uninstall leaves the CA (resource-policy keep)');
    await install(namespace);
    assert.deepEqual(await read(), first, 'a reinstall takes the kept CA over');
    await upgrade(namespace);
    assert.deepEqual(await read(), first);
  });

  test('the NetworkPolicy: peer port from the members only, client port from the chart\'s clients and the allow-list, metrics from monitoring', async () => {
    const namespace = 'policy';
    await install(namespace);
    const networking = server.kubeConfig().makeApiClient(k8s.NetworkingV1Api);
    const policy = await networking.readNamespacedNetworkPolicy({ name: FULLNAME, namespace });
    assert.deepEqual(policy.spec!.podSelector!.matchLabels, MEMBER_LABELS);
    assert.deepEqual(policy.spec!.policyTypes, ['Ingress']);
    const rules = policy.spec!.ingress!.map((rule) => ({ ports: rule.ports!.map((port) => `${port.protocol}/${port.port}`), from: plain(rule._from!) }));
    assert.deepEqual(rules, [
      { ports: ['TCP/7500'], from: [{ podSelector: { matchLabels: MEMBER_LABELS } }] },
      {
        ports: ['TCP/7400'],
        from: [{ podSelector: { matchLabels: CONTROLLER_LABELS } }, { podSelector: { matchLabels: TEST_POD_LABELS } }, { podSelector: { matchLabels: { 'quorumkv.io/client': 'true' } } }],
      },
      { ports: ['TCP/7480'], from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
    ]);
    // Neither the controller nor the test pod is taken for a member by the peer rule.
    assert.equal(matches(MEMBER_LABELS, CONTROLLER_LABELS), false);
    assert.equal(matches(MEMBER_LABELS, TEST_POD_LABELS), false);
    const controllerPolicy = await networking.readNamespacedNetworkPolicy({ name: `${FULLNAME}-controller`, namespace });
    assert.deepEqual(controllerPolicy.spec!.podSelector!.matchLabels, CONTROLLER_LABELS);
    assert.deepEqual(controllerPolicy.spec!.ingress!.map((rule) => rule.ports!.map((port) => port.port)), [[7480]]);
  });

  test('users from the values, and the controller\'s, reach the QuorumKVCluster', async () => {
    const namespace = 'users';
    await install(namespace, ['--set-json', 'users=[{"name":"alice","roles":["read"]},{"name":"ops","roles":["admin","write"]}]']);
    const custom = server.kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    const cluster = (await custom.getNamespacedCustomObject({ ...base, name: FULLNAME })) as { spec: { users: unknown } };
    assert.deepEqual(cluster.spec.users, [{ name: 'alice', roles: ['read'] }, { name: 'ops', roles: ['admin', 'write'] }, { name: 'quorumkv-controller', roles: ['admin'] }]);
  });

  test('certManager: the Issuers and Certificates are accepted by cert-manager\'s CRDs, and the chart makes no Secret', { skip: skipWithoutCertManagerCrds() }, async () => {
    const kubeConfig = server.kubeConfig();
    const installed = await installCertManagerCrds(kubeConfig, findCertManagerCrds()!);
    assert.ok(installed.includes('certificates.cert-manager.io') && installed.includes('issuers.cert-manager.io'), installed.join());
    const namespace = 'cert-manager-mode';
    const output = await install(namespace, ['--set', 'tls.mode=certManager']);
    assert.match(output.stdout, new RegExp(`get secret ${FULLNAME}-client-admin`));
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const list = async (plural: string): Promise<Array<{ metadata: { name: string }; spec: Record<string, unknown> }>> =>
      ((await custom.listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace, plural })) as { items: Array<{ metadata: { name: string }; spec: Record<string, unknown> }> }).items;
    const issuers = Object.fromEntries((await list('issuers')).map((item) => [item.metadata.name, item.spec]));
    assert.deepEqual(issuers, { [`${FULLNAME}-selfsigned`]: { selfSigned: {} }, [`${FULLNAME}-ca`]: { ca: { secretName: `${FULLNAME}-ca` } } });
    const certificates = Object.fromEntries((await list('certificates')).map((item) => [item.metadata.name, item.spec]));
    assert.deepEqual(Object.keys(certificates).sort(), [`${FULLNAME}-ca`, `${FULLNAME}-client-admin`, `${FULLNAME}-client-quorumkv-controller`]);
    const ca = certificates[`${FULLNAME}-ca`]!;
    assert.equal(ca.isCA, true);
    assert.equal(ca.secretName, `${FULLNAME}-ca`);
    assert.deepEqual(ca.privateKey, { algorithm: 'ECDSA', size: 256 });
    assert.deepEqual(ca.issuerRef, { group: 'cert-manager.io', kind: 'Issuer', name: `${FULLNAME}-selfsigned` });
    for (const user of ['admin', 'quorumkv-controller']) {
      const client = certificates[`${FULLNAME}-client-${user}`]!;
      assert.deepEqual(client.uris, [`quorumkv://user/${user}`]);
      assert.equal(client.secretName, `${FULLNAME}-client-${user}`);
      assert.deepEqual(client.usages, ['digital signature', 'client auth']);
      assert.deepEqual(client.issuerRef, { group: 'cert-manager.io', kind: 'Issuer', name: `${FULLNAME}-ca` });
    }
    // The schemas are real: a shape cert-manager does not know is refused.
    const bad = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'bad' }, spec: { secretName: 'x', issuerRef: { name: 'y' }, privateKey: { algorithm: 'DSA' } } };
    assert.match(await refusedWith(custom.createNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace, plural: 'certificates', body: bad })), /algorithm/);
    // cert-manager (not running here) writes every Secret; the chart makes none.
    assert.deepEqual(await secretNames(namespace), []);
    const set = await kubeConfig.makeApiClient(k8s.AppsV1Api).readNamespacedStatefulSet({ name: FULLNAME, namespace });
    assert.equal(set.spec!.template.spec!.volumes!.find((volume) => volume.name === 'ca')?.secret?.secretName, `${FULLNAME}-ca`);
  });

  test('existingSecret: the members mount the named Secret; a Secret without a CA key is refused', async () => {
    const namespace = 'own-ca';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'not-a-ca' }, stringData: { 'ca.crt': 'x' } } });
    assert.match(await refusedWith(install(namespace, ['--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret=not-a-ca'])), /tls.existingSecret "not-a-ca" has no tls.crt and tls.key/);
    // A CA made elsewhere (here: the one the selfSigned test's release made).
    const source = await core.readNamespacedSecret({ name: `${FULLNAME}-ca`, namespace: 'self-signed' });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'my-ca' }, type: 'kubernetes.io/tls', data: { 'tls.crt': source.data!['tls.crt']!, 'tls.key': source.data!['tls.key']! } } });
    await install(namespace, ['--set', 'tls.mode=existingSecret', '--set', 'tls.existingSecret=my-ca']);
    const set = await server.kubeConfig().makeApiClient(k8s.AppsV1Api).readNamespacedStatefulSet({ name: FULLNAME, namespace });
    assert.equal(set.spec!.template.spec!.volumes!.find((volume) => volume.name === 'ca')?.secret?.secretName, 'my-ca');
    assert.deepEqual(await secretNames(namespace), ['my-ca', 'not-a-ca'], 'the chart adds no Secret');
  });

  test('insecure: installs without a CA, and a LoadBalancer is refused before anything changes', async () => {
    const namespace = 'plaintext';
    const installed = await install(namespace, ['--set', 'insecure=true']);
    assert.match(installed.stdout, /WARNING: insecure=true/);
    assert.deepEqual(await secretNames(namespace), []);
    assert.match(await refusedWith(upgrade(namespace, ['--set', 'insecure=true', '--set', 'service.type=LoadBalancer'])), /service.type=LoadBalancer is refused while insecure=true/);
    const service = await core.readNamespacedService({ name: FULLNAME, namespace });
    assert.equal(service.spec?.type, 'ClusterIP');
    // Turning TLS on later is an upgrade: the CA appears, the Service may then be a LoadBalancer.
    await upgrade(namespace, ['--set', 'service.type=LoadBalancer']);
    assert.deepEqual(await secretNames(namespace), [`${FULLNAME}-ca`]);
    assert.equal((await core.readNamespacedService({ name: FULLNAME, namespace })).spec?.type, 'LoadBalancer');
  });
});
