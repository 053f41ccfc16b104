// Starts a quorumkv cluster on loopback: `size` `qkv server` processes with durable
// storage, the given N and fsync policy, and static peers. Ready when every node's
// /readyz answers 200. TLS as a user runs it (a CA, node and admin client certificates
// made under the run's directory) unless `insecure`. With `cpuProfileDir` each node runs under `--cpu-prof` and
// writes a V8 profile there when it is stopped (the input of the performance pass).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-ports.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import { totalCpuSeconds, type LaunchOptions, type RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';
/** The compiled `qkv` entry point (dist/bench/compare -> dist/src/cli/main.js). */
export const QKV_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface QuorumKvClusterOptions extends LaunchOptions {
  readonly size: number;
  readonly replicationFactor: number;
  readonly fsync: string;
  /** `memory` separates the storage engine's share from the rest in an experiment; default durable. */
  readonly storage?: 'durable' | 'memory';
  readonly cpuProfileDir?: string;
  /** The `qkv` entry point the nodes run; default this build's (another build's, to compare two). */
  readonly main?: string;
  /** Plaintext with no authentication (--insecure), to measure what TLS costs. */
  readonly insecure?: boolean;
  /** More `qkv server` flags for every node (bench:backup gives --backup-dir). */
  readonly extraArgs?: readonly string[];
}

export interface RunningQuorumKvCluster extends RunningSystem {
  /** Each node's /metrics URL, to look inside a run (WAL syncs, replica call sizes). */
  readonly metricsUrls: readonly string[];
  /** The node processes, in node order (qkv-1 first). */
  readonly processes: readonly ManagedProcess[];
}

export async function startQuorumKvCluster(group: ProcessGroup, options: QuorumKvClusterOptions): Promise<RunningQuorumKvCluster> {
  const ports = await freePorts(options.size * 3, HOST);
  const nodes = Array.from({ length: options.size }, (_, i) => ({ id: `qkv-${i + 1}`, grpcPort: ports[3 * i]!, peerPort: ports[3 * i + 1]!, httpPort: ports[3 * i + 2]! }));
  const peers = nodes.map((node) => `${node.id}=${HOST}:${node.peerPort}`).join(',');
  const certsDir = join(options.dir, 'certs');
  const certificates = options.insecure === true ? undefined : await ensureLocalCertificates({ dir: certsDir, nodeIds: nodes.map((node) => node.id), users: [BUILT_IN_ADMIN] });
  const processes = nodes.map((node) => {
    const dataDir = join(options.dir, node.id);
    mkdirSync(dataDir, { recursive: true });
    const nodeArgs = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
    return ManagedProcess.start(
      group,
      node.id,
      process.execPath,
      [
        ...nodeArgs,
        options.main ?? QKV_MAIN, 'server',
        '--node-id', node.id,
        '--host', HOST,
        '--grpc-port', String(node.grpcPort),
        '--peer-port', String(node.peerPort),
        ...(certificates === undefined ? ['--insecure'] : ['--tls-dir', certificates.nodeDirs.get(node.id)!]),
        '--http-port', String(node.httpPort),
        '--peers', peers,
        '--data-dir', dataDir,
        '--storage', options.storage ?? 'durable',
        '--fsync', options.fsync,
        '--replication-factor', String(options.replicationFactor),
        '--log-level', 'warn',
        ...(options.extraArgs ?? []),
      ],
      join(options.dir, `${node.id}.log`),
    );
  });
  const system: RunningQuorumKvCluster = {
    name: `quorumkv ×${options.size}`,
    metricsUrls: nodes.map((node) => `http://${HOST}:${node.httpPort}/metrics`),
    processes,
    addresses: nodes.map((node) => `${HOST}:${node.grpcPort}`),
    clientArgs: certificates === undefined ? ['--insecure'] : ['--certs-dir', certsDir],
    stop: async () => void (await Promise.all(processes.map((process) => process.stop()))),
    cpuSeconds: () => totalCpuSeconds(processes),
    processCpuSeconds: () => processes.map((process) => process.cpuSeconds()),
  };
  try {
    await Promise.all(processes.map((process, i) => process.waitUntilReady(() => nodeReady(nodes[i]!.httpPort), options.readyTimeoutMs)));
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

async function nodeReady(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${HOST}:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
    return response.status === 200;
  } catch {
    return false;
  }
}
