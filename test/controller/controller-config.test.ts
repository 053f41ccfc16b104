// `qkv controller`'s configuration: flags over QKV_* environment over defaults, the one
// required field, and a clear error for nonsense.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTROLLER_CONFIG_DEFAULTS, loadControllerConfig } from '../../src/controller/controller-config.js';

test('the cluster resource is required; the StatefulSet defaults to its name', () => {
  assert.throws(() => loadControllerConfig({ argv: [], env: {} }), (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && /--cluster-resource \(QKV_CLUSTER_RESOURCE\) is required/.test(error.message));
  const config = loadControllerConfig({ argv: ['--cluster-resource', 'qkv-quorumkv', '--certs-dir', '/tls'], env: {} });
  assert.deepEqual(config, { ...CONTROLLER_CONFIG_DEFAULTS, clusterResource: 'qkv-quorumkv', statefulset: 'qkv-quorumkv', certsDir: '/tls' });
});

test('the admin client certificate is required unless the members run insecure', () => {
  assert.throws(() => loadControllerConfig({ argv: ['--cluster-resource', 'x'], env: {} }), (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && /--certs-dir \(QKV_CERTS_DIR\) is required/.test(error.message));
  assert.equal(loadControllerConfig({ argv: ['--cluster-resource', 'x'], env: { QKV_INSECURE: 'true' } }).insecure, true);
  const config = loadControllerConfig({ argv: ['--cluster-resource', 'x'], env: { QKV_CERTS_DIR: '/tls', QKV_USER: 'operator' } });
  assert.deepEqual([config.certsDir, config.user, config.insecure], ['/tls', 'operator', false]);
});

test('flags win over the environment, which wins over the defaults', () => {
  const env = { QKV_CLUSTER_RESOURCE: 'from-env', QKV_STATEFULSET: 'set-from-env', QKV_POLL_MS: '500', QKV_RESYNC_MS: '3000', QKV_INSECURE: 'true' };
  const config = loadControllerConfig({ argv: ['--poll-ms', '250', '--log-pretty'], env });
  assert.deepEqual([config.clusterResource, config.statefulset, config.pollMs, config.resyncMs, config.logPretty], ['from-env', 'set-from-env', 250, 3000, true]);
});

test('nonsense is refused with the source named', () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--cluster-resource', 'x', '--insecure', '--poll-ms', '10'], {}, /--poll-ms: must be an integer in 50\.\./],
    [['--cluster-resource', 'x', '--insecure'], { QKV_RPC_TIMEOUT_MS: 'soon' }, /QKV_RPC_TIMEOUT_MS: must be an integer/],
    [['--cluster-resource', 'x', '--replicas', '3'], {}, /replicas/],
    [['--cluster-resource', 'x', '--insecure', '--log-level', 'loud'], {}, /--log-level: must be one of/],
  ];
  for (const [argv, env, reason] of cases) {
    assert.throws(() => loadControllerConfig({ argv, env }), (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && reason.test(error.message), `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
});
