// `qkv local-cluster` (what `npm start` runs): the embedded default, three node
// processes on localhost (src/cli/local-cluster-layout.ts), each a plain `qkv server`
// with its data in <data-dir>/<node-id> and its JSON log in <data-dir>/logs. Secure by
// default: on first start it creates a CA, a certificate per node and a client
// certificate for the built-in admin user under <data-dir>/certs, which the CLI uses
// with no flags (src/security/local-certificates.ts). It waits
// until every node is ready, prints how to connect, and on Ctrl-C (or SIGTERM) drains
// every node and exits 0. The data stays, so the next start finds it again.
// With --in-memory the whole cluster runs in this process instead, any number of nodes
// and any N, its data in memory (src/cli/commands/in-memory-local-cluster.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../cli-io.js';
import { LOCAL_CERTS_DIR, LOCAL_CLUSTER, LOCAL_HOST, type LocalNode } from '../local-cluster-layout.js';
import { ensureLocalCertificates } from '../../security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../security/user-roles.js';
import { REPLICATION_FACTOR_DEFAULT } from '../../limits.js';
import { runInMemoryLocalCluster } from './in-memory-local-cluster.js';

/** How long the nodes get to become ready (WAL replay included) before we give up. */
const READY_TIMEOUT_MS = 60_000;
/** How long a node gets to drain after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
/** The most nodes --in-memory runs in one process: enough for any example, few enough for a laptop. */
const IN_MEMORY_NODES_MAX = 32;

export const LOCAL_CLUSTER_USAGE = `usage: qkv local-cluster [--data-dir DIR] [--storage durable|memory] [--fsync POLICY]
                         [--grpc-base-port N] [--peer-base-port N] [--http-base-port N] [--insecure]
       qkv local-cluster --in-memory [--nodes N] [--replication-factor N] [--data-dir DIR]
                         [--grpc-base-port N] [--http-base-port N] [--insecure]

Starts ${LOCAL_CLUSTER.length} nodes on ${LOCAL_HOST} (${LOCAL_CLUSTER.map((n) => `${n.id} gRPC ${n.grpcPort}`).join(', ')}),
data in DIR (default ./data). The base ports move the cluster elsewhere (node i gets
base + i - 1); the CLI's default --addr only knows the default ports.
Certificates: made on first start in DIR/certs (a CA, one per node, client.admin for
the CLI); --insecure runs plaintext with no authentication instead.
Ctrl-C drains and stops them.

--in-memory runs the whole cluster in this one process instead, its data in memory
(gone when it stops): --nodes of them (default ${LOCAL_CLUSTER.length}, at most ${IN_MEMORY_NODES_MAX}) with
--replication-factor N (default ${REPLICATION_FACTOR_DEFAULT}). The nodes talk over an in-process network;
clients reach node i on gRPC base + i - 1 as above, with the same certificates.
DIR holds only the certificates and the log there.
`;

interface Running {
  readonly node: LocalNode;
  readonly child: ChildProcess;
  readonly logPath: string;
  readonly exited: Promise<number | null>;
}

