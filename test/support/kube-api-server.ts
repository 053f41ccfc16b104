// A real Kubernetes API server for tests (the envtest approach): etcd and kube-apiserver
// run as child processes on loopback, with RBAC on, a generated service-account signing
// key and a static token for the admin. There is no kubelet and no controller manager,
// so nothing schedules or runs pods: tests create Pod objects and set their status
// themselves, and create ServiceAccount objects before pods that name them.
//
// The binaries come from scripts/k8s-test-env.sh, which builds or installs them into a
// cache outside the repository. `findKubeBinaries()` returns undefined when they are
// missing so that a developer who never ran the script gets skipped tests with a clear
// message; CI runs the script first (.ci/run), and sets QKV_K8S_REQUIRED=1 so that a
// missing binary there fails instead of skipping.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { freePort } from './free-port.js';

/** The Kubernetes minor the script builds; keep in step with scripts/k8s-test-env.sh. */
export const KUBE_VERSION = '1.34.4';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface KubeBinaries {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiServer: string;
}

/** The binary directory: QKV_K8S_BIN_DIR, else the script's default cache location. */
export function kubeBinDir(): string {
  if (process.env.QKV_K8S_BIN_DIR) return process.env.QKV_K8S_BIN_DIR;
  const cache = process.env.QKV_K8S_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'quorumkv');
  return join(cache, `k8s-${KUBE_VERSION}`, 'bin');
}

export function findKubeBinaries(): KubeBinaries | undefined {
  const dir = kubeBinDir();
  const binaries = { dir, etcd: join(dir, 'etcd'), kubeApiServer: join(dir, 'kube-apiserver') };
  return [binaries.etcd, binaries.kubeApiServer].every((path) => existsSync(path)) ? binaries : undefined;
}

/** The helm binary the script builds, or undefined. */
export function findHelm(): string | undefined {
  const path = join(kubeBinDir(), 'helm');
  return existsSync(path) ? path : undefined;
}

/**
 * cert-manager's CRDs (only the CRDs: no cert-manager runs) that the script copies from
 * its Go module, for the chart's tls.mode=certManager; or undefined.
 */
export function findCertManagerCrds(): string | undefined {
  const path = join(kubeBinDir(), 'cert-manager-crds');
  return existsSync(join(path, 'VERSION')) ? path : undefined;
}

/** The `skip` option for a test that needs cert-manager's CRDs; as skipWithoutKube. */
export function skipWithoutCertManagerCrds(): string | false {
  if (findCertManagerCrds() !== undefined) return false;
  const reason = `cert-manager CRDs not found in ${kubeBinDir()}: run scripts/k8s-test-env.sh`;
  if (process.env.QKV_K8S_REQUIRED === '1') throw new Error(reason);
  return reason;
}

/**
 * The `skip` option for a test that needs the API server: false when the binaries are
 * there, else the reason. Under QKV_K8S_REQUIRED=1 (CI) a missing binary throws.
 */
export function skipWithoutKube(needHelm = false): string | false {
  if (findKubeBinaries() !== undefined && (!needHelm || findHelm() !== undefined)) return false;
  const reason = `kube-apiserver, etcd${needHelm ? ' or helm' : ''} not found in ${kubeBinDir()}: run scripts/k8s-test-env.sh`;
  if (process.env.QKV_K8S_REQUIRED === '1') throw new Error(reason);
  return reason;
}

export { freePort };

export class KubeApiServer {
  private constructor(
    readonly url: string,
    readonly adminToken: string,
    /** A kubeconfig file for the admin (system:masters), for processes and helm. */
    readonly kubeconfigPath: string,
    private readonly dir: string,
    private readonly processes: ChildProcess[],
    private readonly output: string[],
  ) {}

