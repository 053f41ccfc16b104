// One quorumkv node process, assembled from its parts (the composition root): storage
// engine, ring, gRPC transport, coordinator, the public and internal gRPC services,
// health and reflection, and the HTTP port for metrics and probes.
//
// Two gRPC ports (docs/operations/security.md): the client port serves KV, Admin and health to
// clients with a certificate and a role; the peer port serves the internal Replica
// service to members only (mutual TLS, each call's sender checked against its
// certificate). Neither guard runs with --insecure, which the node says at every start.
//
// Start order: the HTTP port first (so /livez answers while the WAL replays and
// /readyz says why it is not ready), then storage, ring and coordinator, then the
// node's ring state (src/membership/ring-membership.ts: a new node probes its peers to
// learn whether it joins an existing cluster), then the gRPC ports, then the
// fault-tolerance services: failure detection (probes), hinted handoff delivery and
// background anti-entropy, and finally a join or decommission that was under way.
// A JOINING node serves replica calls but refuses clients (NOT_READY) and is not ready
// until it has streamed its ranges. Drain order (SIGTERM): stop taking requests
// (readiness and health go NOT_SERVING, new calls are refused), stop a cleanup and
// streaming, let in-flight calls finish, wait for the coordinator's late replies and
// repairs, sync the WAL, close the store, close HTTP.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import type { Registry } from 'prom-client';
import { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import { Coordinator } from '../coordinator/coordinator.js';
import { LocalReplica } from '../replica/local-replica.js';
import { NotReadyError, QkvError, ReplicaStaleError, ShuttingDownError } from '../errors/errors.js';
import { WatchedCertificates } from '../security/watched-certificates.js';
import { clientPortGuard, peerPortGuard } from '../security/call-guards.js';
import { ReceiveGate } from '../security/receive-gate.js';
import { clientPortCredentials, peerChannelCredentials, peerPortCredentials, TLS_CHANNEL_OPTIONS } from '../security/tls-credentials.js';
import { loadUsersFile, UserRoles } from '../security/user-roles.js';
import { PrometheusSecurityMetrics } from '../metrics/security-prometheus.js';
import { join } from 'node:path';
import {
  CLEANUP_PEER_TIMEOUT_MS,
  HINT_REPLAY_INTERVAL_MS_DEFAULT,
  LAST_SEEN_INTERVAL_MS,
  MERKLE_DEPTH_DEFAULT,
  PEER_PROBE_TIMEOUT_MS_DEFAULT,
  PEERS_READY_RETRY_MS,
} from '../limits.js';
import { RingMembership, type MovementProgressStore, type StreamStatus } from '../membership/ring-membership.js';
import { NO_RING_STATE_STORE } from '../membership/ring-state-table.js';
import { syncRange } from '../repair/range-sync.js';
import { ByteThrottle } from '../streaming/byte-throttle.js';
import { CompletedRanges } from '../streaming/completed-ranges.js';
import { EVERY_TOKEN, HeldRanges } from '../streaming/held-ranges.js';
import { RangeCleanup, type CleanupProgress, type CleanupReport, type PeerRings } from '../streaming/range-cleanup.js';
import { PrometheusStreamMetrics } from '../metrics/streaming-prometheus.js';
import { PrometheusCleanupMetrics } from '../metrics/cleanup-prometheus.js';
import { HeldRangesFile } from './held-ranges-file.js';
import type { ReplicaHandler } from '../replica/peer-transport.js';
import { RingStateFile } from './ring-state-file.js';
import { StreamProgressFile } from './stream-progress-file.js';
import { FailureDetector } from '../membership/failure-detector.js';
import { PeerProber } from '../membership/peer-prober.js';
import { HintedHandoff } from '../handoff/hinted-handoff.js';
import { AntiEntropy, type RepairReport } from '../repair/anti-entropy.js';
import {
  PrometheusAntiEntropyMetrics,
  PrometheusFailureDetectorMetrics,
  PrometheusHintMetrics,
} from '../metrics/fault-tolerance-prometheus.js';
import { readLastSeenMs, writeLastSeenMs } from './last-seen.js';
import type { TokenRange } from '../ring/token-range.js';
import type { ScanCursor } from '../storage/storage-engine.js';
import type { KvRecord } from '../storage/record.js';
import type { Logger } from '../logging/logger.js';
import type { Discovery } from '../discovery/discovery.js';
import type { Member } from '../ring/member.js';
import type { HashRing } from '../ring/hash-ring.js';
import type { PlacementRings } from '../ring/placement-rings.js';
import { createTokenHasher, loadXxHash64 } from '../ring/token-hasher.js';
import type { StorageEngine } from '../storage/storage-engine.js';
import { GrpcTransport } from '../transport/grpc/grpc-transport.js';
import { addReplicaService, type ExchangeStreams } from '../transport/grpc/replica-service.js';
import { addAdminService, type ClusterView, type NodeState } from '../api/admin-service.js';
import { addKvService } from '../api/kv-service.js';
import { SERVER_OPTIONS } from '../protocol/grpc-options.js';
import { loadReflectionDefinition } from '../protocol/proto-package.js';
import { createApiContext } from '../api/unary-handler.js';
import type { NodeConfig } from '../config/node-config.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { MetricsHttpServer } from '../metrics/metrics-http-server.js';
import { PrometheusCoordinatorMetrics } from '../metrics/coordinator-prometheus.js';
import { PrometheusReplicaCallMetrics } from '../metrics/replica-call-prometheus.js';
import { ClusterResourceSync } from '../kubernetes/cluster-resource-sync.js';
import type { LiveSettings } from '../kubernetes/cluster-spec.js';
import { loadKubeConfig, resolveNamespace } from '../kubernetes/kube-config.js';
import type { LogLevel } from '../logging/log-level.js';
import { formatFsyncPolicy } from '../storage/wal/fsync-policy.js';
import { DataDirLock } from './data-dir-lock.js';
import { createDiscovery } from './node-discovery.js';
import { dataDirOf, openNodeStorage } from './node-storage.js';
import { softwareVersion } from './software-version.js';

/** At most one `call refused` log line per port and code in this time. */
const REFUSAL_LOG_INTERVAL_MS = 1_000;

/** The gRPC services health reports on; '' is the whole server. */
const HEALTH_SERVICES = ['', 'quorumkv.v1.KV', 'quorumkv.v1.Admin', 'quorumkv.v1.Replica'];

export interface StartedNode {
  readonly grpcPort: number;
  readonly peerPort: number;
  readonly httpPort: number;
  drain(reason: string): Promise<void>;
}

export interface QuorumNodeOptions {
  /** Changes the log level of the node's logger (pino's `level`); live setting. */
  readonly setLogLevel?: (level: LogLevel) => void;
}

export class QuorumNode implements ClusterView, StartedNode {
  readonly softwareVersion = softwareVersion();
  readonly startedAtMs = Date.now();
  readonly nodeId: string;
  grpcPort = 0;
  peerPort = 0;
  httpPort = 0;

  private currentState: NodeState = 'STARTING';
  private notReadyReason = 'starting';
  private membership: RingMembership | undefined;
  private currentMembers: readonly Member[] = [];
  private readonly registry: Registry;
  private readonly httpServer: MetricsHttpServer;
  private readonly health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((name) => [name, 'NOT_SERVING' as const])));
  /** The client port's server and the peer port's. */
  private grpcServer: grpc.Server | undefined;
  private peerServer: grpc.Server | undefined;
  /** The node's certificates, re-read when they change; undefined with --insecure. */
  private certificates: WatchedCertificates | undefined;
  /** Who may do what on the client port; replaced live from the QuorumKVCluster. */
  private users = new UserRoles([]);
  /** The QuorumKVCluster's users as last applied, to log only changes. */
  private usersFromResource: string | undefined;
  private readonly securityMetrics: PrometheusSecurityMetrics;
  /** Peers' Exchange streams into this node; drained before the gRPC server shuts down. */
  private replicaStreams: ExchangeStreams | undefined;
  private storage: StorageEngine | undefined;
  private lock: DataDirLock | undefined;
  private transport: GrpcTransport | undefined;
  private coordinator: Coordinator | undefined;
  private discovery: Discovery | undefined;
  private draining: Promise<void> | undefined;
  private readonly detector: FailureDetector;
  private prober: PeerProber | undefined;
  private handoff: HintedHandoff | undefined;
  private antiEntropy: AntiEntropy | undefined;
  private lastSeenTimer: NodeJS.Timeout | undefined;
  private clusterSync: ClusterResourceSync | undefined;
  private held: HeldRanges | undefined;
  private rangeCleanup: RangeCleanup | undefined;

  private constructor(
    private readonly config: NodeConfig,
    private readonly logger: Logger,
    private readonly options: QuorumNodeOptions = {},
  ) {
    this.nodeId = config.nodeId;
    this.registry = createMetricsRegistry({ nodeId: config.nodeId });
    this.securityMetrics = new PrometheusSecurityMetrics(this.registry);
    this.httpServer = new MetricsHttpServer({
      registry: this.registry,
      readiness: () => {
        const reason = this.unreadyReason();
        return reason === undefined ? { ready: true } : { ready: false, reason };
      },
      onError: (error) => logger.error({ err: error }, 'metrics HTTP request failed'),
    });
    this.detector = new FailureDetector({
      downAfterFailures: config.downAfterFailures,
      metrics: new PrometheusFailureDetectorMetrics(this.registry),
      onTransition: (peer, from, to) => {
        const log = to === 'down' || from === 'down' ? logger.warn.bind(logger) : logger.debug.bind(logger);
        log({ peer, from, to }, 'peer state changed');
        if (from === 'down') void this.handoff?.deliver(peer).catch(() => {});
      },
    });
  }

  liveness(peer: string): string {
    return this.detector.state(peer);
  }

  hintBytes(): ReadonlyMap<string, number> {
    return this.handoff?.pendingBytes() ?? new Map();
  }

  repair(): Promise<RepairReport> {
    if (this.antiEntropy === undefined) throw new NotReadyError(this.notReadyReason);
    return this.antiEntropy.repair({ paced: false });
  }

  /** Starts decommissioning (src/membership/ring-membership.ts); returns the ring state after the call. */
  decommission(): Promise<string> {
    if (this.currentState !== 'SERVING' || this.membership === undefined) return Promise.reject(new NotReadyError(this.notReadyReason));
    return this.membership.decommission();
  }

  /** Deletes the records of the ranges this node no longer replicates (src/streaming/range-cleanup.ts). */
  cleanup(): Promise<CleanupReport> {
    if (this.currentState !== 'SERVING' || this.rangeCleanup === undefined) return Promise.reject(new NotReadyError(this.notReadyReason));
    return this.rangeCleanup.run();
  }

  cleanupStatus(): CleanupProgress & { readonly needed: boolean } {
    const progress = this.rangeCleanup?.progress() ?? { running: false, rangesDone: 0, rangesTotal: 0, recordsScanned: 0, recordsRemoved: 0, lastError: '' };
    return { ...progress, needed: this.cleanupNeeded() };
  }

  private cleanupNeeded(): boolean {
    if (this.held === undefined || this.membership === undefined) return false;
    return this.held.needsCleanup(this.membership.rings());
  }

  ringState(): string {
    return this.membership?.reportedState() ?? 'UNKNOWN';
  }

  memberRingState(id: string): string {
    return this.membership?.stateShownFor(id) ?? 'UNKNOWN';
  }

  streamStatus(): StreamStatus | undefined {
    return this.membership?.streamStatus();
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

  /** The key limit in force now (a QuorumKVCluster may change it live). */
  get keyBytesMax(): number {
    return this.coordinator?.config.keyBytesMax ?? this.config.keyBytesMax;
  }

  state(): NodeState {
    return this.currentState;
  }

  /** The read ring: the members that hold their ranges' data now. */
  ring(): HashRing {
    return this.placementRings().read;
  }

  private placementRings(): PlacementRings {
    if (this.membership === undefined) throw new NotReadyError('the ring is not built yet');
    return this.membership.rings();
  }

  members(): readonly Member[] {
    return this.currentMembers;
  }

  /** Drains and closes; safe to call more than once (later calls share the first). */
  drain(reason: string): Promise<void> {
    this.draining ??= this.runDrain(reason);
    return this.draining;
  }

  private async open(): Promise<void> {
    const { config, logger } = this;
    this.httpPort = await this.httpServer.listen(config.host, config.httpPort);
    logger.info({ httpPort: this.httpPort }, 'metrics and probes listening');

    await this.openSecurity();

    const tokenOf = await createTokenHasher();
    const hash = await loadXxHash64();
    const durable = config.storage === 'durable';
    const dataDir = dataDirOf(config);
    if (durable) this.lock = await DataDirLock.acquire(dataDir);
    const lastSeenMs = durable ? await readLastSeenMs(dataDir) : undefined;
    const staleRejoin = this.checkLastSeen(lastSeenMs);
    const stateFile = durable ? new RingStateFile(dataDir) : undefined;
    const saved = stateFile === undefined ? { exists: false, self: undefined, peers: new Map() } : await stateFile.load();
    const heldFile = durable ? new HeldRangesFile(dataDir) : undefined;
    // A data directory used before this file was kept may hold anything.
    const heldBefore = (await heldFile?.load()) ?? (lastSeenMs !== undefined ? EVERY_TOKEN : []);
    const held = new HeldRanges(heldBefore, { nodeId: config.nodeId, store: heldFile ?? { save: async () => {} }, logger });
    this.held = held;
    this.notReadyReason = 'opening storage';
    this.storage = await openNodeStorage(config, { tokenOf, registry: this.registry, logger });

    const clock = new HybridLogicalClock();
    const localReplica = new LocalReplica(this.storage, clock, { tokenOf, tombstoneGraceMs: config.tombstoneGraceMs });
    const transport = new GrpcTransport({
      localNodeId: config.nodeId,
      localHandler: localReplica,
      metrics: new PrometheusReplicaCallMetrics(this.registry),
      ...(this.certificates === undefined
        ? {}
        : { credentialsFor: peerCredentialsOf(this.certificates), channelOptions: TLS_CHANNEL_OPTIONS }),
    });
    this.transport = transport;
    this.prober = new PeerProber({
      transport,
      liveness: this.detector,
      peers: () => this.currentMembers.map((member) => member.id).filter((id) => id !== config.nodeId),
      intervalMs: config.probeIntervalMs,
      timeoutMs: Math.min(PEER_PROBE_TIMEOUT_MS_DEFAULT, config.probeIntervalMs),
      hello: (peer) => this.membership!.hello(peer),
      onAnswer: (peer, answer) => this.membership!.onAnswer(peer, answer),
    });
    const prober = this.prober;
    const throttle = new ByteThrottle(config.streamBytesPerSecond);
    const local = {
      merkleTree: (range: TokenRange, depth: number) => localReplica.merkleTree(range, depth),
      scan: (range: TokenRange, limit: number, cursor?: ScanCursor) => localReplica.scan(range, limit, cursor),
      apply: (records: readonly KvRecord[]) => localReplica.apply(records),
    };
    this.membership = new RingMembership({
      nodeId: config.nodeId,
      replicationFactor: config.replicationFactor,
      vnodes: config.vnodes,
      hash,
      saved,
      stateStore: stateFile ?? NO_RING_STATE_STORE,
      progressStore: durable ? progressStoreOf(new StreamProgressFile(dataDir)) : memoryProgressStore(),
      liveness: this.detector,
      probeAll: () => prober.probeAll(),
      sync: (peer, range, direction, signal) =>
        syncRange({ local, transport, depth: MERKLE_DEPTH_DEFAULT, tokenOf, beforeBatch: (bytes) => throttle.take(bytes, signal) }, peer, range, direction),
      writeSettings: () => this.coordinator!.config,
      metrics: new PrometheusStreamMetrics(this.registry, {
        self: () => this.membership?.self,
        memberStates: () => this.membership?.memberStates() ?? [],
        rangesRemaining: () => this.membership?.rangesRemaining() ?? 0,
      }),
      onSelfChanged: () => this.updateHealth(),
      onMembersChanged: (members) => this.applyMembers(members),
      onRingsChanged: (rings) => held.observe(rings),
      logger,
    });
    const membership = this.membership;
    held.observe(membership.rings());
    const storage = this.storage;
    this.rangeCleanup = new RangeCleanup({
      nodeId: config.nodeId,
      storage,
      view: () => ({
        self: membership.self,
        members: membership.memberList().map((member) => ({ id: member.id, state: membership.stateOf(member.id) })),
        rings: membership.rings(),
      }),
      askPeers: (peers) => Promise.all(peers.map((peer) => this.askRings(peer))),
      held,
      metrics: new PrometheusCleanupMetrics(this.registry, { running: () => this.rangeCleanup?.progress().running ?? false, needed: () => this.cleanupNeeded() }),
      logger,
    });

    const self: Member = { id: config.nodeId, address: `127.0.0.1:${config.grpcPort}`, ready: true };
    this.discovery = createDiscovery(config, logger, self);
    await this.discovery.start((members) => this.onMembers(members));
    if (durable) {
      this.handoff = await HintedHandoff.open({
        dir: join(dataDir, 'hints'),
        transport,
        liveness: this.detector,
        logger,
        bytesPerPeerMax: config.hintBytesPerPeerMax,
        windowMs: config.hintWindowMs,
        tombstoneGraceMs: config.tombstoneGraceMs,
        replayBytesPerSecond: config.hintReplayBytesPerSecond,
        replayIntervalMs: HINT_REPLAY_INTERVAL_MS_DEFAULT,
        metrics: new PrometheusHintMetrics(this.registry, () => this.hintBytes()),
      });
    }

    this.coordinator = new Coordinator(
      {
        nodeId: config.nodeId,
        replicationFactor: config.replicationFactor,
        writeTimeoutMs: config.writeTimeoutMs,
        readTimeoutMs: config.readTimeoutMs,
        inFlightRequestsMax: config.inFlightRequestsMax,
        keyBytesMax: config.keyBytesMax,
        valueBytesMax: config.valueBytesMax,
        batchItemsMax: config.batchItemsMax,
        hintedWritesCountTowardW: config.hintedWritesCountTowardW,
      },
      {
        placement: (key) => this.placementRings().placementOfKey(key),
        transport,
        localReplica,
        clock,
        logger,
        metrics: new PrometheusCoordinatorMetrics(this.registry),
        liveness: this.detector,
        ...(this.handoff ? { hints: this.handoff } : {}),
      },
    );
    this.antiEntropy = new AntiEntropy({
      nodeId: config.nodeId,
      local,
      transport,
      ranges: () => this.ring().rangesReplicatedOn(config.nodeId),
      liveness: this.detector,
      logger,
      depth: MERKLE_DEPTH_DEFAULT,
      tokenOf,
      rangesPerSecond: config.repairRangesPerSecond,
      metrics: new PrometheusAntiEntropyMetrics(this.registry),
    });

    if (config.kubeClusterResource !== '') await this.startClusterSync();

    // The own ring state comes first: a new node asks its peers whether it joins an
    // existing cluster before it answers any probe itself.
    this.notReadyReason = 'choosing the ring state';
    await membership.decide(lastSeenMs !== undefined);
    this.notReadyReason = 'probing peers before serving';

    // The Replica service as peers see it: the local replica, probes answered with the
    // ring states, and no key reads while the membership says so (JOINING,
    // RingMembership.servesKeyReads).
    const replicaHandler: ReplicaHandler = {
      apply: (records, encoding) => localReplica.apply(records, encoding),
      read: (keys, answerBytesMax) => {
        if (keys.length > 0 && !membership.servesKeyReads()) return Promise.reject(new NotReadyError(`this node is ${membership.self ?? 'starting'} and serves no key reads`));
        return localReplica.read(keys, answerBytesMax);
      },
      merkleTree: (range, depth) => localReplica.merkleTree(range, depth),
      scan: (range, limit, cursor) => localReplica.scan(range, limit, cursor),
      probe: async (hello) => membership.onProbe(hello),
    };
    const certificates = this.certificates;
    // Every refusal is counted; at most one a second per port and code is logged, so a
    // caller hammering the port cannot fill the disk with log lines.
    const refusalLoggedAtMs = new Map<string, number>();
    const onRefused = (port: 'client' | 'peer') => (error: QkvError, method: string) => {
      this.securityMetrics.refused(port, error.code);
      const key = `${port} ${error.code}`;
      const nowMs = Date.now();
      if (nowMs - (refusalLoggedAtMs.get(key) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
      refusalLoggedAtMs.set(key, nowMs);
      logger.warn({ port, method, code: error.code, reason: error.message }, 'call refused (more like it within a second are counted in qkv_calls_refused_total, not logged)');
    };
    const server = new grpc.Server({
      ...SERVER_OPTIONS,
      // The guard first: a refused caller never takes a turn at the receive gate.
      interceptors: [
        ...(certificates === undefined ? [] : [clientPortGuard(() => this.users, { onRefused: onRefused('client') })]),
        new ReceiveGate().interceptor(),
      ],
    });
    const peerServer = new grpc.Server({
      ...SERVER_OPTIONS,
      interceptors: [...(certificates === undefined ? [] : [peerPortGuard({ onRefused: onRefused('peer') })]), new ReceiveGate().interceptor()],
    });
    const context = createApiContext(logger, this.registry);
    addKvService(server, {
      coordinator: this.coordinator,
      placement: (key) => this.placementRings().placementOfKey(key),
      context,
      admit: () => this.admit(),
    });
    addAdminService(server, this, context);
    this.replicaStreams = addReplicaService(peerServer, {
      handler: replicaHandler,
      logger,
      onPeerSeen: (peer) => {
        this.detector.recordInbound(peer);
        this.transport?.peerSeen(peer);
      },
    });
    this.health.addToServer(server);
    if (config.reflection) new ReflectionService(loadReflectionDefinition()).addToServer(server);
    this.grpcServer = server;
    this.peerServer = peerServer;
    this.peerPort = await bind(peerServer, `${config.host}:${config.peerPort}`, certificates === undefined ? grpc.ServerCredentials.createInsecure() : peerPortCredentials(certificates));
    this.grpcPort = await bind(server, `${config.host}:${config.grpcPort}`, certificates === undefined ? grpc.ServerCredentials.createInsecure() : clientPortCredentials(certificates));

    prober.start();
    // Before reporting ready, reach every peer (bounded; docs/decisions/0036): peers that
    // marked this node down while it was away hear from it and use it again at once,
    // peers whose channels to it wait out a reconnect backoff reconnect now, and this
    // node learns the ring states that changed while it was away. A peer that stays
    // silent is left to the failure detector.
    this.notReadyReason = 'reaching peers';
    const silent = await prober.probeUntilAnswered(config.peersReadyWaitMs, PEERS_READY_RETRY_MS);
    if (silent.length > 0) logger.warn({ peers: silent, waitedMs: config.peersReadyWaitMs }, 'serving although some peers did not answer');
    this.handoff?.start();
    if (config.repairIntervalMs > 0) this.antiEntropy.start(config.repairIntervalMs);
    if (staleRejoin) {
      // The operator allowed a stale rejoin: bring this node's ranges in line at once.
      void this.antiEntropy.repair({ paced: false }).catch((error: unknown) => logger.error({ err: error }, 'repair after a stale rejoin failed'));
    }
    if (durable) {
      await writeLastSeenMs(dataDir, Date.now());
      this.lastSeenTimer = setInterval(() => {
        writeLastSeenMs(dataDir, Date.now()).catch((error: unknown) => logger.warn({ err: error }, 'could not record the last-seen time'));
      }, LAST_SEEN_INTERVAL_MS);
      this.lastSeenTimer.unref();
    }

    this.currentState = 'SERVING';
    this.updateHealth();
    logger.info(
      {
        grpcPort: this.grpcPort,
        peerPort: this.peerPort,
        httpPort: this.httpPort,
        tls: this.certificates !== undefined,
        members: this.currentMembers.map((member) => member.id),
        ringState: membership.self,
        ringDigest: membership.rings().read.digest,
        storage: config.storage,
        dataDir: durable ? dataDir : undefined,
        version: this.softwareVersion,
      },
      membership.self === 'JOINING' ? 'node serving replica calls; joining before it serves clients' : 'node serving',
    );
    // A join or decommission runs in the background; a restart resumes it here.
    membership.resume();
  }

  /**
   * Loads the node's certificates (refusing to start without them unless --insecure)
   * and its users. With --insecure the node says so loudly at every start: anyone who
   * reaches its ports may read and change every key and speak for any member.
   */
  private async openSecurity(): Promise<void> {
    const { config, logger } = this;
    if (config.usersFile !== '') this.users = new UserRoles(await loadUsersFile(config.usersFile));
    if (config.insecure) {
      logger.warn(
        { grpcPort: config.grpcPort, peerPort: config.peerPort },
        'INSECURE MODE: TLS and authentication are off. Anyone who can reach the client or peer port can read, change and delete every key, ' +
          'and can speak for any member of the cluster. Use it only on a trusted machine or network (docs/operations/security.md).',
      );
      return;
    }
    const dir = config.tlsDir !== '' ? config.tlsDir : join(dataDirOf(config), 'tls');
    const certificates = await WatchedCertificates.open({
      dir,
      expected: { kind: 'node', name: config.nodeId },
      onRotated: (set) => {
        this.securityMetrics.reloaded('rotated');
        this.securityMetrics.certificateInUse(set.notAfter);
        logger.info({ dir, notAfter: set.notAfter }, 'certificates changed on disk; new connections use them');
      },
      onRefused: (error) => {
        this.securityMetrics.reloaded('refused');
        logger.error({ dir, err: error }, 'changed certificate files are not a whole set; still using the previous ones');
      },
    });
    this.certificates = certificates;
    this.securityMetrics.certificateInUse(certificates.set.notAfter);
    logger.info({ dir, notAfter: certificates.set.notAfter, users: this.users.size }, 'TLS on: client certificates on the client port, mutual TLS on the peer port');
  }

  /** A probe of one member for cleanup: its ring state is learned as from any probe, and its rings returned. */
  private async askRings(peer: string): Promise<PeerRings> {
    const membership = this.membership!;
    try {
      const answer = await this.transport!.probe(peer, membership.hello(peer), { deadlineMs: Date.now() + CLEANUP_PEER_TIMEOUT_MS });
      this.detector.recordAnswer(peer);
      membership.onAnswer(peer, answer);
      return { peer, digests: answer.ringDigests };
    } catch (error) {
      return { peer, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Follows the QuorumKVCluster resource (src/kubernetes/cluster-resource-sync.ts). */
  private async startClusterSync(): Promise<void> {
    const { config } = this;
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
        members: () => this.currentMembers,
        ringDigest: () => this.membership?.rings().read.digest,
      },
    });
    await this.clusterSync.start();
  }

  private applyLive(settings: LiveSettings): void {
    this.coordinator!.reconfigure(settings.coordinator);
    this.options.setLogLevel?.(settings.logLevel);
    // The QuorumKVCluster's users replace the whole table (a users file included): the
    // resource is the source of truth, and calls after this one see the new roles.
    const shown = settings.users.map((user) => `${user.name}:${user.roles.join('+')}`);
    const changed = shown.join(',') !== this.usersFromResource;
    this.users = new UserRoles(settings.users);
    this.usersFromResource = shown.join(',');
    if (changed) this.logger.info({ users: shown }, 'users and roles applied from the QuorumKVCluster');
  }

  /**
   * A change from discovery. The membership decides the member list in force: members
   * discovery dropped stay while they own ranges (until they announce LEFT), so a pod
   * re-created during a rolling restart does not move its ranges to stand-ins
   * (docs/decisions/0081-retain-members-until-left.md). The list reaches the transport,
   * the failure detector and the prober through applyMembers.
   */
  private onMembers(discovered: readonly Member[]): void {
    this.membership?.setMembers(discovered);
  }

  /** The member list in force (discovery's and the retained members): route, probe and show by it. */
  private applyMembers(members: readonly Member[]): void {
    this.currentMembers = members;
    this.transport?.setMembers(members);
    this.detector.setPeers(members.map((member) => member.id).filter((id) => id !== this.config.nodeId));
    this.clusterSync?.membersChanged();
    this.logger.info(
      {
        members: members.map((member) => member.id),
        retained: members.filter((member) => member.retained === true).map((member) => member.id),
        ringDigest: this.membership?.rings().read.digest,
      },
      'membership changed',
    );
  }

  /**
   * Tombstone safety: refuses to start (or, when allowed, warns) when the data directory
   * was last used longer ago than the tombstone grace period. Returns true for an
   * allowed stale rejoin, which repairs at once.
   */
  private checkLastSeen(lastSeenMs: number | undefined): boolean {
    if (lastSeenMs === undefined) return false;
    const downMs = Date.now() - lastSeenMs;
    if (downMs <= this.config.tombstoneGraceMs) return false;
    const error = new ReplicaStaleError(downMs, this.config.tombstoneGraceMs);
    if (!this.config.allowStaleRejoin) throw error;
    this.logger.warn({ downMs, tombstoneGraceMs: this.config.tombstoneGraceMs }, `${error.message} (allowed: repairing now)`);
    return true;
  }

  /**
   * Why /readyz says no: starting, draining, joining (with its progress), or announcing
   * NORMAL to peers that have not heard it yet. A joining node says so from the moment
   * it has chosen JOINING, while it still starts up: its gRPC port (and Status, showing
   * JOINING) is open by then.
   */
  private unreadyReason(): string | undefined {
    return this.refusalReason() ?? this.membership?.announcingReason();
  }

  /** Why client calls are refused now (starting, draining, joining), or undefined. */
  private refusalReason(): string | undefined {
    if (this.currentState === 'DRAINING') return this.notReadyReason;
    const joining = this.membership?.notReadyReason();
    if (joining !== undefined) return joining;
    return this.currentState === 'SERVING' ? undefined : this.notReadyReason;
  }

  private admit(): void {
    if (this.currentState === 'DRAINING') throw new ShuttingDownError();
    const reason = this.refusalReason();
    if (reason !== undefined) throw new NotReadyError(reason);
  }

  /**
   * Health follows the process and the ring state: while serving, the whole server, the
   * Admin and Replica services are SERVING (a kubelet startup or liveness probe passes
   * during a long join); the KV service, which readiness asks for, only when the node
   * is not JOINING.
   */
  private updateHealth(): void {
    const serving = this.currentState === 'SERVING';
    for (const name of HEALTH_SERVICES) {
      const up = serving && (name !== 'quorumkv.v1.KV' || this.membership?.self !== 'JOINING');
      this.health.setStatus(name, up ? 'SERVING' : 'NOT_SERVING');
    }
  }

  private async runDrain(reason: string): Promise<void> {
    const started = Date.now();
    this.logger.info({ reason, inFlightRequests: this.coordinator?.inFlightRequests ?? 0 }, 'draining');
    this.currentState = 'DRAINING';
    this.notReadyReason = 'draining';
    for (const name of HEALTH_SERVICES) this.health.setStatus(name, 'NOT_SERVING');
    await this.close();
    this.logger.info({ elapsedMs: Date.now() - started }, 'drained; storage synced and closed');
  }

  /** Closes whatever is open, in drain order. */
  private async close(): Promise<void> {
    // A running cleanup stops at once, so an Admin.Cleanup call in flight ends
    // (SHUTTING_DOWN) instead of holding the server's shutdown until the drain timeout.
    const cleanupStopped = this.rangeCleanup?.close();
    const servers = [this.grpcServer, this.peerServer].filter((server) => server !== undefined);
    if (servers.length > 0) {
      // tryShutdown refuses new calls at once and calls back when the running ones end;
      // peers' Exchange streams never end by themselves, so they are told to finish first.
      this.replicaStreams?.drain();
      const finished = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.tryShutdown(() => resolve()))));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.config.drainTimeoutMs);
      });
      const late = await Promise.race([finished.then(() => false), timedOut]);
      clearTimeout(timer);
      if (late) {
        this.logger.warn({ drainTimeoutMs: this.config.drainTimeoutMs }, 'in-flight calls outlived the drain timeout; cancelling them');
        for (const server of servers) server.forceShutdown();
      }
    }
    // Every later step is bounded too: a drain that cannot finish (a storage engine
    // that failed underneath, say) must end in a logged error and a non-zero exit, not
    // in a process that ignores every further SIGTERM.
    const stepMs = Math.max(this.config.drainTimeoutMs, 1_000);
    clearInterval(this.lastSeenTimer);
    await this.clusterSync?.stop();
    await this.discovery?.stop();
    await this.prober?.stop();
    if (this.membership !== undefined) await bounded(this.membership.close(), stepMs, 'stopping a join or decommission');
    if (cleanupStopped !== undefined) await bounded(cleanupStopped, stepMs, 'stopping a cleanup');
    await this.antiEntropy?.close();
    if (this.coordinator !== undefined) await bounded(this.coordinator.close(), stepMs, 'waiting for late replica replies');
    await this.handoff?.close();
    if (this.lastSeenTimer !== undefined) {
      await writeLastSeenMs(dataDirOf(this.config), Date.now()).catch((error: unknown) => this.logger.warn({ err: error }, 'could not record the last-seen time'));
    }
    await this.transport?.close();
    if (this.storage !== undefined) {
      const storage = this.storage;
      try {
        await bounded(storage.sync(), stepMs, 'syncing the WAL');
      } finally {
        await bounded(storage.close(), stepMs, 'closing the storage engine');
      }
    }
    this.certificates?.close();
    await this.lock?.release();
    await this.httpServer.close();
  }
}

/** `promise`, or an INTERNAL error naming `what` when it takes longer than `timeoutMs`. */
async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QkvError('INTERNAL', `drain: ${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))));
}

/** Channel credentials per peer, each accepting only that member's certificate. */
function peerCredentialsOf(certificates: WatchedCertificates): (peer: string) => grpc.ChannelCredentials {
  return (peer) => peerChannelCredentials(certificates, peer);
}

/** The data directory's progress file as the membership's port. */
function progressStoreOf(file: StreamProgressFile): MovementProgressStore {
  return { load: (kind) => file.load(kind), save: (kind, done) => file.save(kind, done), clear: () => file.clear() };
}

/** Memory storage keeps no files: progress lives as long as the process (and its data). */
function memoryProgressStore(): MovementProgressStore {
  let saved: { kind: string; done: CompletedRanges } | undefined;
  return {
    load: async (kind) => (saved?.kind === kind ? saved.done : new CompletedRanges()),
    save: async (kind, done) => {
      saved = { kind, done };
    },
    clear: async () => {
      saved = undefined;
    },
  };
}
