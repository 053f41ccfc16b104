// `qkv local-cluster --in-memory`: a whole cluster in this one process
// (src/node/in-memory-cluster.ts), its data in memory, so a six-node N=5 cluster
// starts in a second and leaves nothing behind. The nodes talk to each other over a
// MemoryNetwork; clients reach each node through a gRPC shell of its own (the same one
// `qkv server` serves, src/node/grpc-shell.ts) on loopback: node i on grpc-base-port
// + i - 1, with the same TLS default as the process local cluster (certificates
// under <data-dir>/certs, client.admin for the CLI), so `qkv put/get/status` work as
// against the process cluster (docs/decisions/0111-in-memory-local-cluster.md). Each
// node also has an HTTP shell (metrics, /livez, /readyz). Logs go to
// <data-dir>/logs/in-memory.log. Ctrl-C (or SIGTERM) drains every node and exits 0; the
// data is gone then.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import type { LogLevel } from '../../logging/log-level.js';
import { InMemoryCluster } from '../../node/in-memory-cluster.js';
import { GrpcShell } from '../../node/grpc-shell.js';
import { HttpShell } from '../../node/http-shell.js';
import { NodeSecurity } from '../../node/node-security.js';
import { ensureLocalCertificates } from '../../security/local-certificates.js';
import { BUILT_IN_ADMIN } from '../../security/user-roles.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../cli-io.js';
import { LOCAL_CERTS_DIR, LOCAL_CLUSTER, LOCAL_HOST } from '../local-cluster-layout.js';

/** How long the nodes get to become ready before we give up. */
const READY_TIMEOUT_MS = 60_000;
/** How long in-flight client calls get to finish when stopping. */
const DRAIN_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;

export interface InMemoryLocalClusterOptions {
  readonly nodes: number;
  readonly replicationFactor: number;
  readonly dataDir: string;
  readonly grpcBase: number;
  readonly httpBase: number;
  readonly insecure: boolean;
  readonly logLevel: LogLevel;
}

interface Shells {
  readonly id: string;
  readonly grpc: GrpcShell;
  readonly http: HttpShell;
  readonly security: NodeSecurity;
}

