// Users and roles from the QuorumKVCluster, applied live by a real node with TLS: a
// client certificate's user gets nothing until spec.users names it, then exactly its
// roles, and loses them again when the spec drops it — with no restart. The built-in
// admin keeps every role throughout. Real kube-apiserver, real node process, real
// certificates.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../../src/kubernetes/cluster-spec.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { KubeApiServer, findKubeBinaries, freePort, skipWithoutKube } from '../support/kube-api-server.js';
import { installCrd } from '../support/kube-crd.js';
import { TEST_SELECTOR, createNamespace, createPod, eventually, setPodStatus } from '../support/kube-pods.js';
import { NodeProcess } from '../support/node-process.js';
import { tempDir } from '../support/temp-dir.js';

describe('users from the QuorumKVCluster (real API server, real node with TLS)', { skip: skipWithoutKube() }, () => {
  let server: KubeApiServer;
  let custom: k8s.CustomObjectsApi;
  let core: k8s.CoreV1Api;
  const namespace = 'qkv-users';
  const name = 'users';
  const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };

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

  const patchUsers = (users: unknown): Promise<unknown> =>
    custom.patchNamespacedCustomObject({ ...base, name, body: { spec: { users } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));

  test('roles follow spec.users live; the built-in admin keeps every role', async () => {
    await custom.createNamespacedCustomObject({
      ...base,
      body: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', metadata: { name }, spec: { replicationFactor: 1, vnodesPerNode: 16 } },
    });
    const certsDir = join(await tempDir(), 'certs');
    const certificates = await ensureLocalCertificates({ dir: certsDir, nodeIds: ['quorumkv-0'], users: ['admin', 'app'] });
    const grpcPort = await freePort();
    const peerPort = await freePort();
    await createPod(core, namespace, 'quorumkv-0', { grpc: grpcPort, peer: peerPort });
    await setPodStatus(core, namespace, 'quorumkv-0', '127.0.0.6', true);
    const node = NodeProcess.start(
      ['--node-id', 'quorumkv-0', '--host', '127.0.0.6', '--grpc-port', String(grpcPort), '--peer-port', String(peerPort), '--http-port', String(await freePort()),
        '--tls-dir', certificates.nodeDirs.get('quorumkv-0')!, '--storage', 'memory', '--replication-factor', '1', '--vnodes', '16',
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
