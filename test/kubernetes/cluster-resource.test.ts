// The QuorumKVCluster resource against a real kube-apiserver: the CRD's schema and CEL
// rules refuse nonsense, its bounds equal the code's limits (and the chart's values
// schema), its users reach the node's live settings, and a running node applies live
// changes, reports restart-only ones and writes the status.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import {
  BATCH_ITEMS_MAX,
  COORDINATOR_IN_FLIGHT_REQUESTS_CEILING,
  KEY_BYTES_MAX_CEILING,
  KEY_BYTES_MAX_DEFAULT,
  READ_TIMEOUT_MS_DEFAULT,
  REPLICATION_FACTOR_DEFAULT,
  REPLICATION_FACTOR_MAX,
  RING_MEMBERS_MAX,
  REQUEST_TIMEOUT_MS_CEILING,
  RING_VNODES_DEFAULT,
  RING_VNODES_MAX,
  VALUE_BYTES_MAX_CEILING,
  VALUE_BYTES_MAX_DEFAULT,
  WRITE_TIMEOUT_MS_DEFAULT,
  COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT,
  USERS_MAX,
} from '../../src/limits.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION, parseClusterSpec, type LiveSettings } from '../../src/kubernetes/cluster-spec.js';
import { ROLES as USER_ROLES, USER_NAME_LENGTH_MAX, USER_NAME_PATTERN, parseUsers } from '../../src/security/user-roles.js';
import { ClusterResourceSync } from '../../src/kubernetes/cluster-resource-sync.js';
import { silentLogger } from '../../src/logging/logger.js';
import { KubeApiServer, findKubeBinaries, freePort, skipWithoutKube } from '../support/kube-api-server.js';
import { installCrd, loadCrd } from '../support/kube-crd.js';
import { TEST_SELECTOR, createNamespace, createPod, eventually, setPodStatus } from '../support/kube-pods.js';
import { NodeProcess } from '../support/node-process.js';
import { tempDir } from '../support/temp-dir.js';

type Json = Record<string, unknown>;

test('the CRD bounds and defaults equal src/limits.ts', () => {
  const spec = loadCrd().spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!;
  const field = (name: string): k8s.V1JSONSchemaProps => spec.properties![name]!;
  const limit = (name: string): k8s.V1JSONSchemaProps => spec.properties!.limits!.properties![name]!;
  assert.deepEqual([field('replicationFactor').maximum, field('replicationFactor')._default], [REPLICATION_FACTOR_MAX, REPLICATION_FACTOR_DEFAULT]);
  // No default for replicas: a resource without it is not sized by the controller.
  assert.deepEqual([field('replicas').maximum, field('replicas')._default], [RING_MEMBERS_MAX, undefined]);
  assert.equal(field('writeQuorum').maximum, REPLICATION_FACTOR_MAX);
  assert.equal(field('readQuorum').maximum, REPLICATION_FACTOR_MAX);
  assert.deepEqual([field('vnodesPerNode').maximum, field('vnodesPerNode')._default], [RING_VNODES_MAX, RING_VNODES_DEFAULT]);
  assert.deepEqual([field('writeTimeoutMs').maximum, field('writeTimeoutMs')._default], [REQUEST_TIMEOUT_MS_CEILING, WRITE_TIMEOUT_MS_DEFAULT]);
  assert.deepEqual([field('readTimeoutMs').maximum, field('readTimeoutMs')._default], [REQUEST_TIMEOUT_MS_CEILING, READ_TIMEOUT_MS_DEFAULT]);
  assert.deepEqual([limit('keyBytesMax').maximum, limit('keyBytesMax')._default], [KEY_BYTES_MAX_CEILING, KEY_BYTES_MAX_DEFAULT]);
  assert.deepEqual([limit('valueBytesMax').maximum, limit('valueBytesMax')._default], [VALUE_BYTES_MAX_CEILING, VALUE_BYTES_MAX_DEFAULT]);
  assert.deepEqual([limit('batchItemsMax').maximum, limit('batchItemsMax')._default], [BATCH_ITEMS_MAX, BATCH_ITEMS_MAX]);
  assert.deepEqual([limit('inFlightRequestsMax').maximum, limit('inFlightRequestsMax')._default], [COORDINATOR_IN_FLIGHT_REQUESTS_CEILING, COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT]);
  // Users: the CRD, the chart's values schema and the parser agree.
  type Schema = { maxItems?: number; maxLength?: number; pattern?: string; enum?: string[]; items?: Schema; properties?: Record<string, Schema> };
  const users = field('users');
  // `items` is untyped in the client's model, so what is under it stays plain JSON.
  const user = users.items as Schema;
  assert.deepEqual([users.maxItems, users._default], [USERS_MAX, []]);
  assert.deepEqual([user.properties!.name!.maxLength, user.properties!.name!.pattern], [USER_NAME_LENGTH_MAX, USER_NAME_PATTERN.source]);
  assert.deepEqual(user.properties!.roles!.items!.enum, [...USER_ROLES]);
  const values = JSON.parse(readFileSync(fileURLToPath(new URL('../../../helm/quorumkv/values.schema.json', import.meta.url)), 'utf8')) as { properties: Record<string, Schema> };
  const chartUsers = values.properties.users!;
  assert.equal(chartUsers.maxItems, USERS_MAX);
  assert.deepEqual([chartUsers.items!.properties!.name!.maxLength, chartUsers.items!.properties!.name!.pattern], [USER_NAME_LENGTH_MAX, USER_NAME_PATTERN.source]);
  assert.deepEqual(chartUsers.items!.properties!.roles!.items!.enum, [...USER_ROLES]);
});

