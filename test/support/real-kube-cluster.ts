// A real single-node Kubernetes for the end-to-end tier: kubelet, containerd, runc and
// the control plane, started and stopped by scripts/k8s-cluster.sh.
//
// The tier shares one cluster: scripts/run-tests.mjs brings it up before the e2e files
// and tears it down after them (also when they fail), passing its kubeconfig in
// QKV_E2E_KUBECONFIG. A test file run on its own (`node --test dist/test/e2e/x.test.js`)
// brings up a cluster of its own the same way. Prerequisites (scripts/k8s-test-env.sh,
// scripts/k8s-node-env.sh, scripts/k8s-images.sh, root): when they are missing the
// tests skip and say why, except under QKV_E2E_REQUIRED=1 (CI), where that fails.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeBinDir } from './kube-api-server.js';
import { tempDir } from './temp-dir.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLUSTER_SCRIPT = join(REPO_ROOT, 'scripts', 'k8s-cluster.sh');
/**
 * The machine's own address on the pods' bridge (scripts/k8s-cluster.sh's pod_gateway):
 * the one host address the pods can reach (they route 198.18.0.0/15 only), so a server a
 * test starts on the host for the pods (an S3 store) listens on it.
 */
export const POD_NETWORK_HOST_ADDRESS = '198.18.0.1';
/** Bringing the cluster up takes ~50 s on two idle cores; give a loaded machine room. */
const CLUSTER_START_TIMEOUT_MS = 300_000;
const CLUSTER_STOP_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 600_000;
const PORT_FORWARD_READY_TIMEOUT_MS = 30_000;

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end; rejects with its output when it exits non-zero. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { readonly timeoutMs?: number; readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? COMMAND_TIMEOUT_MS, env: options.env ?? process.env, cwd: options.cwd ?? REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error === null
          ? resolve({ stdout, stderr })
          : reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}\n${stdout}`)),
    ),
  );
}

/**
 * The `skip` option of an e2e test: false when a cluster can be had, else the reason.
 * Under QKV_E2E_REQUIRED=1 a missing prerequisite throws instead.
 */
export function skipWithoutRealCluster(): string | false {
  const reason = missingPrerequisite();
  if (reason === undefined) return false;
  if (process.env.QKV_E2E_REQUIRED === '1') throw new Error(`QKV_E2E_REQUIRED=1 but ${reason}`);
  return reason;
}

function missingPrerequisite(): string | undefined {
  if (process.env.QKV_E2E_UNAVAILABLE) return process.env.QKV_E2E_UNAVAILABLE;
  if (process.env.QKV_E2E_KUBECONFIG) return undefined;
  if (process.getuid?.() !== 0) return 'the e2e cluster needs root (containerd, iptables, mounts)';
  for (const binary of ['kubectl', 'kubelet', 'helm', 'kube-apiserver']) {
    if (!existsSync(join(kubeBinDir(), binary))) {
      return `${binary} not found in ${kubeBinDir()}: run scripts/k8s-test-env.sh and scripts/k8s-node-env.sh`;
    }
  }
  // The script's default: images/ beside the per-version bin directory's parent.
  const imagesDir = process.env.QKV_E2E_IMAGES_DIR ?? join(kubeBinDir(), '..', '..', 'images');
  for (const image of ['pause.tar', 'quorumkv.tar']) {
    if (!existsSync(join(imagesDir, image))) return `${image} not found in ${imagesDir}: run scripts/k8s-images.sh`;
  }
  return undefined;
}

/** A running cluster and the clients of it the tests use. */
export class RealKubeCluster {
  private constructor(
    readonly kubeconfig: string,
    private readonly stateDir: string | undefined,
  ) {}

  /** The tier's cluster (QKV_E2E_KUBECONFIG), or a new one of this process's own. */
  static async acquire(): Promise<RealKubeCluster> {
    const shared = process.env.QKV_E2E_KUBECONFIG;
    if (shared) return new RealKubeCluster(shared, undefined);
    const stateDir = await tempDir(undefined, 'qkv-e2e-cluster-');
    try {
      const { stdout } = await runCommand('bash', [CLUSTER_SCRIPT, 'up', stateDir], { timeoutMs: CLUSTER_START_TIMEOUT_MS });
      return new RealKubeCluster(stdout.trim().split('\n').at(-1)!, stateDir);
    } catch (error) {
      await runCommand('bash', [CLUSTER_SCRIPT, 'down', stateDir], { timeoutMs: CLUSTER_STOP_TIMEOUT_MS }).catch(() => undefined);
      throw error;
    }
  }

  /** Tears down a cluster this process started; the tier's is torn down by the runner. */
  async release(): Promise<void> {
    if (this.stateDir === undefined) return;
    await runCommand('bash', [CLUSTER_SCRIPT, 'down', this.stateDir], { timeoutMs: CLUSTER_STOP_TIMEOUT_MS });
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.kubeconfig };
  }

  kubectl(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runCommand(join(kubeBinDir(), 'kubectl'), args, { env: this.env, timeoutMs });
  }

  helm(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runCommand(join(kubeBinDir(), 'helm'), args, { env: this.env, timeoutMs });
  }

  async kubectlJson<T>(args: readonly string[]): Promise<T> {
    const { stdout } = await this.kubectl([...args, '-o', 'json']);
    return JSON.parse(stdout) as T;
  }

  /**
   * `kubectl port-forward` of a pod's port to a free loopback port, as a user does.
   * Resolves once kubectl says it forwards.
   */
  portForward(namespace: string, pod: string, remotePort: number): Promise<PortForward> {
    const child = spawn(join(kubeBinDir(), 'kubectl'), ['-n', namespace, 'port-forward', `pod/${pod}`, `:${remotePort}`], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new Error(`kubectl port-forward ${pod} not ready after ${PORT_FORWARD_READY_TIMEOUT_MS} ms: ${output}`));
      }, PORT_FORWARD_READY_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(new PortForward(child, Number(match[1])));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward ${pod} exited ${code}: ${output}`));
      });
    });
  }
}

export class PortForward {
  constructor(
    private readonly child: ChildProcess,
    readonly localPort: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.localPort}`;
  }

  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** Polls `check` until it returns a value, or fails with what it last saw. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
