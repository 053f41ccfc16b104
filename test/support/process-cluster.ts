// A cluster of real `qkv server` processes on 127.0.0.1, started the way
// docs/operations/node.md says (`node dist/src/cli/main.js server --node-id ... --peers
// ...`), each with its own data directory, client port, peer port and HTTP port. Tests
// kill nodes with SIGKILL, stop them with SIGTERM and restart them on the same ports and
// data. `running` starts only the first nodes: the others are listed in every node's
// --peers from the start and can be launched later (scaling up the way
// docs/operations/scaling.md describes it).
//
// Secure by default, as the product is: the cluster's CA, a node certificate per member
// and client certificates are made under <dataRoot>/certs (ensureLocalCertificates, the
// same code `npm start` runs), each node gets --tls-dir, and clients use the `admin`
// user's certificate. `insecure: true` runs the nodes with --insecure for the tests that
// need plaintext.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { QuorumKvClient, type KvTransport } from '../../src/client/quorum-kv-client.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials, TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';
import type { GrpcTransportOptions } from '../../src/transport/grpc/grpc-transport.js';
import { RawGrpcClient, nodeChannelCredentials } from './raw-grpc.js';
import { freePort } from './free-port.js';

export const MAIN_SCRIPT = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Bounded so a chatty node cannot fill the test's memory. */
const OUTPUT_BYTES_MAX = 256 * 1024;
/**
 * How long a test waits for a node's /readyz before it calls the start-up failed. Not a
 * speed check: a fresh cluster is ready only once every node sees every member NORMAL
 * (ADR 0163), which took up to 45 s on the shared 2-core machine under load.
 */
const READY_TIMEOUT_MS = 60_000;

export interface ProcessNode {
  readonly id: string;
  /** Client port: KV, Admin, health. */
  readonly grpcPort: number;
  /** Peer port: the Replica service, what --peers lists. */
  readonly peerPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  /** The node's ca.crt, node.crt and node.key; undefined in an insecure cluster. */
  readonly tlsDir: string | undefined;
  child: ChildProcess | undefined;
  exited: Promise<number | null> | undefined;
  output: string;
}

// Children that outlive a test file (a failed hook, an interrupted run) would keep
// ports and temp directories busy; whatever is still running when this process exits
// is killed.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Registers a spawned node process for the exit-time sweep. */
export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export { freePort };

/** The user every cluster has, with all roles. */
export const ADMIN_USER = 'admin';

export interface ProcessClusterOptions {
  readonly size: number;
  /** How many of the first nodes to start now (default all). */
  readonly running?: number;
  readonly dataRoot: string;
  readonly extraArgs?: readonly string[];
  /** Plaintext with no authentication (--insecure) instead of TLS. */
  readonly insecure?: boolean;
  /** Client certificates to make besides `admin`'s (roles come from a --users-file in extraArgs). */
  readonly users?: readonly string[];
}

export class ProcessCluster {
  private constructor(
    readonly nodes: ProcessNode[],
    private readonly extraArgs: readonly string[],
    /** The CA and the client certificates (ca.crt, client.<user>.crt/.key); undefined when insecure. */
    readonly certsDir: string | undefined,
  ) {}

  static async start(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const ids = Array.from({ length: options.size }, (_, index) => `qkv-${index + 1}`);
    const certsDir = options.insecure === true ? undefined : join(options.dataRoot, 'certs');
    const nodeDirs =
      certsDir === undefined
        ? new Map<string, string>()
        : (await ensureLocalCertificates({ dir: certsDir, nodeIds: ids, users: [ADMIN_USER, ...(options.users ?? [])] })).nodeDirs;
    const nodes: ProcessNode[] = [];
    for (const id of ids) {
      nodes.push({
        id,
        grpcPort: await freePort(),
        peerPort: await freePort(),
        httpPort: await freePort(),
        dataDir: join(options.dataRoot, id),
        tlsDir: nodeDirs.get(id),
        child: undefined,
        exited: undefined,
        output: '',
      });
    }
    const cluster = new ProcessCluster(nodes, options.extraArgs ?? [], certsDir);
    const started = nodes.slice(0, options.running ?? nodes.length);
    try {
      for (const node of started) cluster.spawn(node);
      // Ready means ready: a node reports ready once it has probed every peer, and a peer
      // that hears from it reconnects at once (docs/decisions/0036-reconnect-on-sign-of-life.md),
      // so tests may use W=N the moment the last node is ready; test/node/reconnect.test.ts
      // checks exactly that.
      await Promise.all(started.map((node) => cluster.waitReady(node)));
      // Readiness waits (bounded) until the peers heard a node NORMAL, but a peer the
      // node held down for a while under load may still route by an older view for a
      // probe interval (ADR 0080, known limits); tests begin once every view agrees.
      await cluster.awaitRingViews(started.map((node) => node.id));
    } catch (error) {
      await cluster.stopAll();
      throw error;
    }
    return cluster;
  }

  node(id: string): ProcessNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  get insecure(): boolean {
    return this.certsDir === undefined;
  }

  /** The node's client port. */
  address(id: string): string {
    return `127.0.0.1:${this.node(id).grpcPort}`;
  }

  /** The node's peer port (the Replica service). */
  peerAddress(id: string): string {
    return `127.0.0.1:${this.node(id).peerPort}`;
  }

  /** The client certificate credentials of `user`; undefined (plaintext) in an insecure cluster. */
  credentials(user = ADMIN_USER): grpc.ChannelCredentials | undefined {
    return this.certsDir === undefined ? undefined : clientChannelCredentials(this.certsDir, user);
  }

