// The backup controller against a real kube-apiserver with the chart's CRDs, real
// `qkv server` processes and a real S3 server (versitygw): a QuorumKVBackup goes from
// no status to Succeeded with the set's id and size, and the set is in the bucket; one
// whose bucket is missing ends Failed with the reason in its Complete condition and a
// Warning Event; a QuorumKVCluster's spec.backup schedule creates backups as its clock
// passes `every`, and retention keeps only the newest in the bucket; a QuorumKVRestore
// writes a set into a second, empty cluster, where every key then reads back; a third
// cluster's spec.bootstrap.restore is retried after a failed attempt (Bootstrapped False,
// a Warning Event, no scheduled backup meanwhile), then restores once, every key reads
// back, and a restarted controller does not run it again; one left Running by a stopped
// controller waits for every member, then runs again; a cron `schedule` in a time zone
// makes its first backup at its first time (not at once, and not lost to a controller
// restart across it), one per time, and one for times missed while the controller's
// clock jumped, an edited schedule nothing at once, and a time zone this Node.js lacks is a
// Warning Event on the QuorumKVCluster; a backup with a member killed
// succeeds without it, lists it in its status and shows a Warning Event. The controller
// calls the API server with a token of the chart's controller ServiceAccount, bound to
// the chart's own Role, so the chart's RBAC is proven sufficient by use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { openBackupStore } from '../../src/backup/open-backup-store.js';
import { BackupController } from '../../src/controller/backup-controller.js';
import { GrpcBackupAdmin } from '../../src/controller/grpc-backup-admin.js';
import { BACKUP_PLURAL, SCHEDULE_LABEL } from '../../src/kubernetes/backup-resource.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import type { Logger } from '../../src/logging/logger.js';
import { KubeApiServer, findKubeBinaries, skipWithoutKube } from '../support/kube-api-server.js';
import { installBackupCrd, installCrd } from '../support/kube-crd.js';
import { renderChart, renderedObject } from '../support/kube-calls.js';
import { eventually } from '../support/kube-pods.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { S3TestServer, skipWithoutS3Server } from '../support/s3-server.js';
import { tempDir } from '../support/temp-dir.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- API objects as JSON

const NAMESPACE = 'backups';
const RELEASE = 'qkv';
/** The chart's fullname: its Role names the QuorumKVCluster by it. */
const CLUSTER = 'qkv-quorumkv';
const BUCKET = 'qkv-backups';
const KEYS = 300;

const skip = skipWithoutKube() || skipWithoutS3Server();
/** The controller's warnings, for a failing run's output; the rest is quiet. */
const warningsToStderr: Logger = {
  debug: () => {},
  info: () => {},
  warn: (fields, message) => process.stderr.write(`controller warn: ${message} ${JSON.stringify(fields, (_key, value: unknown) => (value instanceof Error ? value.message : value))}\n`),
  error: (fields, message) => process.stderr.write(`controller error: ${message} ${JSON.stringify(fields)}\n`),
};