test('spec.users is parsed into the live settings, and anything else is refused with the place and the reason', () => {
  assert.deepEqual(parseClusterSpec({}).live.users, [], 'no users: only the built-in admin may call');
  assert.deepEqual(parseClusterSpec({ users: [{ name: 'alice', roles: ['read'] }, { name: 'ops.team_1', roles: ['admin', 'write'] }] }).live.users, [
    { name: 'alice', roles: ['read'] },
    { name: 'ops.team_1', roles: ['admin', 'write'] },
  ]);
  const refusals: Array<[unknown, RegExp]> = [
    [{ name: 'alice' }, /spec.users must be a list/],
    [[null], /spec.users\[0\] must be an object/],
    [[{ name: 'alice', roles: ['read'], password: 'x' }], /spec.users\[0\] has unknown field\(s\) password/],
    [[{ roles: ['read'] }], /spec.users\[0\].name must be 1 to 63/],
    [[{ name: 'Alice', roles: ['read'] }], /spec.users\[0\].name/],
    [[{ name: '', roles: ['read'] }], /spec.users\[0\].name/],
    [[{ name: '-alice', roles: ['read'] }], /spec.users\[0\].name/],
    [[{ name: 'al/ice', roles: ['read'] }], /spec.users\[0\].name/],
    [[{ name: 'a'.repeat(USER_NAME_LENGTH_MAX + 1), roles: ['read'] }], /spec.users\[0\].name/],
    [[{ name: 'alice', roles: ['read'] }, { name: 'alice', roles: ['write'] }], /spec.users\[1\].name "alice" is listed twice/],
    [[{ name: 'alice' }], /spec.users\[0\].roles must be a non-empty list of read, write, admin/],
    [[{ name: 'alice', roles: [] }], /spec.users\[0\].roles must be a non-empty list/],
    [[{ name: 'alice', roles: ['root'] }], /spec.users\[0\].roles: "root" is not one of read, write, admin \(user "alice"\)/],
    [[{ name: 'alice', roles: ['read', 'read'] }], /spec.users\[0\].roles lists "read" twice/],
    [Array.from({ length: USERS_MAX + 1 }, (_, i) => ({ name: `u${i}`, roles: ['read'] })), new RegExp(`at most ${USERS_MAX}`)],
  ];
  for (const [users, reason] of refusals) assert.throws(() => parseUsers(users), (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && reason.test(error.message), JSON.stringify(users).slice(0, 200));
});

describe('QuorumKVCluster (real API server)', { skip: skipWithoutKube() }, () => {
  let server: KubeApiServer;
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;
  const namespace = 'qkv-cluster';

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    const kubeConfig = server.kubeConfig();
    custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    await installCrd(kubeConfig);
    await createNamespace(core, namespace);
  });
  after(async () => {
    await server?.stop();
  });

  const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
  const create = (name: string, spec: Json): Promise<unknown> =>
    custom.createNamespacedCustomObject({ ...base, body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', metadata: { name }, spec }, fieldValidation: 'Strict' });
  const read = async (name: string): Promise<Json> => (await custom.getNamespacedCustomObject({ ...base, name })) as Json;
  const patchSpec = (name: string, spec: Json): Promise<unknown> =>
    custom.patchNamespacedCustomObject({ ...base, name, body: { spec } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

  test('nonsense specs are refused by the API server, with the reason', async () => {
    const refusals: Array<[Json, RegExp]> = [
      [{ replicationFactor: 3, writeQuorum: 4 }, /writeQuorum must not exceed replicationFactor/],
      [{ replicationFactor: 2, readQuorum: 3 }, /readQuorum must not exceed replicationFactor/],
      [{ replicationFactor: 0 }, /replicationFactor/],
      [{ replicationFactor: REPLICATION_FACTOR_MAX + 1 }, /replicationFactor/],
      [{ fsync: 'sometimes' }, /fsync/],
      [{ fsync: 'interval:60001' }, /fsync/],
      [{ logLevel: 'verbose' }, /logLevel/],
      [{ limits: { keyBytesMax: KEY_BYTES_MAX_CEILING + 1 } }, /keyBytesMax/],
      [{ replicationFactr: 3 }, /unknown field/],
      [{ replicationFactor: 3, replicas: 2 }, /replicas must not be below replicationFactor/],
      [{ replicas: 1 }, /replicas must not be below replicationFactor/],
      [{ replicationFactor: 1, replicas: RING_MEMBERS_MAX + 1 }, /replicas/],
      [{ users: [{ name: 'alice', roles: ['root'] }] }, /users\[0\].roles\[0\]/],
      [{ users: [{ name: 'alice', roles: [] }] }, /users\[0\].roles/],
      [{ users: [{ name: 'alice' }] }, /users\[0\].roles: Required/],
      [{ users: [{ name: 'alice', roles: ['read', 'read'] }] }, /Duplicate value/],
      [{ users: [{ name: 'alice', roles: ['read'] }, { name: 'alice', roles: ['write'] }] }, /Duplicate value/],
      [{ users: [{ name: 'al/ice', roles: ['read'] }] }, /users\[0\].name/],
      [{ users: [{ name: 'alice', roles: ['read'], password: 'x' }] }, /unknown field/],
      // spec.backup: exactly one of every and schedule (CEL), timeZone with schedule only.
      [{ backup: { destination: 'd', every: '1h', schedule: '0 3 * * *' } }, /exactly one of every .* and schedule/],
      [{ backup: { destination: 'd' } }, /exactly one of every .* and schedule/],
      [{ backup: { destination: 'd', every: '1h', timeZone: 'Europe/Berlin' } }, /spec\.backup\.timeZone: Invalid value.*timeZone applies to schedule only/],
      [{ backup: { destination: 'd', schedule: '0 3 * *' } }, /spec\.backup\.schedule/],
      [{ backup: { destination: 'd', schedule: '0 3 * * *', timeZone: '+02:00' } }, /spec\.backup\.timeZone/],
    ];
    for (const [i, [spec, reason]] of refusals.entries()) {
      await assert.rejects(create(`bad-${i}`, spec), (error: Error & { code?: number; body?: string }) => {
        assert.match(`${error.message} ${error.body ?? ''}`, reason, JSON.stringify(spec));
        return true;
      });
    }
    // Either kind of schedule alone is accepted.
    await create('cron-schedule', { backup: { destination: 'd', schedule: '0 3 * * mon-fri', timeZone: 'Europe/Berlin' } });
    await create('interval-schedule', { backup: { destination: 'd', every: '6h' } });
    await create('defaults', {});
    const stored = await read('defaults');
    assert.deepEqual(stored.spec, {
      replicationFactor: 3, writeQuorum: 0, readQuorum: 0, vnodesPerNode: 256, fsync: 'always', readRepair: true,
      writeTimeoutMs: WRITE_TIMEOUT_MS_DEFAULT, readTimeoutMs: READ_TIMEOUT_MS_DEFAULT, logLevel: 'info', users: [],
      limits: { keyBytesMax: KEY_BYTES_MAX_DEFAULT, valueBytesMax: VALUE_BYTES_MAX_DEFAULT, batchItemsMax: BATCH_ITEMS_MAX, inFlightRequestsMax: COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT },
    });
    await create('edge', { replicationFactor: 5, writeQuorum: 5, readQuorum: 1, fsync: 'interval:60000' });
  });

  test('the users reach the node through applyLive, and each change of them again', async () => {
    const name = 'users';
    await create(name, { replicationFactor: 1, users: [{ name: 'alice', roles: ['read'] }] });
    const applied: LiveSettings[] = [];
    const sync = new ClusterResourceSync({
      kubeConfig: server.kubeConfig(),
      namespace,
      name,
      logger: silentLogger,
      node: {
        nodeId: 'quorumkv-0',
        runningRestartSettings: () => ({ replicationFactor: 1, vnodes: 256, fsync: 'always' }),
        applyLive: (settings) => void applied.push(settings),
        members: () => [],
        ringDigest: () => undefined,
      },
    });
    await sync.start();
    try {
      await eventually(() => applied.length === 1, () => JSON.stringify(applied));
      assert.deepEqual(applied[0]!.users, [{ name: 'alice', roles: ['read'] }]);
      await patchSpec(name, { users: [{ name: 'alice', roles: ['read'] }, { name: 'ops', roles: ['admin', 'write'] }] });
      await eventually(() => applied.length === 2, () => JSON.stringify(applied));
      assert.deepEqual(applied[1]!.users, [{ name: 'alice', roles: ['read'] }, { name: 'ops', roles: ['admin', 'write'] }]);
      // Taking every user away is a change like any other: the node gets the empty list.
      await patchSpec(name, { users: [] });
      await eventually(() => applied.length === 3, () => JSON.stringify(applied));
      assert.deepEqual(applied[2]!.users, []);
    } finally {
      await sync.stop();
    }
  });

  test('a running node applies live changes, reports restart-only ones and writes the status', async () => {
    const name = 'live';
    await create(name, { replicationFactor: 1, vnodesPerNode: 16 });
    const ports = { grpc: await freePort(), peer: await freePort() };
    const grpcPort = ports.grpc;
    await createPod(core, namespace, 'quorumkv-0', ports);
    await setPodStatus(core, namespace, 'quorumkv-0', '127.0.0.5', true);
    const certs = await ensureLocalCertificates({ dir: await tempDir(), nodeIds: ['quorumkv-0'], users: ['admin'] });
    const node = NodeProcess.start(
      ['--node-id', 'quorumkv-0', '--host', '127.0.0.5', '--grpc-port', String(grpcPort), '--peer-port', String(ports.peer), '--tls-dir', certs.nodeDirs.get('quorumkv-0')!, '--http-port', String(await freePort()), '--storage', 'memory', '--replication-factor', '1', '--vnodes', '16',
        '--discovery', 'kubernetes', '--kube-namespace', namespace, '--kube-label-selector', TEST_SELECTOR, '--kube-cluster-resource', name],
      { KUBECONFIG: server.kubeconfigPath },
    );
    const client = new QuorumKvClient({ addresses: [`127.0.0.5:${grpcPort}`], timeoutMs: 2000, credentials: clientChannelCredentials(certs.dir, 'admin') });
    let last: Json = {};
    const statusOf = async (): Promise<Json> => {
      last = (await read(name)).status as Json ?? {};
      return last;
    };
    const conditionOf = (status: Json, type: string): Json | undefined => (status.conditions as Json[] | undefined)?.find((item) => item.type === type);
    const show = (): string => `${JSON.stringify(last)}\n${node.output.join('').slice(-2000)}`;
    try {
      await eventually(async () => {
        const status = await statusOf();
        return status.observedGeneration === 1 && status.readyMembers === 1 && conditionOf(status, 'Ready')?.status === 'True';
      }, show, 30_000);
      assert.equal(last.reportedBy, 'quorumkv-0');
      assert.match(String(last.ringDigest), /^[0-9a-f]+$/);
      // A member's address is its peer port's.
      assert.deepEqual(last.members, [{ name: 'quorumkv-0', address: `127.0.0.5:${ports.peer}`, ready: true }]);
      assert.equal(conditionOf(last, 'RestartRequired')?.status, 'False');
      assert.equal((await client.put(Buffer.from('twelve-bytes'), Buffer.from('v'))).acks, 1);

      // A live change: a smaller key limit reaches the running node.
      await patchSpec(name, { limits: { keyBytesMax: 8 } });
      await eventually(async () => (await statusOf()).observedGeneration === 2, show);
      await assert.rejects(client.put(Buffer.from('twelve-bytes'), Buffer.from('v')), /KEY_TOO_LARGE|8/);
      assert.equal((await client.put(Buffer.from('short'), Buffer.from('v'))).acks, 1);

      // A restart-only change is reported, not applied.
      await patchSpec(name, { replicationFactor: 3 });
      await eventually(async () => conditionOf(await statusOf(), 'RestartRequired')?.status === 'True', show);
      assert.match(String(conditionOf(last, 'RestartRequired')?.message), /replicationFactor 1 -> 3/);
      assert.equal((await client.status()).replicationFactor, 1);
      // With N = 3 in the spec and one member, the cluster reports itself degraded.
      assert.equal(conditionOf(last, 'Degraded')?.status, 'True');
      const applied = node.logRecords().filter((record) => record.msg === 'applied live settings from QuorumKVCluster');
      assert.equal(applied.length, 2, 'once at start, once for the key limit; the N change applies nothing live');
    } finally {
      client.close();
      await node.stop();
    }
  });

  // Users and roles from the QuorumKVCluster, applied live by a real node with TLS: a
  // client certificate's user gets nothing until spec.users names it, then exactly its
  // roles, and loses them again when the spec drops it, with no restart; the built-in
  // admin keeps every role throughout.
  test('roles follow spec.users live; the built-in admin keeps every role', async () => {
    // Its own resource and StatefulSet name in this namespace: discovery takes only the
    // pods the StatefulSet `live-users` owns, so the other tests' pods are not members.
    const name = 'live-users';
    await create(name, { replicationFactor: 1, vnodesPerNode: 16 });
    const patchUsers = (users: unknown): Promise<unknown> => patchSpec(name, { users });
    const certsDir = join(await tempDir(), 'certs');
    const certificates = await ensureLocalCertificates({ dir: certsDir, nodeIds: ['live-users-0'], users: ['admin', 'app'] });
    const grpcPort = await freePort();
    const peerPort = await freePort();
    await createPod(core, namespace, 'live-users-0', { grpc: grpcPort, peer: peerPort });
    await setPodStatus(core, namespace, 'live-users-0', '127.0.0.6', true);
    const node = NodeProcess.start(
      ['--node-id', 'live-users-0', '--host', '127.0.0.6', '--grpc-port', String(grpcPort), '--peer-port', String(peerPort), '--http-port', String(await freePort()),
        '--tls-dir', certificates.nodeDirs.get('live-users-0')!, '--storage', 'memory', '--replication-factor', '1', '--vnodes', '16',
        '--discovery', 'kubernetes', '--kube-namespace', namespace, '--kube-label-selector', TEST_SELECTOR, '--kube-cluster-resource', name],
      { KUBECONFIG: server.kubeconfigPath },
    );
    const address = `127.0.0.6:${grpcPort}`;
    const admin = new QuorumKvClient({ addresses: [address], timeoutMs: 2000, credentials: clientChannelCredentials(certsDir, 'admin') });
    const app = new QuorumKvClient({ addresses: [address], timeoutMs: 2000, credentials: clientChannelCredentials(certsDir, 'app') });
    const show = (): string => node.output.join('').slice(-3000);
    const codeOf = async (promise: Promise<unknown>): Promise<string> => {
      try {
        await promise;
        return 'OK';
      } catch (error) {
        return (error as { code?: string }).code ?? String(error);
      }
    };
    try {
      await eventually(async () => (await codeOf(admin.put(Buffer.from('k'), Buffer.from('v')))) === 'OK', show, 30_000);
      // spec.users names nobody: only the built-in admin may call.
      assert.equal(await codeOf(app.get(Buffer.from('k'))), 'PERMISSION_DENIED');

      await patchUsers([{ name: 'app', roles: ['read'] }]);
      await eventually(async () => (await codeOf(app.get(Buffer.from('k')))) === 'OK', show);
      assert.equal(await codeOf(app.put(Buffer.from('k'), Buffer.from('by app'))), 'PERMISSION_DENIED');

      await patchUsers([{ name: 'app', roles: ['write'] }]);
      await eventually(async () => (await codeOf(app.put(Buffer.from('k'), Buffer.from('by app')))) === 'OK', show);
      assert.equal(await codeOf(app.repair()), 'PERMISSION_DENIED');

      await patchUsers([]);
      await eventually(async () => (await codeOf(app.get(Buffer.from('k')))) === 'PERMISSION_DENIED', show);
      assert.equal((await admin.get(Buffer.from('k'))).value?.toString(), 'by app');
      assert.equal(await codeOf(admin.repair()), 'OK');
      const applied = node.logRecords().filter((record) => record.msg === 'users and roles applied from the QuorumKVCluster');
      assert.ok(applied.length >= 3, show());
    } finally {
      admin.close();
      app.close();
      await node.stop();
    }
  });
});