  /** The `qkv` client flags that reach this cluster as `user`: its certs directory, or --insecure. */
  cliSecurityArgs(user = ADMIN_USER): string[] {
    return this.certsDir === undefined ? ['--insecure'] : ['--certs-dir', this.certsDir, '--user', user];
  }

  client(ids: readonly string[], timeoutMs = 5_000, user = ADMIN_USER, transport: KvTransport = 'stream'): QuorumKvClient {
    return new QuorumKvClient({ addresses: ids.map((id) => this.address(id)), timeoutMs, credentials: this.credentials(user), transport });
  }

  /** Raw bytes to node `id`'s client port as `user`. */
  rawClient(id: string, channelOptions: grpc.ChannelOptions = {}, user = ADMIN_USER): RawGrpcClient {
    return new RawGrpcClient(this.address(id), { credentials: this.credentials(user), channelOptions });
  }

  /**
   * What a GrpcTransport needs to call peer ports as member `sender`: its id (sent as
   * `qkv-from`) and its node certificate; plaintext in an insecure cluster.
   */
  peerTransportOptions(sender: string): Pick<GrpcTransportOptions, 'localNodeId' | 'credentialsFor' | 'channelOptions'> {
    const tlsDir = this.node(sender).tlsDir;
    if (tlsDir === undefined) return { localNodeId: sender };
    const credentials = nodeChannelCredentials(tlsDir);
    return { localNodeId: sender, credentialsFor: () => credentials, channelOptions: TLS_CHANNEL_OPTIONS };
  }

  /** Raw bytes to node `id`'s peer port as member `sender`, with that member's node certificate. */
  rawPeerClient(id: string, sender: string, channelOptions: grpc.ChannelOptions = {}): RawGrpcClient {
    const tlsDir = this.node(sender).tlsDir;
    return new RawGrpcClient(this.peerAddress(id), { credentials: tlsDir === undefined ? undefined : nodeChannelCredentials(tlsDir), channelOptions, sender });
  }

  async metrics(id: string): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.node(id).httpPort}/metrics`);
    return response.text();
  }

  /** SIGKILL: no drain, no sync beyond what fsync=always already made durable. */
  async kill9(id: string): Promise<void> {
    const node = this.node(id);
    node.child?.kill('SIGKILL');
    await node.exited;
    node.child = undefined;
  }

  /** SIGTERM and the exit code the node chose. */
  async terminate(id: string): Promise<number | null> {
    const node = this.node(id);
    node.child?.kill('SIGTERM');
    const code = (await node.exited) ?? null;
    node.child = undefined;
    return code;
  }

  async restart(id: string): Promise<void> {
    const node = this.node(id);
    this.spawn(node);
    await this.waitReady(node);
  }

  /** Starts a node's process (a first start or a restart) without waiting for it to be ready. */
  launch(id: string): void {
    this.spawn(this.node(id));
  }

  /** Waits until the node's /readyz answers 200 (a joining node: once it has joined). */
  async ready(id: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await this.waitReady(this.node(id), timeoutMs);
  }

  /** Waits until every node in `ids` sees every one of them NORMAL (bounded). */
  async awaitRingViews(ids: readonly string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const id of ids) {
      const client = this.client([id], 2_000);
      try {
        for (;;) {
          const status = await client.status().catch(() => undefined);
          const states = new Map(status?.members.map((member) => [member.id, member.ringState]) ?? []);
          if (ids.every((other) => states.get(other) === 'NORMAL')) break;
          if (Date.now() > deadline) throw new Error(`${id} does not see ${ids.join(', ')} NORMAL: ${JSON.stringify([...states])}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.close();
      }
    }
  }

  /** The nodes whose process runs now. */
  running(): ProcessNode[] {
    return this.nodes.filter((node) => node.child !== undefined);
  }

  async stopAll(): Promise<void> {
    for (const node of this.nodes) node.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.nodes.forEach((node) => node.child?.kill('SIGKILL')), 15_000);
    await Promise.all(this.nodes.map((node) => node.exited));
    clearTimeout(timer);
  }

  private spawn(node: ProcessNode): void {
    const peers = this.nodes.map((peer) => `${peer.id}=127.0.0.1:${peer.peerPort}`).join(',');
    const child = spawn(
      process.execPath,
      [
        MAIN_SCRIPT, 'server',
        '--node-id', node.id,
        '--host', '127.0.0.1',
        '--grpc-port', String(node.grpcPort),
        '--peer-port', String(node.peerPort),
        '--http-port', String(node.httpPort),
        '--peers', peers,
        '--data-dir', node.dataDir,
        ...(node.tlsDir === undefined ? ['--insecure'] : ['--tls-dir', node.tlsDir]),
        '--log-level', 'warn',
        // No hints: these clusters test read repair of a replica that missed writes, which
        // hinted handoff would otherwise fill first (hints: test/faults, test/chaos).
        '--hint-bytes-per-peer-max', '0',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer): void => {
      node.output = (node.output + chunk.toString('utf8')).slice(-OUTPUT_BYTES_MAX);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    trackChild(child);
    node.child = child;
    node.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  private async waitReady(node: ProcessNode, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (node.child?.exitCode !== null) throw new Error(`${node.id} exited with ${node.child?.exitCode}:\n${node.output}`);
      try {
        const response = await fetch(`http://127.0.0.1:${node.httpPort}/readyz`, { signal: AbortSignal.timeout(500) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${node.id} not ready after ${timeoutMs} ms:\n${node.output}`);
  }
}

/** The value of one Prometheus sample, or undefined when the series is absent. */
export function sampleValue(metricsText: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}