export async function runInMemoryLocalCluster(options: InMemoryLocalClusterOptions, io: CliIo): Promise<number> {
  const { dataDir, insecure } = options;
  const ids = Array.from({ length: options.nodes }, (_, i) => `qkv-${i + 1}`);
  const grpcPortOf = (id: string): number => options.grpcBase + ids.indexOf(id);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, 'in-memory.log');
  const log = pino({ level: options.logLevel }, pino.destination({ dest: logPath, sync: false, mkdir: true }));
  const certsDir = join(dataDir, 'certs');
  let nodeCertDirs: ReadonlyMap<string, string> = new Map();
  if (insecure) {
    io.stderr.write('qkv: INSECURE: TLS and authentication are off; anyone who can reach these ports can read and change every key\n');
  } else {
    const certificates = await ensureLocalCertificates({ dir: certsDir, nodeIds: ids, users: [BUILT_IN_ADMIN] });
    if (certificates.written.length > 0) io.stdout.write(`created ${certificates.written.length} certificate files in ${shown(certsDir)}${certificates.caCreated ? ' (a new local CA)' : ''}\n`);
    nodeCertDirs = certificates.nodeDirs;
  }

  let requestStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolveStop) => (requestStop = resolveStop));
  const onSignal = (signal: NodeJS.Signals): void => requestStop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  io.stdout.write(`starting ${ids.length} in-memory nodes (N=${options.replicationFactor}) in this process...\n`);
  let cluster: InMemoryCluster | undefined;
  const shells: Shells[] = [];
  try {
    cluster = await InMemoryCluster.start({
      nodes: ids,
      replicationFactor: options.replicationFactor,
      logger: (id) => log.child({ node: id }),
      address: (id) => `${LOCAL_HOST}:${grpcPortOf(id)}`,
    });
    for (const node of cluster.nodes()) {
      const security = await NodeSecurity.open(
        { usersFile: '', insecure, tlsDir: nodeCertDirs.get(node.id) ?? join(certsDir, node.id), dataDir, nodeId: node.id, grpcPort: grpcPortOf(node.id), peerPort: 0 },
        node.registry,
        node.logger,
      );
      const grpc = new GrpcShell(node.assembly, {
        host: LOCAL_HOST,
        clientPort: grpcPortOf(node.id),
        peerPort: undefined,
        reflection: false,
        security,
        registry: node.registry,
        logger: node.logger,
      });
      const http = new HttpShell(node.registry, () => node.assembly.unreadyReason(), node.logger);
      shells.push({ id: node.id, grpc, http, security });
      await http.listen(LOCAL_HOST, options.httpBase + ids.indexOf(node.id));
      await grpc.bind();
      grpc.updateHealth();
      node.onStatusChanged(() => grpc.updateHealth());
      io.stdout.write(`  ${node.id} up: gRPC ${LOCAL_HOST}:${grpc.clientPort}  metrics http://${LOCAL_HOST}:${http.port}/metrics\n`);
    }
    const running = cluster;
    const problem = await Promise.race([waitUntilReady(running), stopRequested.then((signal) => `stopped by ${signal} while starting`)]);
    if (problem !== undefined) {
      io.stderr.write(`qkv: in-memory cluster did not start: ${problem}\n`);
      return EXIT_FAILURE;
    }
    io.stdout.write(banner(options, ids, logPath, insecure ? undefined : certsDir));
    const signal = await stopRequested;
    io.stdout.write(`\n${signal}: draining ${ids.length} nodes...\n`);
    return EXIT_OK;
  } catch (error) {
    io.stderr.write(`qkv: in-memory cluster did not start: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    // Clients first: new calls are refused and running ones finish, then the nodes close.
    for (const node of cluster?.nodes() ?? []) node.assembly.beginDrain();
    await Promise.all(shells.map((shell) => shell.grpc.shutdown(DRAIN_TIMEOUT_MS)));
    await cluster?.close();
    for (const shell of shells) {
      shell.security.close();
      await shell.http.close();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await new Promise<void>((resolveFlush) => log.flush(() => resolveFlush()));
    if (cluster !== undefined) io.stdout.write('all nodes stopped; the in-memory data is gone\n');
  }
}

/** Resolves undefined when every node is ready (NORMAL, heard by its peers), or with what is still missing. */
async function waitUntilReady(cluster: InMemoryCluster): Promise<string | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const waiting = cluster.nodes().filter((node) => node.assembly.unreadyReason() !== undefined);
    if (waiting.length === 0) return undefined;
    if (Date.now() > deadline) return `not ready after ${READY_TIMEOUT_MS} ms: ${waiting.map((node) => `${node.id} (${node.assembly.unreadyReason()})`).join(', ')}`;
    await new Promise((resolveWait) => setTimeout(resolveWait, READY_POLL_MS));
  }
}

function shown(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath.startsWith('..') ? path : relativePath;
}

function banner(options: InMemoryLocalClusterOptions, ids: readonly string[], logPath: string, certsDir: string | undefined): string {
  const majority = Math.floor(options.replicationFactor / 2) + 1;
  // The CLI's default --addr knows the default ports of the first nodes; any node coordinates.
  const isDefault = options.grpcBase === LOCAL_CLUSTER[0]!.grpcPort;
  const defaultCerts = certsDir === undefined || relative(LOCAL_CERTS_DIR, certsDir) === '';
  const flags =
    (isDefault ? '' : ` --addr ${ids.map((_, i) => `${LOCAL_HOST}:${options.grpcBase + i}`).join(',')}`) +
    (certsDir === undefined ? ' --insecure' : defaultCerts ? '' : ` --certs-dir ${shown(certsDir)}`);
  return [
    `quorumkv in-memory cluster: ${ids.length} nodes in one process, N=${options.replicationFactor} (quorum ${majority}), log ${shown(logPath)}`,
    ...ids.map((id, i) => `  ${id}  gRPC ${LOCAL_HOST}:${options.grpcBase + i}  metrics http://${LOCAL_HOST}:${options.httpBase + i}/metrics`),
    '',
    'Connect (from this directory; `npm link` once puts `qkv` on your PATH):',
    `  node dist/src/cli/main.js put hello world --w ${majority}${flags}`,
    `  node dist/src/cli/main.js get hello --r ${majority} --replicas${flags}`,
    `  node dist/src/cli/main.js status${flags}`,
    certsDir === undefined ? 'INSECURE: TLS and authentication are off.' : `TLS on: certificates in ${shown(certsDir)} (the CLI uses client.admin there by default).`,
    'The data lives in this process only: it is gone when the cluster stops.',
    '',
    'Ctrl-C drains and stops the cluster.',
    '',
  ].join('\n');
}