export async function runLocalCluster(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      storage: { type: 'string' },
      fsync: { type: 'string' },
      'grpc-base-port': { type: 'string' },
      'peer-base-port': { type: 'string' },
      insecure: { type: 'boolean' },
      'http-base-port': { type: 'string' },
      'in-memory': { type: 'boolean' },
      nodes: { type: 'string' },
      'replication-factor': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.stdout.write(LOCAL_CLUSTER_USAGE);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`local-cluster: unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values['in-memory'] === true) {
    for (const flag of ['storage', 'fsync', 'peer-base-port'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --in-memory (no data on disk, no peer ports)`);
    }
    const nodes = count('nodes', values.nodes, LOCAL_CLUSTER.length, 1, IN_MEMORY_NODES_MAX);
    const replicationFactor = count('replication-factor', values['replication-factor'], Math.min(REPLICATION_FACTOR_DEFAULT, nodes), 1, nodes);
    return runInMemoryLocalCluster(
      {
        nodes,
        replicationFactor,
        dataDir: resolve(values['data-dir'] ?? 'data'),
        grpcBase: basePort('grpc-base-port', values['grpc-base-port'], LOCAL_CLUSTER[0]!.grpcPort, nodes),
        httpBase: basePort('http-base-port', values['http-base-port'], LOCAL_CLUSTER[0]!.httpPort, nodes),
        insecure: values.insecure === true,
        logLevel: 'info',
      },
      io,
    );
  }
  for (const flag of ['nodes', 'replication-factor'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --in-memory (the process cluster has ${LOCAL_CLUSTER.length} nodes and N=${REPLICATION_FACTOR_DEFAULT})`);
  }
  const grpcBase = basePort('grpc-base-port', values['grpc-base-port'], LOCAL_CLUSTER[0]!.grpcPort);
  const httpBase = basePort('http-base-port', values['http-base-port'], LOCAL_CLUSTER[0]!.httpPort);
  const peerBase = basePort('peer-base-port', values['peer-base-port'], LOCAL_CLUSTER[0]!.peerPort);
  const layout: LocalNode[] = LOCAL_CLUSTER.map((node, index) => ({ id: node.id, grpcPort: grpcBase + index, peerPort: peerBase + index, httpPort: httpBase + index }));
  const dataDir = resolve(values['data-dir'] ?? 'data');
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const insecure = values.insecure === true;
  const certsDir = join(dataDir, 'certs');
  let nodeCertDirs: ReadonlyMap<string, string> = new Map();
  if (insecure) {
    io.stderr.write('qkv: INSECURE: TLS and authentication are off; anyone who can reach these ports can read and change every key\n');
  } else {
    const certificates = await ensureLocalCertificates({ dir: certsDir, nodeIds: layout.map((node) => node.id), users: [BUILT_IN_ADMIN] });
    if (certificates.written.length > 0) io.stdout.write(`created ${certificates.written.length} certificate files in ${shown(certsDir)}${certificates.caCreated ? ' (a new local CA)' : ''}\n`);
    nodeCertDirs = certificates.nodeDirs;
  }
  const peers = layout.map((node) => `${node.id}=${LOCAL_HOST}:${node.peerPort}`).join(',');
  const mainScript = fileURLToPath(new URL('../main.js', import.meta.url));

  const running: Running[] = layout.map((node) => {
    const logPath = join(logDir, `${node.id}.log`);
    const logFd = openSync(logPath, 'a');
    const serverArgs = [
      mainScript, 'server',
      '--node-id', node.id,
      '--host', LOCAL_HOST,
      '--grpc-port', String(node.grpcPort),
      '--peer-port', String(node.peerPort),
      '--http-port', String(node.httpPort),
      '--peers', peers,
      '--data-dir', join(dataDir, node.id),
    ];
    if (insecure) serverArgs.push('--insecure');
    else serverArgs.push('--tls-dir', nodeCertDirs.get(node.id) ?? join(certsDir, node.id));
    if (values.storage !== undefined) serverArgs.push('--storage', values.storage);
    if (values.fsync !== undefined) serverArgs.push('--fsync', values.fsync);
    // The nodes take their settings from these flags alone: a QKV_* variable exported for
    // another cluster (QKV_INSECURE, QKV_TLS_DIR, QKV_PEERS, ...) must not change them.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('QKV_')));
    const child = spawn(process.execPath, serverArgs, { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    return { node, child, logPath, exited };
  });

  // If this process ends without stopping them (an exception, process.exit), the
  // nodes must not live on unattended.
  const sweep = (): void => {
    for (const { child } of running) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', sweep);

  let stopping = false;
  const stopAll = async (): Promise<boolean> => {
    stopping = true;
    for (const { child } of running) if (child.exitCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const { child } of running) if (child.exitCode === null) child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const codes = await Promise.all(running.map((entry) => entry.exited));
    clearTimeout(killer);
    return codes.every((code) => code === 0);
  };

  let requestStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolveStop) => (requestStop = resolveStop));
  const onSignal = (signal: NodeJS.Signals): void => requestStop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A node that dies on its own is reported at once; the others keep running.
  for (const entry of running) {
    void entry.exited.then((code) => {
      if (!stopping) io.stderr.write(`qkv: ${entry.node.id} exited with code ${code}; its log: ${shown(entry.logPath)}\n`);
    });
  }

  try {
    const problem = await Promise.race([waitUntilReady(running), stopRequested.then((signal) => `stopped by ${signal} while starting`)]);
    if (problem !== undefined) {
      io.stderr.write(`qkv: local cluster did not start: ${problem}\n`);
      await stopAll();
      return EXIT_FAILURE;
    }
    io.stdout.write(banner(running, dataDir, insecure ? undefined : certsDir));
    const signal = await stopRequested;
    io.stdout.write(`\n${signal}: draining ${running.length} nodes...\n`);
    const clean = await stopAll();
    io.stdout.write(clean ? 'all nodes stopped cleanly; data kept for the next start\n' : 'some nodes did not stop cleanly; see their logs\n');
    return clean ? EXIT_OK : EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', sweep);
  }
}

function basePort(flag: string, text: string | undefined, fallback: number, nodes = LOCAL_CLUSTER.length): number {
  if (text === undefined) return fallback;
  const port = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port + nodes - 1 <= 65535)) throw new UsageError(`--${flag} must be a port from 1 to ${65536 - nodes}, got ${JSON.stringify(text)}`);
  return port;
}

/** A whole number of `flag` from `min` to `max`; `fallback` when absent. */
function count(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

/** Resolves undefined when every node answers /readyz, or with what went wrong. */
async function waitUntilReady(running: readonly Running[]): Promise<string | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const pending = new Set(running);
  while (pending.size > 0) {
    for (const entry of [...pending]) {
      if (entry.child.exitCode !== null) return `${entry.node.id} exited with code ${entry.child.exitCode}:\n${tail(entry.logPath)}`;
      if (await isReady(entry.node)) pending.delete(entry);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) return `not ready after ${READY_TIMEOUT_MS} ms: ${[...pending].map((e) => e.node.id).join(', ')}`;
    await new Promise((resolveWait) => setTimeout(resolveWait, READY_POLL_MS));
  }
  return undefined;
}

async function isReady(node: LocalNode): Promise<boolean> {
  try {
    const response = await fetch(`http://${LOCAL_HOST}:${node.httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

function shown(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath.startsWith('..') ? path : relativePath;
}

function banner(running: readonly Running[], dataDir: string, certsDir: string | undefined): string {
  const isDefault = running.every(({ node }, index) => node.grpcPort === LOCAL_CLUSTER[index]?.grpcPort);
  const defaultCerts = certsDir === undefined || resolve(certsDir) === resolve(LOCAL_CERTS_DIR);
  const addrFlag =
    (isDefault ? '' : ` --addr ${running.map(({ node }) => `${LOCAL_HOST}:${node.grpcPort}`).join(',')}`) +
    (certsDir === undefined ? ' --insecure' : defaultCerts ? '' : ` --certs-dir ${shown(certsDir)}`);
  const port = running[0]?.node.grpcPort ?? 7401;
  const grpcurl =
    certsDir === undefined
      ? `  grpcurl -plaintext -import-path proto -proto quorumkv/v1/kv.proto ${LOCAL_HOST}:${port} list`
      : `  grpcurl -cacert ${shown(join(certsDir, 'ca.crt'))} -cert ${shown(join(certsDir, 'client.admin.crt'))} -key ${shown(join(certsDir, 'client.admin.key'))} \\\n` +
        `    -servername localhost -import-path proto -proto quorumkv/v1/kv.proto ${LOCAL_HOST}:${port} list`;
  const lines = [
    `quorumkv local cluster: ${running.length} nodes, data in ${shown(dataDir)}`,
    ...running.map(
      ({ node, logPath }) =>
        `  ${node.id}  gRPC ${LOCAL_HOST}:${node.grpcPort}  peer ${node.peerPort}  metrics http://${LOCAL_HOST}:${node.httpPort}/metrics  log ${shown(logPath)}`,
    ),
    '',
    'Connect (from this directory; `npm link` once puts `qkv` on your PATH):',
    `  node dist/src/cli/main.js put hello world${addrFlag}`,
    `  node dist/src/cli/main.js get hello --replicas${addrFlag}`,
    `  node dist/src/cli/main.js status${addrFlag}`,
    certsDir === undefined ? 'INSECURE: TLS and authentication are off.' : `TLS on: certificates in ${shown(certsDir)} (the CLI uses client.admin there by default).`,
    grpcurl,
    '',
    'Ctrl-C drains and stops the cluster.',
    '',
  ];
  return lines.join('\n');
}
