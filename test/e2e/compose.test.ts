// The compose mode (deploy/compose.yaml) with Debian's podman and podman-compose, on the
// image built from the Dockerfile (scripts/k8s-images.sh, loaded by
// scripts/compose-env.sh): the `certs` service makes the certificates with `qkv certs`,
// three nodes come up with mutual TLS and find each other through their static peers,
// a client with the admin certificate puts with W=3 and reads with R=3 through every
// node's published port, and after `down` (which stops each node with SIGTERM: it
// drains and exits 0) and `up` again the data is still there on the named volumes.
//
// Needs root, podman, podman-compose, runc and the image; skips and says why without
// them, unless QKV_COMPOSE_REQUIRED=1 (CI), which turns a missing part into a failure.
// The containers' network is in 198.18.128.0/20 (scripts/compose-env.sh) and, while the
// test runs, the host drops what they send anywhere else (a chain of its own in FORWARD).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { freePort } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const COMPOSE_FILE = fileURLToPath(new URL('../../../deploy/compose.yaml', import.meta.url));
const CHART = fileURLToPath(new URL('../../../helm/quorumkv/Chart.yaml', import.meta.url));
const CACHE_DIR = process.env.QKV_K8S_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'quorumkv');
const PODMAN_CONF_DIR = process.env.QKV_PODMAN_CONF_DIR ?? join(CACHE_DIR, 'podman');
const CONTAINER_RANGE = '198.18.128.0/20';
const GUARD_CHAIN = 'QKV-COMPOSE-TEST';
const PROJECT = 'qkv-compose-test';
const NODES = ['qkv-1', 'qkv-2', 'qkv-3'] as const;
const READY_TIMEOUT_MS = 180_000;

/** The image tag the chart runs by default: its appVersion. */
const IMAGE = `quorumkv:${/^appVersion:\s*"?([^"\n]+)"?$/m.exec(readFileSync(CHART, 'utf8'))![1]}`;

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

function skipReason(): string | false {
  const missing = ['podman', 'podman-compose', 'runc', 'iptables'].filter((command) => !has(command));
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = 'needs root (podman with runc, and an iptables guard)';
  else if (missing.length > 0) reason = `missing ${missing.join(', ')} (bash scripts/compose-env.sh installs them)`;
  else if (!existsSync(join(PODMAN_CONF_DIR, 'containers.conf'))) reason = `no podman settings in ${PODMAN_CONF_DIR}: run bash scripts/k8s-images.sh, then bash scripts/compose-env.sh`;
  if (reason === undefined) return false;
  if (process.env.QKV_COMPOSE_REQUIRED === '1') throw new Error(reason);
  return reason;
}

interface Run {
  readonly code: number;
  readonly output: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function mustRun(command: string, args: readonly string[], env?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<string> {
  const result = await run(command, args, env, timeoutMs);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} failed:\n${result.output.slice(-4000)}`);
  return result.output;
}

/** Drops everything the containers send off their own range, for as long as the test runs. */
async function guardNetwork(): Promise<() => Promise<void>> {
  await run('iptables', ['-N', GUARD_CHAIN]);
  await mustRun('iptables', ['-F', GUARD_CHAIN]);
  await mustRun('iptables', ['-A', GUARD_CHAIN, '-s', CONTAINER_RANGE, '!', '-d', CONTAINER_RANGE, '-j', 'DROP']);
  await mustRun('iptables', ['-I', 'FORWARD', '1', '-j', GUARD_CHAIN]);
  return async () => {
    await run('iptables', ['-D', 'FORWARD', '-j', GUARD_CHAIN]);
    await run('iptables', ['-F', GUARD_CHAIN]);
    await run('iptables', ['-X', GUARD_CHAIN]);
  };
}

async function waitReady(httpPorts: readonly number[], compose: (...args: string[]) => Promise<Run>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answers = await Promise.all(
      httpPorts.map((port) =>
        fetch(`http://127.0.0.1:${port}/readyz`).then(
          (response) => response.status,
          () => 0,
        ),
      ),
    );
    if (answers.every((status) => status === 200)) return;
    if (Date.now() > deadline) {
      const logs = await compose('logs');
      assert.fail(`the compose nodes were not ready after ${READY_TIMEOUT_MS} ms (readyz: ${answers.join(', ')}):\n${logs.output.slice(-6000)}`);
    }
    await sleep(1_000);
  }
}

