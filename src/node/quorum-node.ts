// One quorumkv node process (what `qkv server` runs): the process's ports and shells
// around a node assembly (src/node/node-assembly.ts), and the order they start and
// drain in (docs/decisions/0110-node-assembly-and-shells.md).
//
// The ports of a process: the storage engine of --storage (src/node/node-storage.ts),
// the data directory's stores (src/node/data-dir-stores.ts), a GrpcTransport to the
// peers' peer ports, --peers or Kubernetes discovery, the node's certificates and users
// (src/node/node-security.ts) and, with --kube-cluster-resource, live settings from the
// QuorumKVCluster. In front: the HTTP shell (metrics, probes) and the gRPC shell (the
// client and peer ports, src/node/grpc-shell.ts).
//
// Start order: the HTTP port first (so /livez answers while the WAL replays and
// /readyz says why it is not ready), then certificates and the data directory, then the
// assembly opens storage and decides its ring state, then the gRPC ports open, then the
// assembly serves (probes, hinted handoff, anti-entropy, a join or decommission that
// was under way). Drain order (SIGTERM): stop taking requests (readiness and health go
// NOT_SERVING, new calls are refused, a cleanup stops), let in-flight calls finish
// within the drain timeout, close the assembly (late replies and repairs, WAL synced,
// store closed), close HTTP.
import type { Registry } from 'prom-client';
import { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import type { Logger } from '../logging/logger.js';
import type { Member } from '../ring/member.js';
import { TLS_CHANNEL_OPTIONS, peerChannelCredentials } from '../security/tls-credentials.js';
import { GrpcTransport } from '../transport/grpc/grpc-transport.js';
import type { NodeConfig } from '../config/node-config.js';
import type { LogLevel } from '../logging/log-level.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { PrometheusReplicaCallMetrics } from '../metrics/replica-call-prometheus.js';
import { ClusterResourceSync } from '../kubernetes/cluster-resource-sync.js';
import type { LiveSettings } from '../kubernetes/cluster-spec.js';
import { loadKubeConfig, resolveNamespace } from '../kubernetes/kube-config.js';
import { formatFsyncPolicy } from '../storage/wal/fsync-policy.js';
import { openNodeStores } from './data-dir-stores.js';
import { GrpcShell } from './grpc-shell.js';
import { HttpShell } from './http-shell.js';
import { NodeAssembly } from './node-assembly.js';
import { createDiscovery } from './node-discovery.js';
import { NodeSecurity } from './node-security.js';
import { dataDirOf, openNodeStorage } from './node-storage.js';

export interface StartedNode {
  readonly grpcPort: number;
  readonly peerPort: number;
  readonly httpPort: number;
  drain(reason: string): Promise<void>;
}

export interface QuorumNodeOptions {
  /** Changes the log level of the node's logger (pino's `level`); live setting. */
  readonly setLogLevel?: (level: LogLevel) => void;
  /**
   * The node cannot go on and must stop: peers say it was forgotten (`qkv forget`) while
   * it was away (MEMBER_FORGOTTEN, docs/decisions/0180). It refuses every call already.
   */
  readonly onFatal?: (error: Error) => void;
}

export class QuorumNode implements StartedNode {
  readonly nodeId: string;
  private readonly registry: Registry;
  private readonly httpShell: HttpShell;
  private assembly: NodeAssembly | undefined;
  private grpcShell: GrpcShell | undefined;
  private security: NodeSecurity | undefined;
  private clusterSync: ClusterResourceSync | undefined;
  private draining: Promise<void> | undefined;

  private constructor(
    private readonly config: NodeConfig,
    private readonly logger: Logger,
    private readonly options: QuorumNodeOptions = {},
  ) {
    this.nodeId = config.nodeId;
    this.registry = createMetricsRegistry({ nodeId: config.nodeId });
    this.httpShell = new HttpShell(this.registry, () => (this.assembly === undefined ? 'starting' : this.assembly.unreadyReason()), logger);
  }

  get grpcPort(): number {
    return this.grpcShell?.clientPort ?? 0;
  }

  get peerPort(): number {
    return this.grpcShell?.peerPort ?? 0;
  }

  get httpPort(): number {
    return this.httpShell.port;
  }

  /** Starts a node; on failure everything opened so far is closed again. */
  static async start(config: NodeConfig, logger: Logger, options: QuorumNodeOptions = {}): Promise<QuorumNode> {
    const node = new QuorumNode(config, logger, options);
    try {
      await node.open();
      return node;
    } catch (error) {
      await node.close().catch((closeError: unknown) => logger.error({ err: closeError }, 'close after a failed start failed'));
      throw error;
    }
  }

  /** Drains and closes; safe to call more than once (later calls share the first). */
  drain(reason: string): Promise<void> {
    this.draining ??= this.runDrain(reason);
    return this.draining;
  }

  private async open(): Promise<void> {
    const { config, logger, registry } = this;
    const httpPort = await this.httpShell.listen(config.host, config.httpPort);
    logger.info({ httpPort }, 'metrics and probes listening');

    this.security = await NodeSecurity.open(config, registry, logger);
    const certificates = this.security.certificates;
    // Only an admin user's signed forget takes a member out of the rings (ADR 0268).
    const checkForget = this.security.forgetCheck();
    const self: Member = { id: config.nodeId, address: `127.0.0.1:${config.grpcPort}`, ready: true };
    // Discovery first: a configuration it refuses must not leave the data directory locked.
    const discovery = createDiscovery(config, logger, self);
    const stores = await openNodeStores(config, logger);
    this.assembly = new NodeAssembly(
      config,
      {
        openStorage: (tokenOf) => openNodeStorage(config, { tokenOf, registry, logger }),
        transport: (localReplica) =>
          new GrpcTransport({
            localNodeId: config.nodeId,
            localHandler: localReplica,
            metrics: new PrometheusReplicaCallMetrics(registry),
            ...(certificates === undefined
              ? {}
              : { credentialsFor: (peer: string) => peerChannelCredentials(certificates, peer), channelOptions: TLS_CHANNEL_OPTIONS }),
          }),
        discovery,
        clock: new HybridLogicalClock(),
        registry,
        logger,
        stores,
        ...(checkForget === undefined ? {} : { checkForget }),
      },
      {
        onStatusChanged: () => this.grpcShell?.updateHealth(),
        onMembersChanged: () => this.clusterSync?.membersChanged(),
        onForgotten: (error) => this.options.onFatal?.(error),
      },
    );
    const assembly = this.assembly;
    await assembly.open();
    if (config.kubeClusterResource !== '') await this.startClusterSync();

    this.grpcShell = new GrpcShell(assembly, {
      host: config.host,
      clientPort: config.grpcPort,
      peerPort: config.peerPort,
      reflection: config.reflection,
      security: this.security,
      registry,
      logger,
    });
    await this.grpcShell.bind();
    await assembly.serve({
      grpcPort: this.grpcPort,
      peerPort: this.peerPort,
      httpPort: this.httpPort,
      tls: certificates !== undefined,
      storage: config.storage,
      dataDir: config.storage === 'durable' ? dataDirOf(config) : undefined,
    });
  }

  /** Follows the QuorumKVCluster resource (src/kubernetes/cluster-resource-sync.ts). */
  private async startClusterSync(): Promise<void> {
    const { config } = this;
    const assembly = this.assembly!;
    const kubeConfig = loadKubeConfig();
    this.clusterSync = new ClusterResourceSync({
      kubeConfig,
      namespace: resolveNamespace(config.kubeNamespace, kubeConfig),
      name: config.kubeClusterResource,
      logger: this.logger,
      node: {
        nodeId: config.nodeId,
        runningRestartSettings: () => ({ replicationFactor: config.replicationFactor, vnodes: config.vnodes, fsync: formatFsyncPolicy(config.fsync) }),
        applyLive: (settings) => this.applyLive(settings),
        members: () => assembly.members(),
        ringDigest: () => assembly.ringDigest(),
      },
    });
    await this.clusterSync.start();
  }

  private applyLive(settings: LiveSettings): void {
    this.assembly!.reconfigure(settings.coordinator);
    this.options.setLogLevel?.(settings.logLevel);
    this.security!.applyUsers(settings.users);
  }

  private async runDrain(reason: string): Promise<void> {
    const started = Date.now();
    this.logger.info({ reason, inFlightRequests: this.assembly?.inFlightRequests() ?? 0 }, 'draining');
    this.assembly?.beginDrain();
    await this.close();
    this.logger.info({ elapsedMs: Date.now() - started }, 'drained; storage synced and closed');
  }

  /** Closes whatever is open, in drain order. */
  private async close(): Promise<void> {
    this.assembly?.beginDrain();
    await this.grpcShell?.shutdown(this.config.drainTimeoutMs);
    await this.clusterSync?.stop();
    // Every later step is bounded too (src/node/bounded.ts).
    await this.assembly?.close(Math.max(this.config.drainTimeoutMs, 1_000));
    this.security?.close();
    await this.httpShell.close();
  }
}
