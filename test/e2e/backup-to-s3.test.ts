// A scheduled backup to S3 and a new release restored from it, on the real kubelet. The
// steps follow docs/operations/backup.md ("Walk-through: a scheduled backup to S3 and a
// restored release"):
//  - versitygw, a real S3 server, runs on this machine at its address on the pods'
//    bridge (the one host address the pods route to); the credentials go into a Secret;
//  - release A (3 members) is installed with spec.backup every 60 s to s3://, the
//    Secret named in backup.s3.credentialsSecret; keys are written with W=2 through
//    kubectl port-forward, each put's version kept;
//  - the test waits for a scheduled QuorumKVBackup that started after the last write was
//    acknowledged to succeed, and finds its manifest in the bucket;
//  - release B (3 members, another vnode count, so other tokens) is installed with
//    spec.bootstrap.restore naming that set; `kubectl wait --for=condition=Bootstrapped`;
//  - every key reads back from B with its value and its version.
//
// Needs the real cluster of the e2e tier (test/support/real-kube-cluster.ts) and versitygw
// (scripts/s3-test-env.sh, QKV_S3_SERVER); each skips and says why without it, unless
// QKV_E2E_REQUIRED=1 or QKV_S3_SERVER_REQUIRED=1 (CI), where that fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { POD_NETWORK_HOST_ADDRESS, REPO_ROOT, RealKubeCluster, runCommand, skipWithoutRealCluster, waitFor, type PortForward } from '../support/real-kube-cluster.js';
import { S3TestServer, skipWithoutS3Server } from '../support/s3-server.js';
import { tempDir } from '../support/temp-dir.js';

const NAMESPACE = 'quorumkv-backup';
const SECRET = 'qkv-s3';
const BUCKET = 'qkv-e2e-backups';
const PREFIX = 'scheduled';
const RELEASE_A = 'qkv-a';
const RELEASE_B = 'qkv-b';
const fullname = (release: string): string => `${release}-quorumkv`;
const CLIENT_PORT = 7400;
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const KEYS = 200;
const INSTALL_TIMEOUT = '10m';
/** The scheduled backup to wait for: one period (60 s, the shortest) and its run. */
const BACKUP_WAIT_MS = 240_000;
const BOOTSTRAP_WAIT = '300s';

interface BackupJson {
  metadata: { name: string };
  status?: { phase?: string; backupId?: string; startTime?: string; records?: number; bytes?: number; conditions?: Array<{ type: string; reason?: string; message?: string }> };
}
interface ClusterJson {
  status?: {
    bootstrap?: { phase?: string; backupId?: string; attempts?: number; records?: number; startTime?: string; completionTime?: string };
    conditions?: Array<{ type: string; status: string; reason?: string }>;
  };
}
interface Written {
  value: string;
  version: unknown;
}

const skip = skipWithoutRealCluster() || skipWithoutS3Server();

