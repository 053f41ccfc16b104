// Starts one server of the comparison in its own process on a free loopback port, with TLS
// and client certificates as a node's client port has them unless `insecure`: the no-op
// gRPC floor (noop-server.ts) and the raw HTTP/2 floor (raw-http2-server.ts) differ only in
// their program and their "listening" line. Ready when that line is in the log.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './free-ports.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import type { LaunchOptions, RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';

export interface OneServerOptions extends LaunchOptions {
  readonly insecure?: boolean;
  /** Node.js flags for its process (`--cpu-prof` to profile it). */
  readonly nodeArgs?: readonly string[];
}

export interface OneServerProgram {
  /** The system's name in the tables. */
  readonly name: string;
  /** The process's name, its log file's too. */
  readonly processName: string;
  /** The node id its certificate names. */
  readonly nodeId: string;
  /** The script and its arguments before --host, --port and the TLS flags. */
  readonly args: readonly string[];
  /** The log line that says it accepts calls. */
  readonly readyLine: string;
}

export async function startOneServer(group: ProcessGroup, program: OneServerProgram, options: OneServerOptions): Promise<RunningSystem> {
  const [port] = await freePorts(1, HOST);
  const logPath = join(options.dir, `${program.processName}.log`);
  const certsDir = join(options.dir, 'certs');
  const certificates = options.insecure === true ? undefined : await ensureLocalCertificates({ dir: certsDir, nodeIds: [program.nodeId], users: [BUILT_IN_ADMIN] });
  const tlsArgs = certificates === undefined ? [] : ['--tls-dir', certificates.nodeDirs.get(program.nodeId)!, '--node-id', program.nodeId];
  const process = ManagedProcess.start(
    group,
    program.processName,
    globalThis.process.execPath,
    [...(options.nodeArgs ?? []), ...program.args, '--host', HOST, '--port', String(port), ...tlsArgs],
    logPath,
  );
  const system: RunningSystem = {
    name: program.name,
    addresses: [`${HOST}:${port}`],
    clientArgs: certificates === undefined ? [] : ['--certs-dir', certsDir],
    stop: async () => void (await process.stop()),
    cpuSeconds: () => process.cpuSeconds(),
    processCpuSeconds: () => [process.cpuSeconds()],
  };
  try {
    await process.waitUntilReady(async () => readLog(logPath).includes(program.readyLine), options.readyTimeoutMs);
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