  static async start(binaries: KubeBinaries): Promise<KubeApiServer> {
    const dir = await mkdtemp(join(tmpdir(), 'qkv-kube-'));
    const output: string[] = [];
    const processes: ChildProcess[] = [];
    try {
      const [etcdClientPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
      processes.push(
        launch(binaries.etcd, [
          '--name=qkv-test',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-cluster=qkv-test=http://127.0.0.1:${etcdPeerPort}`,
          '--logger=zap',
          '--log-level=error',
        ], output, 'etcd'),
      );

      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyPath = join(dir, 'sa.key');
      await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const adminToken = randomBytes(24).toString('hex');
      const tokenFile = join(dir, 'tokens.csv');
      await writeFile(tokenFile, `${adminToken},qkv-admin,qkv-admin,"system:masters"\n`, { mode: 0o600 });

      processes.push(
        launch(binaries.kubeApiServer, [
          `--etcd-servers=${etcdUrl}`,
          `--etcd-prefix=/qkv-test`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          `--cert-dir=${join(dir, 'certs')}`,
          `--token-auth-file=${tokenFile}`,
          '--authorization-mode=RBAC',
          `--service-account-key-file=${keyPath}`,
          `--service-account-signing-key-file=${keyPath}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          // Without a controller manager nobody creates the ServiceAccount token
          // machinery the ServiceAccount admission plugin expects.
          '--disable-admission-plugins=ServiceAccount',
          '--v=0',
        ], output, 'kube-apiserver'),
      );

      const url = `https://127.0.0.1:${apiPort}`;
      const kubeconfigPath = join(dir, 'kubeconfig');
      await writeFile(kubeconfigPath, kubeconfigText(url, adminToken, 'qkv-admin'), { mode: 0o600 });
      const server = new KubeApiServer(url, adminToken, kubeconfigPath, dir, processes, output);
      await server.waitReady(processes);
      return server;
    } catch (error) {
      await stopAll(processes);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\n--- output ---\n${output.join('').slice(-4000)}`, { cause: error });
    }
  }

  /** A client-node KubeConfig for the admin, or for the given bearer token. */
  kubeConfig(token = this.adminToken): k8s.KubeConfig {
    const config = new k8s.KubeConfig();
    config.loadFromString(kubeconfigText(this.url, token, 'user'));
    return config;
  }

  /** Writes a kubeconfig file for another identity (a service account's token, say). */
  async writeKubeconfig(name: string, token: string): Promise<string> {
    const path = join(this.dir, `kubeconfig-${name}`);
    await writeFile(path, kubeconfigText(this.url, token, name), { mode: 0o600 });
    return path;
  }

  /** One request as the admin; for what the typed clients cannot express. */
  request(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
    return httpsRequest(method, `${this.url}${path}`, this.adminToken, body, contentType);
  }

  recentOutput(): string {
    return this.output.join('').slice(-4000);
  }

  async stop(): Promise<void> {
    // The API server first, so it does not spend its shutdown retrying a dead etcd.
    await stopAll([...this.processes].reverse());
    await rm(this.dir, { recursive: true, force: true });
  }

  private async waitReady(processes: readonly ChildProcess[]): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      for (const child of processes) {
        if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with code ${child.exitCode} during start`);
      }
      try {
        const { status, body } = await httpsRequest('GET', `${this.url}/readyz`, this.adminToken);
        if (status === 200) return;
        last = `${status} ${body}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`kube-apiserver not ready within ${START_TIMEOUT_MS} ms: ${last}`);
  }
}

function kubeconfigText(server: string, token: string, user: string): string {
  // The serving certificate is self-signed by kube-apiserver at start, so the test
  // clients skip verification; they only ever talk to 127.0.0.1.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'qkv-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'qkv-test', context: { cluster: 'qkv-test', user, namespace: 'default' } }],
    'current-context': 'qkv-test',
  });
}

function launch(command: string, args: readonly string[], output: string[], name: string): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => {
    output.push(`[${name}] ${chunk.toString()}`);
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => output.push(`[${name}] spawn failed: ${error.message}\n`));
  return child;
}

async function stopAll(processes: readonly ChildProcess[]): Promise<void> {
  for (const child of processes) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

function httpsRequest(method: string, url: string, token: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = contentType;
    const req = request(url, { method, headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}