describe('backup controller (real API server, qkv server processes, S3 server)', { skip }, () => {
  let server: KubeApiServer;
  let s3: S3TestServer;
  let cluster: ProcessCluster;
  let controller: BackupController;
  let clusterB: ProcessCluster | undefined;
  let controllerB: BackupController | undefined;
  let clusterC: ProcessCluster | undefined;
  let controllerC: BackupController | undefined;
  let controllerD: BackupController | undefined;
  let controllerE: BackupController | undefined;
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;
  /** What the schedule's clock is ahead of the wall clock; the schedule test moves it. */
  let clockOffsetMs = 0;
  const savedEnv = { ...process.env };

  before(async () => {
    server = await KubeApiServer.start(findKubeBinaries()!);
    const kubeConfig = server.kubeConfig();
    await installCrd(kubeConfig);
    await installBackupCrd(kubeConfig);
    custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    // The chart's controller ServiceAccount, Role and RoleBinding, as helm renders them.
    const objects = await renderChart(RELEASE, ['--namespace', NAMESPACE]);
    const rbac = kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: renderedObject<k8s.V1ServiceAccount>(objects, 'ServiceAccount', `${CLUSTER}-controller`) });
    await rbac.createNamespacedRole({ namespace: NAMESPACE, body: renderedObject<k8s.V1Role>(objects, 'Role', `${CLUSTER}-controller`) });
    await rbac.createNamespacedRoleBinding({ namespace: NAMESPACE, body: renderedObject<k8s.V1RoleBinding>(objects, 'RoleBinding', `${CLUSTER}-controller`) });
    const token = await core.createNamespacedServiceAccountToken({ name: `${CLUSTER}-controller`, namespace: NAMESPACE, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const controllerKubeConfig = server.kubeConfig(token.status!.token);

    s3 = await S3TestServer.start();
    await s3.createBucket(BUCKET);
    // The nodes (children of this process) and the controller's retention take their
    // S3 credentials from the standard AWS variables, as the chart's Secret gives them.
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-backup-k8s-'), extraArgs: ['--probe-interval-ms', '500', '--vnodes', '32'] });
    const client = cluster.client(['qkv-1']);
    for (let start = 0; start < KEYS; start += 100) {
      const items = Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`key-${start + i}`), value: Buffer.from(`value-${start + i}`) }));
      await client.batchPut(items);
    }
    client.close();

    controller = new BackupController({
      kubeConfig: controllerKubeConfig,
      namespace: NAMESPACE,
      clusterResource: CLUSTER,
      backupAdmin: new GrpcBackupAdmin({ backupTimeoutMs: 60_000, credentials: cluster.credentials() }),
      members: async () => [cluster.address('qkv-1'), cluster.address('qkv-2')],
      openStore: (destination) => openBackupStore(destination, { backupDir: '' }),
      logger: warningsToStderr,
      pollMs: 200,
      now: () => Date.now() + clockOffsetMs,
    });
    controller.start();
  });

  after(async () => {
    await controller?.stop();
    await controllerB?.stop();
    await controllerC?.stop();
    await controllerD?.stop();
    await controllerE?.stop();
    await cluster?.stopAll();
    await clusterB?.stopAll();
    await clusterC?.stopAll();
    await s3?.stop();
    await server?.stop();
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (savedEnv[key] === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = savedEnv[key];
    }
  });

  const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: BACKUP_PLURAL };
  const destination = (prefix: string, bucket = BUCKET) => `s3://${bucket}/${prefix}?endpoint=${s3.endpoint}`;

  async function createBackup(name: string, to: string): Promise<void> {
    await custom.createNamespacedCustomObject({ ...base, body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVBackup', metadata: { name }, spec: { cluster: CLUSTER, destination: to } } });
  }

  async function getBackup(name: string): Promise<Json> {
    return (await custom.getNamespacedCustomObject({ ...base, name })) as Json;
  }

  async function waitForPhase(name: string, phases: readonly string[]): Promise<Json> {
    let last: Json = {};
    await eventually(
      async () => {
        last = await getBackup(name);
        return phases.includes(last.status?.phase);
      },
      () => `backup ${name} status ${JSON.stringify(last.status)}`,
      60_000,
    );
    return last;
  }

  async function eventsOf(name: string): Promise<k8s.CoreV1Event[]> {
    const list = await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}` });
    return list.items;
  }

  async function keysUnder(prefix: string): Promise<string[]> {
    const client = s3.client();
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
    } finally {
      client.destroy();
    }
  }

  test('a QuorumKVBackup runs once: Succeeded with the set in the bucket, its size in the status, Events for start and success', async () => {
    await createBackup('manual-1', destination('manual'));
    const backup = await waitForPhase('manual-1', ['Succeeded', 'Failed']);
    const status = backup.status;
    assert.equal(status.phase, 'Succeeded', JSON.stringify(status));
    assert.match(status.backupId, /^qkv-/);
    assert.ok(status.records >= KEYS, `records ${status.records} (at least the ${KEYS} keys written, once per replica)`);
    assert.ok(status.bytes > 0);
    assert.equal(status.membersTotal, 3);
    assert.ok(Date.parse(status.startTime) <= Date.parse(status.completionTime));
    const complete = status.conditions.find((item: Json) => item.type === 'Complete');
    assert.equal(complete.status, 'True');
    const keys = await keysUnder(`manual/${status.backupId}/`);
    assert.ok(keys.includes(`manual/${status.backupId}/manifest.json`), keys.join(', '));
    assert.equal(keys.length, 4, `a manifest and a snapshot file per member: ${keys.join(', ')}`);
    const reasons = (await eventsOf('manual-1')).map((event) => `${event.type}/${event.reason}`);
    assert.ok(reasons.includes('Normal/BackupStarted') && reasons.includes('Normal/BackupSucceeded'), reasons.join(', '));
  });

  test('a backup to a missing bucket ends Failed, the reason in its Complete condition and a Warning Event', async () => {
    await createBackup('to-nowhere', destination('x', 'no-such-bucket'));
    const backup = await waitForPhase('to-nowhere', ['Succeeded', 'Failed']);
    assert.equal(backup.status.phase, 'Failed');
    const complete = backup.status.conditions.find((item: Json) => item.type === 'Complete');
    assert.equal(complete.status, 'False');
    assert.match(`${complete.reason}: ${complete.message}`, /BACKUP_(FAILED|BUCKET_MISSING).*no-such-bucket/s);
    // The Event follows the status write that made the phase Failed.
    let warning: k8s.CoreV1Event | undefined;
    await eventually(async () => (warning = (await eventsOf('to-nowhere')).find((event) => event.reason === 'BackupFailed')) !== undefined, () => 'no BackupFailed Event', 10_000);
    assert.equal(warning?.type, 'Warning');
    assert.match(warning?.message ?? '', /no-such-bucket/);
  });

  test('the schedule creates a backup each time its clock passes `every`; retention keeps the newest 2 in the bucket', async () => {
    await custom.createNamespacedCustomObject({
      group: CLUSTER_GROUP,
      version: CLUSTER_VERSION,
      namespace: NAMESPACE,
      plural: CLUSTER_PLURAL,
      body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', metadata: { name: CLUSTER }, spec: { replicationFactor: 3, backup: { destination: destination('scheduled'), every: '1h', retention: 2 } } },
    });
    const scheduled = async (): Promise<Json[]> => {
      const list = (await custom.listNamespacedCustomObject({ ...base, labelSelector: `${SCHEDULE_LABEL}=${CLUSTER}` })) as { items: Json[] };
      return list.items;
    };
    const succeededIds = new Set<string>();
    // Four schedule periods: after each succeeded backup the clock jumps one hour on.
    for (let round = 1; round <= 4; round += 1) {
      let items: Json[] = [];
      await eventually(
        async () => {
          items = await scheduled();
          const done = items.filter((item) => item.status?.phase === 'Succeeded');
          for (const item of done) succeededIds.add(item.status.backupId);
          return succeededIds.size >= round;
        },
        () => `round ${round}: ${JSON.stringify(items.map((item) => [item.metadata.name, item.status?.phase]))}`,
        60_000,
      );
      // No second backup inside one period.
      assert.ok(items.length <= Math.min(round, 3), `round ${round}: ${items.length} scheduled backups`);
      clockOffsetMs += 3_600_000;
    }
    let items: Json[] = [];
    await eventually(
      async () => {
        items = (await scheduled()).filter((item) => item.status?.phase === 'Succeeded');
        return items.length === 2 && succeededIds.size >= 4;
      },
      () => JSON.stringify(items.map((item) => [item.metadata.name, item.status?.phase])),
      30_000,
    );
    // Whatever ran after the fourth jump may add one; the two kept are the newest succeeded.
    const kept = items.map((item) => item.status.backupId as string).sort();
    const manifests = (await keysUnder('scheduled/')).filter((key) => key.endsWith('/manifest.json')).map((key) => key.split('/')[1]!).sort();
    assert.deepEqual(manifests, kept, 'the bucket holds the sets of the kept backups and no other');
    const pruned = [...succeededIds].filter((id) => !kept.includes(id));
    assert.ok(pruned.length >= 2, `pruned ${pruned.join(', ')}`);
    for (const id of pruned) assert.deepEqual(await keysUnder(`scheduled/${id}/`), [], `set ${id} is gone whole`);
  });

  test('a QuorumKVRestore writes a backup set into another, empty cluster: Succeeded, and every key reads back', async () => {
    const backupId = (await getBackup('manual-1')).status.backupId as string;
    clusterB = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-restore-k8s-'), extraArgs: ['--probe-interval-ms', '500', '--vnodes', '32'] });
    const readB = clusterB.client(['qkv-1']);
    assert.equal((await readB.get(Buffer.from('key-7'))).found, false, 'cluster B starts empty');
    // Cluster B's own controller (the admin's token: the chart's Role names its release's cluster only).
    const clusterOfB = clusterB;
    controllerB = new BackupController({
      kubeConfig: server.kubeConfig(),
      namespace: NAMESPACE,
      clusterResource: 'qkv-b',
      backupAdmin: new GrpcBackupAdmin({ backupTimeoutMs: 60_000, credentials: clusterOfB.credentials() }),
      members: async () => [clusterOfB.address('qkv-2')],
      openStore: (to) => openBackupStore(to, { backupDir: '' }),
      logger: warningsToStderr,
      pollMs: 200,
    });
    controllerB.start();
    const restores = { ...base, plural: 'quorumkvrestores' };
    await custom.createNamespacedCustomObject({ ...restores, body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVRestore', metadata: { name: 'into-b' }, spec: { cluster: 'qkv-b', destination: destination('manual'), backupId } } });
    let restore: Json = {};
    await eventually(
      async () => {
        restore = (await custom.getNamespacedCustomObject({ ...restores, name: 'into-b' })) as Json;
        return ['Succeeded', 'Failed'].includes(restore.status?.phase);
      },
      () => JSON.stringify(restore.status),
      60_000,
    );
    assert.equal(restore.status.phase, 'Succeeded', JSON.stringify(restore.status));
    assert.equal(restore.status.backupId, backupId);
    assert.ok(restore.status.records >= KEYS, `records ${restore.status.records}`);
    for (let index = 0; index < KEYS; index += 1) {
      const answer = await readB.get(Buffer.from(`key-${index}`));
      assert.equal(answer.found, true, `key-${index}`);
      assert.equal(Buffer.from(answer.value).toString(), `value-${index}`);
    }
    readB.close();
    const reasons = (await eventsOf('into-b')).map((event) => `${event.type}/${event.reason}`);
    assert.ok(reasons.includes('Normal/RestoreStarted') && reasons.includes('Normal/RestoreSucceeded'), reasons.join(', '));
  });

  test('spec.bootstrap.restore: a failed attempt is retried after its back-off, the set is restored once, and a restarted controller leaves it done', async () => {
    const backupId = (await getBackup('manual-1')).status.backupId as string;
    clusterC = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-bootstrap-k8s-'), extraArgs: ['--probe-interval-ms', '500', '--vnodes', '32'] });
    const clusterOfC = clusterC;
    const NAME = 'qkv-c';
    const clusters = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: CLUSTER_PLURAL };
    // The first attempt names a set that is not there: BACKUP_NOT_FOUND, then a back-off.
    await custom.createNamespacedCustomObject({
      ...clusters,
      body: {
        apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`,
        kind: 'QuorumKVCluster',
        metadata: { name: NAME },
        spec: { replicationFactor: 3, replicas: 3, backup: { destination: destination('c-scheduled'), every: '1h' }, bootstrap: { restore: { destination: destination('manual'), backupId: 'qkv-20000101T000000000Z' } } },
      },
    });
    let offsetC = 0;
    const startControllerC = (): BackupController => {
      const started = new BackupController({
        kubeConfig: server.kubeConfig(),
        namespace: NAMESPACE,
        clusterResource: NAME,
        backupAdmin: new GrpcBackupAdmin({ backupTimeoutMs: 60_000, credentials: clusterOfC.credentials() }),
        members: async () => ['qkv-1', 'qkv-2', 'qkv-3'].map((id) => clusterOfC.address(id)),
        openStore: (to) => openBackupStore(to, { backupDir: '' }),
        logger: warningsToStderr,
        pollMs: 200,
        now: () => Date.now() + offsetC,
      });
      started.start();
      return started;
    };
    controllerC = startControllerC();
    const getC = async (): Promise<Json> => (await custom.getNamespacedCustomObject({ ...clusters, name: NAME })) as Json;
    const bootstrapped = (resource: Json): Json | undefined => resource.status?.conditions?.find((item: Json) => item.type === 'Bootstrapped');
    const scheduledOfC = async (): Promise<Json[]> => ((await custom.listNamespacedCustomObject({ ...base, labelSelector: `${SCHEDULE_LABEL}=${NAME}` })) as { items: Json[] }).items;
    const eventsOfC = async (reason: string): Promise<number> => (await eventsOf(NAME)).filter((event) => event.reason === reason).reduce((sum, event) => sum + (event.count ?? 1), 0);
    let resource: Json = {};
    await eventually(
      async () => {
        resource = await getC();
        return resource.status?.bootstrap?.phase === 'Failed';
      },
      () => JSON.stringify(resource.status),
      60_000,
    );
    assert.equal(resource.status.bootstrap.attempts, 1);
    assert.match(resource.status.bootstrap.lastError, /^BACKUP_NOT_FOUND: /);
    assert.ok(Date.parse(resource.status.bootstrap.nextAttemptTime) > Date.now() + 5_000, `next attempt ${resource.status.bootstrap.nextAttemptTime} is the back-off away`);
    assert.equal(bootstrapped(resource)?.status, 'False');
    assert.equal(bootstrapped(resource)?.reason, 'BACKUP_NOT_FOUND');
    // The Event follows the status write.
    await eventually(async () => (await eventsOfC('BootstrapFailed')) >= 1, () => 'a Warning Event BootstrapFailed', 10_000);
    // During the back-off: no second attempt, and no scheduled backup of a cluster without its data.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    resource = await getC();
    assert.equal(resource.status.bootstrap.attempts, 1, 'no attempt before nextAttemptTime');
    assert.deepEqual(await scheduledOfC(), [], 'no scheduled backup before the bootstrap succeeded');
    const readC = clusterOfC.client(['qkv-2']);
    assert.equal((await readC.get(Buffer.from('key-7'))).found, false, 'cluster C starts empty');

    // The spec is fixed and the back-off passes: the second attempt restores the set.
    await custom.patchNamespacedCustomObject({ ...clusters, name: NAME, body: { spec: { bootstrap: { restore: { backupId } } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    offsetC += 3_600_000;
    await eventually(
      async () => {
        resource = await getC();
        return resource.status?.bootstrap?.phase === 'Succeeded';
      },
      () => JSON.stringify(resource.status),
      60_000,
    );
    const done = resource.status.bootstrap;
    assert.equal(done.attempts, 2);
    assert.equal(done.backupId, backupId);
    assert.ok(done.records >= KEYS, `records ${done.records}`);
    await eventually(async () => bootstrapped(await getC())?.status === 'True', () => 'Bootstrapped turns True', 10_000);
    for (let index = 0; index < KEYS; index += 1) {
      const answer = await readC.get(Buffer.from(`key-${index}`));
      assert.equal(answer.found, true, `key-${index}`);
      assert.equal(Buffer.from(answer.value).toString(), `value-${index}`);
    }
    readC.close();
    await eventually(async () => (await eventsOfC('BootstrapSucceeded')) === 1, () => 'one Event BootstrapSucceeded', 10_000);
    // Now the schedule runs.
    await eventually(async () => (await scheduledOfC()).length >= 1, () => 'a scheduled backup of cluster C after its bootstrap', 30_000);

    // A restarted controller (another process, nothing in memory) does not run it again.
    const startedBefore = await eventsOfC('BootstrapStarted');
    await controllerC.stop();
    controllerC = startControllerC();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    resource = await getC();
    assert.equal(resource.status.bootstrap.phase, 'Succeeded');
    assert.equal(resource.status.bootstrap.attempts, 2, 'no third attempt');
    assert.equal(resource.status.bootstrap.completionTime, done.completionTime);
    assert.equal(await eventsOfC('BootstrapStarted'), startedBefore);
  });

  test('a bootstrap left Running by a controller that stopped waits until spec.replicas members are ready, then runs again', async () => {
    assert.ok(clusterC !== undefined, 'cluster C of the previous test');
    const clusterOfC = clusterC;
    const backupId = (await getBackup('manual-1')).status.backupId as string;
    const NAME = 'qkv-d';
    const clusters = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: CLUSTER_PLURAL };
    await custom.createNamespacedCustomObject({
      ...clusters,
      body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', metadata: { name: NAME }, spec: { replicationFactor: 3, replicas: 3, bootstrap: { restore: { destination: destination('manual'), backupId } } } },
    });
    // What a controller killed in the middle of its first attempt leaves.
    await custom.patchNamespacedCustomObjectStatus(
      { ...clusters, name: NAME, body: { status: { bootstrap: { phase: 'Running', attempts: 1, startTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    let ready = ['qkv-1'];
    controllerD = new BackupController({
      kubeConfig: server.kubeConfig(),
      namespace: NAMESPACE,
      clusterResource: NAME,
      backupAdmin: new GrpcBackupAdmin({ backupTimeoutMs: 60_000, credentials: clusterOfC.credentials() }),
      members: async () => ready.map((id) => clusterOfC.address(id)),
      openStore: (to) => openBackupStore(to, { backupDir: '' }),
      logger: warningsToStderr,
      pollMs: 200,
    });
    controllerD.start();
    const getD = async (): Promise<Json> => (await custom.getNamespacedCustomObject({ ...clusters, name: NAME })) as Json;
    let resource: Json = {};
    await eventually(
      async () => {
        resource = await getD();
        return resource.status?.conditions?.some((item: Json) => item.type === 'Bootstrapped' && item.reason === 'WaitingForMembers');
      },
      () => JSON.stringify(resource.status),
      30_000,
    );
    assert.match(resource.status.conditions.find((item: Json) => item.type === 'Bootstrapped').message, /1 of 3 members ready/);
    assert.equal(resource.status.bootstrap.attempts, 1, 'no attempt with 1 of 3 members ready');
    ready = ['qkv-1', 'qkv-2', 'qkv-3'];
    await eventually(
      async () => {
        resource = await getD();
        return resource.status?.bootstrap?.phase === 'Succeeded';
      },
      () => JSON.stringify(resource.status),
      60_000,
    );
    assert.equal(resource.status.bootstrap.attempts, 2, 'the interrupted attempt counted, and one more ran');
    assert.equal(resource.status.bootstrap.backupId, backupId);
  });
  test('a cron schedule in Europe/Berlin: the first backup at 03:00 there, also across a controller restart; one per time, one for missed times, none at once after an edit; an unknown zone is a Warning Event', async () => {
    const NAME = 'qkv-e';
    const clusters = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: NAMESPACE, plural: CLUSTER_PLURAL };
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    // The controller's clock, set by the test: 03:00 in Berlin in June is 01:00 UTC.
    let nowE = Date.parse('2026-06-01T12:00:00Z');
    await custom.createNamespacedCustomObject({
      ...clusters,
      body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', metadata: { name: NAME }, spec: { replicationFactor: 3, backup: { destination: destination('cron'), schedule: '0 3 * * *', timeZone: 'Europe/Berlin', retention: 2 } } },
    });
    const startControllerE = (): BackupController => {
      const started = new BackupController({
        kubeConfig: server.kubeConfig(),
        namespace: NAMESPACE,
        clusterResource: NAME,
        backupAdmin: new GrpcBackupAdmin({ backupTimeoutMs: 60_000, credentials: cluster.credentials() }),
        // Not qkv-1, which the first controller uses: a member runs one backup at a time.
        members: async () => [cluster.address('qkv-2')],
        openStore: (to) => openBackupStore(to, { backupDir: '' }),
        logger: warningsToStderr,
        pollMs: 200,
        now: () => nowE,
      });
      started.start();
      return started;
    };
    controllerE = startControllerE();
    const scheduledOfE = async (): Promise<Json[]> => {
      const list = (await custom.listNamespacedCustomObject({ ...base, labelSelector: `${SCHEDULE_LABEL}=${NAME}` })) as { items: Json[] };
      return list.items.sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    };
    const names = async (): Promise<string[]> => (await scheduledOfE()).map((item) => item.metadata.name as string);
    const succeeded = async (count: number): Promise<Json[]> => {
      let items: Json[] = [];
      await eventually(
        async () => {
          items = await scheduledOfE();
          return items.length === count && items.every((item) => item.status?.phase === 'Succeeded');
        },
        () => `expected ${count} succeeded: ${JSON.stringify(items.map((item) => [item.metadata.name, item.status?.phase]))}`,
        60_000,
      );
      return items;
    };

    // No backup yet, and still none at once: the first waits for 03:00 Berlin time.
    await pause(2_000);
    assert.deepEqual(await names(), [], 'no backup before the first scheduled time');
    nowE = Date.parse('2026-06-02T00:59:30Z');
    await pause(1_500);
    assert.deepEqual(await names(), [], 'none at 02:59:30 Berlin time');
    // The controller restarts across 03:00 (a rollout, an evicted pod) and is back at
    // 03:00:20: the 03:00 time it had not acted on yet still makes the first backup.
    await controllerE.stop();
    nowE = Date.parse('2026-06-02T01:00:20Z');
    controllerE = startControllerE();
    const [first] = await succeeded(1);
    assert.equal(first!.metadata.name, 'qkv-e-20260602t010020z');
    assert.equal(first!.metadata.annotations['quorumkv.io/scheduled-at'], '2026-06-02T01:00:20.000Z');
    // One per time: later the same night, nothing more.
    nowE = Date.parse('2026-06-02T05:00:00Z');
    await pause(1_500);
    assert.deepEqual(await names(), ['qkv-e-20260602t010020z']);

    // The clock jumps three days: the times missed make one backup, not three.
    nowE = Date.parse('2026-06-05T09:00:00Z');
    await succeeded(2);
    await pause(1_500);
    assert.deepEqual(await names(), ['qkv-e-20260602t010020z', 'qkv-e-20260605t090000z'], 'missed times are not made up');
    // Then the next time after it: 2026-06-06 03:00 Berlin time, not before.
    nowE = Date.parse('2026-06-06T00:59:59Z');
    await pause(1_500);
    assert.equal((await names()).length, 2, 'none a second before 03:00');
    nowE = Date.parse('2026-06-06T01:00:00Z');
    // A third succeeds, and retention (2) deletes the oldest with its set.
    let seen: string[] = [];
    await eventually(
      async () => JSON.stringify((seen = await names())) === JSON.stringify(['qkv-e-20260605t090000z', 'qkv-e-20260606t010000z']),
      () => `after the third: ${JSON.stringify(seen)}`,
      60_000,
    );
    assert.ok((await succeeded(2)).every((item) => item.status.phase === 'Succeeded'));

    // An edited schedule counts from the edit: at 07:00 Berlin time, 04:00 has passed
    // today, but nothing is made at once; the first backup of the new schedule is at
    // 04:00 the next day.
    nowE = Date.parse('2026-06-06T05:00:00Z');
    await custom.patchNamespacedCustomObject({ ...clusters, name: NAME, body: { spec: { backup: { schedule: '0 4 * * *' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await pause(1_500);
    assert.deepEqual(await names(), ['qkv-e-20260605t090000z', 'qkv-e-20260606t010000z'], 'no backup at once after an edit');
    nowE = Date.parse('2026-06-07T02:00:10Z');
    await eventually(
      async () => JSON.stringify((seen = await names())) === JSON.stringify(['qkv-e-20260606t010000z', 'qkv-e-20260607t020010z']),
      () => `after the edited schedule's first time: ${JSON.stringify(seen)}`,
      60_000,
    );
    await succeeded(2);

    // A zone the CRD's pattern lets through but Node.js does not know: no backups, a
    // Warning Event on the QuorumKVCluster saying which field and why.
    await custom.patchNamespacedCustomObject({ ...clusters, name: NAME, body: { spec: { backup: { timeZone: 'Mars/Olympus' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    let warning: k8s.CoreV1Event | undefined;
    await eventually(
      async () => (warning = (await eventsOf(NAME)).find((event) => event.reason === 'BackupScheduleInvalid')) !== undefined,
      () => 'a BackupScheduleInvalid Event',
      30_000,
    );
    assert.equal(warning?.type, 'Warning');
    assert.equal(warning?.involvedObject.kind, 'QuorumKVCluster');
    assert.match(warning?.message ?? '', /^spec\.backup\.timeZone: time zone "Mars\/Olympus" is not one this Node\.js knows/);
    nowE = Date.parse('2026-06-09T09:00:00Z');
    await pause(1_500);
    assert.equal((await names()).length, 2, 'no scheduled backup while spec.backup cannot be read');
  });

  // Last: it kills a member of the first cluster, which no test after it uses.
  test('a backup with a member down succeeds without it, lists it in status.missingMembers and shows a Warning Event', async () => {
    await cluster.kill9('qkv-3');
    await createBackup('degraded-1', destination('degraded'));
    const backup = await waitForPhase('degraded-1', ['Succeeded', 'Failed']);
    const status = backup.status;
    assert.equal(status.phase, 'Succeeded', JSON.stringify(status));
    assert.deepEqual(status.missingMembers, ['qkv-3']);
    assert.match(status.conditions.find((item: Json) => item.type === 'Complete').message, /2 of 3 members \(missing qkv-3\)/);
    const keys = await keysUnder(`degraded/${status.backupId}/`);
    assert.deepEqual(keys, [`degraded/${status.backupId}/manifest.json`, `degraded/${status.backupId}/qkv-1.snap`, `degraded/${status.backupId}/qkv-2.snap`]);
    // The Event follows the status write that made the phase Succeeded.
    let warning: k8s.CoreV1Event | undefined;
    await eventually(
      async () => (warning = (await eventsOf('degraded-1')).find((event) => event.reason === 'BackupMembersMissing')) !== undefined,
      () => 'no BackupMembersMissing Event',
      30_000,
    );
    assert.equal(warning?.type, 'Warning');
    assert.match(warning?.message ?? '', /lacks qkv-3 \(PEER_UNREACHABLE/);
  });
});
