// Starts the raw HTTP/2 floor (raw-http2-kv-server.ts, KV.Put and KV.Get on node:http2
// with no grpc-js) in its own process on a free loopback port, with TLS and client
// certificates as a node's client port has them unless `insecure`. Ready when it printed
// its "listening" line into the log. `nodeArgs` are Node.js flags for its process
// (`--cpu-prof` to profile it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-ports.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import { RAW_HTTP2_READY_LINE } from './raw-http2-kv-server.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import type { LaunchOptions, RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';
/** The node id the server's certificate names. */
const RAW_NODE_ID = 'raw-http2';
const RAW_HTTP2_MAIN = fileURLToPath(new URL('./raw-http2-kv-main.js', import.meta.url));

export interface RawHttp2LaunchOptions extends LaunchOptions {
  readonly valueBytes: number;
  readonly insecure?: boolean;
  readonly nodeArgs?: readonly string[];
}

export async function startRawHttp2Server(group: ProcessGroup, options: RawHttp2LaunchOptions): Promise<RunningSystem> {
  const [port] = await freePorts(1, HOST);
  const logPath = join(options.dir, 'raw-http2.log');
  const certsDir = join(options.dir, 'certs');
  const certificates = options.insecure === true ? undefined : await ensureLocalCertificates({ dir: certsDir, nodeIds: [RAW_NODE_ID], users: [BUILT_IN_ADMIN] });
  const tlsArgs = certificates === undefined ? [] : ['--tls-dir', certificates.nodeDirs.get(RAW_NODE_ID)!, '--node-id', RAW_NODE_ID];
  const process = ManagedProcess.start(
    group,
    'raw-http2',
    globalThis.process.execPath,
    [...(options.nodeArgs ?? []), RAW_HTTP2_MAIN, '--host', HOST, '--port', String(port), '--value-bytes', String(options.valueBytes), ...tlsArgs],
    logPath,
  );
  const system: RunningSystem = {
    name: 'raw http2',
    addresses: [`${HOST}:${port}`],
    clientArgs: certificates === undefined ? [] : ['--certs-dir', certsDir],
    stop: async () => void (await process.stop()),
    cpuSeconds: () => process.cpuSeconds(),
    processCpuSeconds: () => [process.cpuSeconds()],
  };
  try {
    await process.waitUntilReady(async () => readLog(logPath).includes(RAW_HTTP2_READY_LINE), options.readyTimeoutMs);
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