describe('a scheduled backup to S3 and a release restored from it, on a real kubelet', { skip, timeout: 1_800_000 }, () => {
  let cluster: RealKubeCluster;
  let s3: S3TestServer;
  const forwards: PortForward[] = [];
  const clients: QuorumKvClient[] = [];
  const written = new Map<string, Written>();
  let lastAckMs = 0;
  let backupId = '';
  let destination = '';

  before(async () => {
    cluster = await RealKubeCluster.acquire();
    s3 = await S3TestServer.start({ host: POD_NETWORK_HOST_ADDRESS });
    await s3.createBucket(BUCKET);
    destination = `s3://${BUCKET}/${PREFIX}?endpoint=${s3.endpoint}`;
    await cluster.kubectl(['create', 'namespace', NAMESPACE]);
    await cluster.kubectl([
      '-n', NAMESPACE, 'create', 'secret', 'generic', SECRET,
      `--from-literal=AWS_ACCESS_KEY_ID=${s3.credentials.accessKeyId}`,
      `--from-literal=AWS_SECRET_ACCESS_KEY=${s3.credentials.secretAccessKey}`,
    ]);
  });

  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(forwards.map((opened) => opened.close()));
    if (cluster !== undefined) {
      for (const release of [RELEASE_B, RELEASE_A]) await cluster.helm(['uninstall', release, '--namespace', NAMESPACE, '--wait']).catch(() => undefined);
      await cluster.kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
    }
    await s3?.stop();
    await cluster?.release();
  });

  /** A values file as a user writes it, and `helm install --wait` with it. */
  const install = async (release: string, values: string): Promise<number> => {
    const file = join(await tempDir(undefined, `qkv-e2e-${release}-values-`), 'values.yaml');
    await writeFile(file, values);
    const started = Date.now();
    await cluster.helm(['install', release, 'helm/quorumkv', '--namespace', NAMESPACE, '-f', file, '--wait', '--timeout', INSTALL_TIMEOUT]);
    return Date.now() - started;
  };

  /** A client of the release through port-forwards to its three members, with an admin certificate from its CA. */
  const clientOf = async (release: string): Promise<QuorumKvClient> => {
    const caDir = await tempDir(undefined, `qkv-e2e-${release}-ca-`);
    const certsDir = await tempDir(undefined, `qkv-e2e-${release}-certs-`);
    for (const [field, file] of [['tls\\.crt', 'ca.crt'], ['tls\\.key', 'ca.key']] as const) {
      const { stdout } = await cluster.kubectl(['-n', NAMESPACE, 'get', 'secret', `${fullname(release)}-ca`, '-o', `jsonpath={.data.${field}}`]);
      await writeFile(join(caDir, file), Buffer.from(stdout, 'base64'));
    }
    await copyFile(join(caDir, 'ca.crt'), join(certsDir, 'ca.crt'));
    await runCommand(process.execPath, [CLI, 'certs', 'create-client', '--ca-dir', caDir, '--certs-dir', certsDir, '--user', 'admin']);
    const addresses: string[] = [];
    for (const ordinal of [0, 1, 2]) {
      const opened = await cluster.portForward(NAMESPACE, `${fullname(release)}-${ordinal}`, CLIENT_PORT);
      forwards.push(opened);
      addresses.push(opened.address);
    }
    const client = new QuorumKvClient({ addresses, timeoutMs: 10_000, credentials: clientChannelCredentials(certsDir, 'admin') });
    clients.push(client);
    return client;
  };

  test('release A backs up to S3 on its schedule: a set that started after every write was acknowledged succeeds', async (t) => {
    const took = await install(
      RELEASE_A,
      [
        'backup:',
        '  s3:',
        `    credentialsSecret: ${SECRET}`,
        'cluster:',
        '  backup:',
        `    destination: ${JSON.stringify(destination)}`,
        '    every: 60s',
        '    retention: 3',
        '',
      ].join('\n'),
    );
    t.diagnostic(`helm install ${RELEASE_A} --wait took ${took} ms`);
    const client = await clientOf(RELEASE_A);
    const writeStarted = Date.now();
    for (let index = 0; index < KEYS; index += 1) {
      const key = `backup-e2e/key-${index}`;
      const value = `value-${index}-${randomBytes(6).toString('hex')}`;
      const answer = await waitFor(`put ${key} with W=2`, 60_000, async () => client.put(Buffer.from(key), Buffer.from(value), { w: 2 }));
      assert.ok(answer.acks >= 2, `${key}: ${answer.acks} acks`);
      written.set(key, { value, version: answer.version });
    }
    lastAckMs = Date.now();
    t.diagnostic(`${KEYS} puts at W=2 through port-forward in ${lastAckMs - writeStarted} ms`);

    const waitStarted = Date.now();
    let seen: BackupJson[] = [];
    const backup = await waitFor('a scheduled backup that started after the last acknowledged write, Succeeded', BACKUP_WAIT_MS, async () => {
      seen = (await cluster.kubectlJson<{ items: BackupJson[] }>(['-n', NAMESPACE, 'get', 'quorumkvbackups', '-l', `quorumkv.io/schedule=${fullname(RELEASE_A)}`])).items;
      // startTime has whole seconds: later than the last ack means it began after it.
      const after = seen.filter((item) => Date.parse(item.status?.startTime ?? '') > lastAckMs);
      const failed = after.find((item) => item.status?.phase === 'Failed');
      if (failed !== undefined) throw new Error(`scheduled backup ${failed.metadata.name} failed: ${JSON.stringify(failed.status?.conditions)}`);
      return after.find((item) => item.status?.phase === 'Succeeded');
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; scheduled backups: ${JSON.stringify(seen.map((item) => [item.metadata.name, item.status?.phase, item.status?.startTime]))}`);
    });
    backupId = backup.status!.backupId!;
    t.diagnostic(`scheduled backup ${backup.metadata.name} (set ${backupId}) succeeded ${Date.now() - waitStarted} ms after the writes: ${backup.status!.records} records, ${backup.status!.bytes} bytes`);
    assert.ok((backup.status!.records ?? 0) >= KEYS, `records ${backup.status!.records}`);

    const store = s3.client();
    try {
      const listed = await store.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/${backupId}/` }));
      const names = (listed.Contents ?? []).map((object) => object.Key ?? '');
      assert.ok(names.includes(`${PREFIX}/${backupId}/manifest.json`), names.join(', '));
      assert.equal(names.length, 4, `a manifest and one file per member: ${names.join(', ')}`);
    } finally {
      store.destroy();
    }
  });

  test('release B bootstraps from that set: Bootstrapped turns True, and every key reads back with its value and version', async (t) => {
    assert.notEqual(backupId, '', 'the backup of the previous test');
    const started = Date.now();
    const took = await install(
      RELEASE_B,
      [
        'backup:',
        '  s3:',
        `    credentialsSecret: ${SECRET}`,
        'cluster:',
        '  vnodesPerNode: 64',
        '  bootstrap:',
        '    restore:',
        `      destination: ${JSON.stringify(destination)}`,
        `      backupId: ${backupId}`,
        '',
      ].join('\n'),
    );
    t.diagnostic(`helm install ${RELEASE_B} --wait took ${took} ms`);
    await cluster.kubectl(['-n', NAMESPACE, 'wait', '--for=condition=Bootstrapped', `quorumkvcluster/${fullname(RELEASE_B)}`, `--timeout=${BOOTSTRAP_WAIT}`], 330_000);
    t.diagnostic(`from helm install to Bootstrapped=True: ${Date.now() - started} ms`);
    const resource = await cluster.kubectlJson<ClusterJson>(['-n', NAMESPACE, 'get', 'quorumkvcluster', fullname(RELEASE_B)]);
    const bootstrap = resource.status?.bootstrap;
    t.diagnostic(`status.bootstrap: ${JSON.stringify(bootstrap)}`);
    assert.equal(bootstrap?.phase, 'Succeeded');
    assert.equal(bootstrap?.backupId, backupId);
    assert.ok((bootstrap?.records ?? 0) >= KEYS, `records ${bootstrap?.records}`);
    const events = await cluster.kubectlJson<{ items: Array<{ reason: string; type: string }> }>(['-n', NAMESPACE, 'get', 'events', '--field-selector', `involvedObject.name=${fullname(RELEASE_B)}`]);
    const reasons = events.items.map((event) => `${event.type}/${event.reason}`);
    assert.ok(reasons.includes('Normal/BootstrapStarted') && reasons.includes('Normal/BootstrapSucceeded'), reasons.join(', '));

    const client = await clientOf(RELEASE_B);
    let checked = 0;
    for (const [key, expected] of written) {
      const answer = await waitFor(`get ${key} from ${RELEASE_B}`, 60_000, async () => client.get(Buffer.from(key), { r: 2 }));
      assert.equal(answer.found, true, `${key} is in ${RELEASE_B}`);
      assert.equal(Buffer.from(answer.value).toString(), expected.value, key);
      assert.deepEqual(answer.version, expected.version, `${key} keeps the version of its put in ${RELEASE_A}`);
      checked += 1;
    }
    assert.equal(checked, KEYS);
  });
});