test('deploy/compose.yaml: three TLS nodes from the image, certificates by qkv certs, data kept across down and up', { skip: skipReason(), timeout: 900_000 }, async (t) => {
  const certsDir = await tempDir(undefined, 'qkv-compose-certs-');
  const grpcPorts = [await freePort(), await freePort(), await freePort()];
  const httpPorts = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(PODMAN_CONF_DIR, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(PODMAN_CONF_DIR, 'storage.conf'),
    QKV_IMAGE: IMAGE,
    QKV_COMPOSE_CERTS_DIR: certsDir,
    ...Object.fromEntries(NODES.flatMap((_, i) => [[`QKV_COMPOSE_GRPC_PORT_${i + 1}`, String(grpcPorts[i])], [`QKV_COMPOSE_HTTP_PORT_${i + 1}`, String(httpPorts[i])]])),
  };
  const compose = (...args: string[]): Promise<Run> => run('podman-compose', ['-p', PROJECT, '-f', COMPOSE_FILE, ...args], env);

  const removeGuard = await guardNetwork();
  // podman-compose's `down` leaves the project's network; the test removes it too.
  const removeAll = async (): Promise<void> => {
    await compose('down', '-v');
    await run('podman', ['network', 'rm', '-f', `${PROJECT}_default`], env);
  };
  t.after(async () => {
    await removeAll();
    await removeGuard();
  });
  // A run interrupted before its clean-up leaves its containers behind; start afresh.
  await removeAll();

  const up = await compose('up', '-d');
  assert.equal(up.code, 0, up.output.slice(-4000));
  await waitReady(httpPorts, compose);

  // The certs service made a CA, a certificate per node and the admin's client certificate.
  for (const file of ['ca/ca.crt', 'ca/ca.key', 'qkv-1/node.crt', 'qkv-2/node.key', 'qkv-3/ca.crt', 'client/client.admin.crt']) {
    assert.ok(existsSync(join(certsDir, file)), `the certs service did not make ${file}`);
  }
  const credentials = clientChannelCredentials(join(certsDir, 'client'), 'admin');
  const clients = grpcPorts.map((port) => new QuorumKvClient({ addresses: [`127.0.0.1:${port}`], timeoutMs: 10_000, credentials }));
  t.after(() => clients.forEach((client) => client.close()));

  // Without a client certificate the node refuses the connection: TLS is really on.
  const anonymous = new QuorumKvClient({ addresses: [`127.0.0.1:${grpcPorts[0]}`], timeoutMs: 5_000 });
  await assert.rejects(anonymous.get(Buffer.from('any')));
  anonymous.close();

  const keys = NODES.map((node) => Buffer.from(`compose/${node}`));
  for (const [i, client] of clients.entries()) {
    const written = await client.put(keys[i]!, Buffer.from(`written through ${NODES[i]}`), { w: 3 });
    assert.equal(written.acks, 3);
  }
  // Every key through every node at R=3: the three members replicate to each other.
  for (const client of clients) {
    for (const [i, key] of keys.entries()) {
      const read = await client.get(key, { r: 3 });
      assert.equal(read.found, true);
      assert.equal(read.value.toString(), `written through ${NODES[i]}`);
    }
  }

  // `stop` sends SIGTERM; each node drains and exits 0 rather than being killed after the
  // grace period. `down` then removes the containers and keeps the named volumes.
  const stop = await compose('stop');
  assert.equal(stop.code, 0, stop.output.slice(-4000));
  for (const node of NODES) {
    const exitCode = await mustRun('podman', ['inspect', `${PROJECT}_${node}_1`, '--format', '{{.State.ExitCode}}'], env);
    assert.equal(exitCode.trim(), '0', `${node} did not exit 0 on SIGTERM`);
  }
  const down = await compose('down');
  assert.equal(down.code, 0, down.output.slice(-4000));
  for (const node of NODES) {
    const state = await mustRun('podman', ['volume', 'inspect', `${PROJECT}_${node}-data`, '--format', '{{.Name}}'], env);
    assert.match(state, new RegExp(`${PROJECT}_${node}-data`), `the data volume of ${node} is gone after down`);
  }

  const upAgain = await compose('up', '-d');
  assert.equal(upAgain.code, 0, upAgain.output.slice(-4000));
  await waitReady(httpPorts, compose);
  for (const [i, key] of keys.entries()) {
    const read = await clients[(i + 1) % clients.length]!.get(key, { r: 3 });
    assert.equal(read.found, true, `${key.toString()} is gone after down and up`);
    assert.equal(read.value.toString(), `written through ${NODES[i]}`);
  }
});
