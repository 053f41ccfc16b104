// Starts `qkv bench noop-server` in its own process (the floor of the comparison) on a
// free loopback port, with TLS and client certificates as a node's client port has them
// unless `insecure`. Ready when its port accepts gRPC, i.e. when it printed its
// "listening" line into the log. `nodeArgs` are Node.js flags for its process
// (`--cpu-prof` to profile it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './free-ports.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import { QKV_MAIN } from './quorumkv-cluster.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import type { LaunchOptions, RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';
/** The node id the no-op server's certificate names. */
const NOOP_NODE_ID = 'noop';

export async function startNoopServer(group: ProcessGroup, valueBytes: number, options: LaunchOptions & { readonly insecure?: boolean; readonly nodeArgs?: readonly string[] }): Promise<RunningSystem> {
  const [port] = await freePorts(1, HOST);
  const logPath = join(options.dir, 'noop-server.log');
  const certsDir = join(options.dir, 'certs');
  const certificates = options.insecure === true ? undefined : await ensureLocalCertificates({ dir: certsDir, nodeIds: [NOOP_NODE_ID], users: [BUILT_IN_ADMIN] });
  const tlsArgs = certificates === undefined ? [] : ['--tls-dir', certificates.nodeDirs.get(NOOP_NODE_ID)!, '--node-id', NOOP_NODE_ID];
  const process = ManagedProcess.start(
    group,
    'noop-server',
    globalThis.process.execPath,
    [...(options.nodeArgs ?? []), QKV_MAIN, 'bench', 'noop-server', '--host', HOST, '--port', String(port), '--value-bytes', String(valueBytes), ...tlsArgs],
    logPath,
  );
  const system: RunningSystem = {
    name: 'no-op gRPC',
    addresses: [`${HOST}:${port}`],
    clientArgs: certificates === undefined ? [] : ['--certs-dir', certsDir],
    stop: async () => void (await process.stop()),
    cpuSeconds: () => process.cpuSeconds(),
    processCpuSeconds: () => [process.cpuSeconds()],
  };
  try {
    await process.waitUntilReady(async () => readLog(logPath).includes('noop-server listening'), options.readyTimeoutMs);
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
