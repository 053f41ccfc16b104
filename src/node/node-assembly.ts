// A complete quorumkv node built from its ports (docs/decisions/0110-node-assembly-and-shells.md):
// storage engine, peer transport, discovery, clock, metrics registry, logger and the
// node's small stores (src/node/node-stores.ts) are passed in; the assembly builds and
// owns what every node runs on top of them: the local replica, the coordinator, the
// ring membership (join and decommission with range streaming), failure detection,
// hinted handoff, anti-entropy, range cleanup, and cluster backup and restore (src/backup). It knows neither gRPC nor HTTP nor
// files: a process node (src/node/quorum-node.ts) puts a gRPC and an HTTP shell in
// front of it, and src/node/in-memory-cluster.ts runs several over a MemoryNetwork.
//
// Lifecycle: open() opens storage and decides the node's ring state (a new node probes
// its peers to learn whether it joins an existing cluster); the caller then makes the
// replica handler reachable (binds the peer port, or registers it on the network) and
// calls serve(), which starts probing, reaches every peer once, starts hinted handoff
// and anti-entropy, reports SERVING and resumes a join or decommission that was under
// way. A JOINING node serves replica calls but refuses clients (NOT_READY) until it
// has streamed its ranges. beginDrain() refuses new client calls and stops a cleanup;
// close() (after the shells stopped taking calls) closes the rest in drain order.
import type { Registry } from 'prom-client';
import type { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import { systemClock, type Clock, type Timer } from '../clock/clock.js';
import { Coordinator, type LiveCoordinatorSettings } from '../coordinator/coordinator.js';
import { LocalReplica } from '../replica/local-replica.js';
import { NotReadyError, OverloadedError, ReplicaStaleError, ShuttingDownError, type MemberForgottenError } from '../errors/errors.js';
import { CLEANUP_PEER_TIMEOUT_MS, HINT_REPLAY_INTERVAL_MS_DEFAULT, LAST_SEEN_INTERVAL_MS, MERKLE_DEPTH_DEFAULT, PEER_PROBE_TIMEOUT_MS_DEFAULT, PEERS_READY_RETRY_MS } from '../limits.js';
import type { Logger } from '../logging/logger.js';
import { FailureDetector } from '../membership/failure-detector.js';
import type { Discovery } from '../discovery/discovery.js';
import type { Member } from '../ring/member.js';
import { PeerProber } from '../membership/peer-prober.js';
import { RingMembership, type StreamStatus } from '../membership/ring-membership.js';
import type { SignedForget } from '../membership/ring-state-table.js';
import type { ForgetSignature } from '../ring/ring-state.js';
import { HintedHandoff } from '../handoff/hinted-handoff.js';
import { PrometheusCleanupMetrics } from '../metrics/cleanup-prometheus.js';
import { PrometheusCoordinatorMetrics } from '../metrics/coordinator-prometheus.js';
import { PrometheusAntiEntropyMetrics, PrometheusFailureDetectorMetrics, PrometheusHintMetrics } from '../metrics/fault-tolerance-prometheus.js';
import { PrometheusStreamMetrics } from '../metrics/streaming-prometheus.js';
import { AntiEntropy, type RepairReport } from '../repair/anti-entropy.js';
import { syncRange } from '../repair/range-sync.js';
import type { HashRing } from '../ring/hash-ring.js';
import type { PlacementRings } from '../ring/placement-rings.js';
import { createTokenHasher, loadXxHash64 } from '../ring/token-hasher.js';
import type { TokenFunction, TokenRange } from '../ring/token-range.js';
import type { KvRecord } from '../storage/record.js';
import type { ScanCursor, StorageEngine } from '../storage/storage-engine.js';
import { ByteThrottle } from '../streaming/byte-throttle.js';
import { HeldRanges } from '../streaming/held-ranges.js';
import { RangeCleanup, type CleanupProgress, type CleanupReport, type PeerRings } from '../streaming/range-cleanup.js';
import type { PeerTransport, ReplicaHandler } from '../replica/peer-transport.js';
import type { ClusterView, NodeState } from '../api/admin-service.js';
import type { NodeConfig } from '../config/node-config.js';
import { openBackupStore } from '../backup/open-backup-store.js';
import { missingMembersOf } from '../backup/backup-manifest.js';
import { runClusterBackup, type BackupOptions, type BackupProgress, type BackupReport } from '../backup/cluster-backup.js';
import { runClusterRestore, type RestoreProgress } from '../backup/cluster-restore.js';
import { BackupSet } from '../backup/backup-set.js';
import { bounded } from './bounded.js';
import type { NodeStores } from './node-stores.js';
import { softwareVersion } from './software-version.js';

/**
 * A peer transport as the node uses it. The two hooks are for a transport that keeps a
 * connection per member (src/transport/grpc): it learns the member list, and hears when
 * a peer called in (so a connection waiting out a reconnect backoff retries now).
 */
export interface NodeTransport extends PeerTransport {
  setMembers?(members: readonly Member[]): void;
  peerSeen?(peer: string): void;
}

/** What a node is built from. */
export interface NodePorts {
  /** Opens the storage engine (the durable engine replays its WAL here). */
  readonly openStorage: (tokenOf: TokenFunction) => Promise<StorageEngine>;
  /** The transport to the peers, given the replica that answers the node's calls to itself. */
  readonly transport: (localReplica: ReplicaHandler) => NodeTransport;
  readonly discovery: Discovery;
  readonly clock: HybridLogicalClock;
  /**
   * Time for deadlines, timers and intervals (src/clock/clock.ts); the system clock unless
   * a test runs the node on virtual time.
   */
  readonly time?: Clock;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly stores: NodeStores;
  /**
   * Whether a forget is an admin user's (src/node/node-security.ts, ADR 0268); absent
   * with --insecure and in the in-memory cluster, where every forget is taken.
   */
  readonly checkForget?: (member: string, version: number, signed: ForgetSignature | undefined) => string | undefined;
}

/** Settings of the assembly: a node's configuration without its ports, files and security. */
export type NodeSettings = Pick<
  NodeConfig,
  | 'nodeId'
  | 'replicationFactor'
  | 'vnodes'
  | 'writeTimeoutMs'
  | 'readTimeoutMs'
  | 'inFlightRequestsMax'
  | 'keyBytesMax'
  | 'valueBytesMax'
  | 'batchItemsMax'
  | 'hintedWritesCountTowardW'
  | 'tombstoneGraceMs'
  | 'allowStaleRejoin'
  | 'downAfterFailures'
  | 'probeIntervalMs'
  | 'peersReadyWaitMs'
  | 'streamBytesPerSecond'
  | 'backupDir'
  | 'backupBytesPerSecond'
  | 'hintBytesPerPeerMax'
  | 'hintWindowMs'
  | 'hintReplayBytesPerSecond'
  | 'repairIntervalMs'
  | 'repairRangesPerSecond'
>;

export interface NodeAssemblyEvents {
  /** The node's state or ring state changed: health and readiness may differ now. */
  readonly onStatusChanged?: () => void;
  /** The member list in force changed. */
  readonly onMembersChanged?: (members: readonly Member[]) => void;
  /**
   * Peers say this node was forgotten (`qkv forget`) while it was away: it refuses every
   * call from now on (the process should stop; docs/decisions/0180).
   */
  readonly onForgotten?: (error: MemberForgottenError) => void;
}

/** What the gRPC shell serves the KV and Admin services from. */
export interface ClientFacing {
  readonly coordinator: Coordinator;
  placementRings(): PlacementRings;
  /** Throws NOT_READY or SHUTTING_DOWN when client calls are refused now. */
  admit(): void;
}

export class NodeAssembly implements ClusterView, ClientFacing {
  readonly softwareVersion = softwareVersion();
  readonly startedAtMs: number;
  readonly nodeId: string;

  private currentState: NodeState = 'STARTING';
  private notReadyReason = 'starting';
  private currentMembers: readonly Member[] = [];
  private readonly time: Clock;
  private readonly detector: FailureDetector;
  private storage: StorageEngine | undefined;
  private transport: NodeTransport | undefined;
  private membership: RingMembership | undefined;
  private held: HeldRanges | undefined;
  private rangeCleanup: RangeCleanup | undefined;
  private cleanupStopped: Promise<void> | undefined;
  private prober: PeerProber | undefined;
  private handoff: HintedHandoff | undefined;
  private antiEntropy: AntiEntropy | undefined;
  private clientCoordinator: Coordinator | undefined;
  private handler: ReplicaHandler | undefined;
  private discoveryStarted = false;
  private lastSeenTimer: Timer | undefined;
  private staleRejoin = false;
  /** Set once peers said this node was forgotten; it then serves nothing (docs/decisions/0180). */
  private forgottenError: MemberForgottenError | undefined;
  /** A backup or restore this node runs; one at a time (each reads or writes the whole cluster). */
  private backupRunning = false;
  /** Aborted when the node drains, so a running backup or restore stops at once. */
  private readonly drained = new AbortController();

  constructor(
    private readonly settings: NodeSettings,
    private readonly ports: NodePorts,
    private readonly events: NodeAssemblyEvents = {},
  ) {
    this.nodeId = settings.nodeId;
    this.time = ports.time ?? systemClock;
    this.startedAtMs = this.time.nowMs();
    const { logger } = ports;
    const time = this.time;
    this.detector = new FailureDetector({
      downAfterFailures: settings.downAfterFailures,
      nowMs: () => time.nowMs(),
      metrics: new PrometheusFailureDetectorMetrics(ports.registry),
      onTransition: (peer, from, to) => {
        const log = to === 'down' || from === 'down' ? logger.warn.bind(logger) : logger.debug.bind(logger);
        log({ peer, from, to }, 'peer state changed');
        if (from === 'down') void this.handoff?.deliver(peer).catch(() => {});
      },
    });
  }

  get coordinator(): Coordinator {
    if (this.clientCoordinator === undefined) throw new NotReadyError(this.notReadyReason);
    return this.clientCoordinator;
  }

  /** The Replica service as peers see it; defined once open() has resolved. */
  get replicaHandler(): ReplicaHandler {
    if (this.handler === undefined) throw new NotReadyError(this.notReadyReason);
    return this.handler;
  }

  /**
   * Opens storage, builds the node and decides its ring state. Throws when the data
   * was last used longer ago than the tombstone grace period (unless allowed).
   */
  async open(): Promise<void> {
    const { settings, ports } = this;
    const { logger, registry, stores } = ports;
    const time = this.time;
    this.staleRejoin = this.checkLastSeen(stores.lastSeenMs);
    const tokenOf = await createTokenHasher();
    const hash = await loadXxHash64();
    const held = new HeldRanges(stores.heldRangesBefore, { nodeId: settings.nodeId, store: stores.heldRangesStore, logger });
    this.held = held;
    this.notReadyReason = 'opening storage';
    this.storage = await ports.openStorage(tokenOf);
    const storage = this.storage;

    const localReplica = new LocalReplica(storage, ports.clock, { tokenOf, tombstoneGraceMs: settings.tombstoneGraceMs, nowMs: () => time.nowMs() });
    const transport = ports.transport(localReplica);
    this.transport = transport;
    this.prober = new PeerProber({
      transport,
      liveness: this.detector,
      peers: () => this.peerIds(),
      intervalMs: settings.probeIntervalMs,
      timeoutMs: Math.min(PEER_PROBE_TIMEOUT_MS_DEFAULT, settings.probeIntervalMs),
      hello: (peer) => this.membership!.hello(peer),
      onAnswer: (peer, answer) => this.membership!.onAnswer(peer, answer),
      clock: time,
    });
    const prober = this.prober;
    const throttle = new ByteThrottle(settings.streamBytesPerSecond, time);
    const local = {
      merkleTree: (range: TokenRange, depth: number) => localReplica.merkleTree(range, depth),
      scan: (range: TokenRange, limit: number, cursor?: ScanCursor) => localReplica.scan(range, limit, cursor),
      apply: (records: readonly KvRecord[]) => localReplica.apply(records),
    };
    this.membership = new RingMembership({
      nodeId: settings.nodeId,
      replicationFactor: settings.replicationFactor,
      vnodes: settings.vnodes,
      hash,
      saved: stores.savedRingState,
      stateStore: stores.ringStateStore,
      progressStore: stores.progressStore,
      liveness: this.detector,
      probeAll: () => prober.probeAll(),
      sync: (peer, range, direction, signal) =>
        syncRange({ local, transport, depth: MERKLE_DEPTH_DEFAULT, tokenOf, clock: time, beforeBatch: (bytes) => throttle.take(bytes, signal) }, peer, range, direction),
      writeSettings: () => this.clientCoordinator!.config,
      metrics: new PrometheusStreamMetrics(registry, {
        self: () => this.membership?.self,
        memberStates: () => this.membership?.memberStates() ?? [],
        rangesRemaining: () => this.membership?.rangesRemaining() ?? 0,
      }),
      onSelfChanged: () => this.events.onStatusChanged?.(),
      onForgottenSelf: (error) => this.onForgotten(error),
      ...(ports.checkForget ? { checkForget: ports.checkForget } : {}),
      onMembersChanged: (members) => this.applyMembers(members),
      onRingsChanged: (rings) => held.observe(rings),
      logger,
      nowMs: () => time.nowMs(),
    });
    const membership = this.membership;
    held.observe(membership.rings());
    this.rangeCleanup = new RangeCleanup({
      nodeId: settings.nodeId,
      storage,
      view: () => ({
        self: membership.self,
        members: membership.memberList().map((member) => ({ id: member.id, state: membership.stateOf(member.id) })),
        rings: membership.rings(),
      }),
      askPeers: (peers) => Promise.all(peers.map((peer) => this.askRings(peer))),
      held,
      metrics: new PrometheusCleanupMetrics(registry, { running: () => this.rangeCleanup?.progress().running ?? false, needed: () => this.cleanupNeeded() }),
      logger,
    });

    this.discoveryStarted = true;
    await ports.discovery.start((members) => membership.setMembers(members));
    if (stores.hintsDir !== undefined) {
      this.handoff = await HintedHandoff.open({
        dir: stores.hintsDir,
        ...(stores.hintsFileSystem !== undefined ? { fileSystem: stores.hintsFileSystem } : {}),
        transport,
        liveness: this.detector,
        logger,
        bytesPerPeerMax: settings.hintBytesPerPeerMax,
        windowMs: settings.hintWindowMs,
        tombstoneGraceMs: settings.tombstoneGraceMs,
        replayBytesPerSecond: settings.hintReplayBytesPerSecond,
        replayIntervalMs: HINT_REPLAY_INTERVAL_MS_DEFAULT,
        metrics: new PrometheusHintMetrics(registry, () => this.hintBytes()),
        clock: time,
      });
    }

    this.clientCoordinator = new Coordinator(
      {
        nodeId: settings.nodeId,
        replicationFactor: settings.replicationFactor,
        writeTimeoutMs: settings.writeTimeoutMs,
        readTimeoutMs: settings.readTimeoutMs,
        inFlightRequestsMax: settings.inFlightRequestsMax,
        keyBytesMax: settings.keyBytesMax,
        valueBytesMax: settings.valueBytesMax,
        batchItemsMax: settings.batchItemsMax,
        hintedWritesCountTowardW: settings.hintedWritesCountTowardW,
      },
      {
        placement: (key) => this.placementRings().placementOfKey(key),
        transport,
        localReplica,
        clock: ports.clock,
        time,
        logger,
        metrics: new PrometheusCoordinatorMetrics(registry),
        liveness: this.detector,
        ...(this.handoff ? { hints: this.handoff } : {}),
      },
    );
    this.antiEntropy = new AntiEntropy({
      nodeId: settings.nodeId,
      local,
      transport,
      ranges: () => this.ring().rangesReplicatedOn(settings.nodeId),
      liveness: this.detector,
      logger,
      depth: MERKLE_DEPTH_DEFAULT,
      tokenOf,
      rangesPerSecond: settings.repairRangesPerSecond,
      metrics: new PrometheusAntiEntropyMetrics(registry),
      clock: time,
    });

    // The own ring state comes first: a new node asks its peers whether it joins an
    // existing cluster before it answers any probe itself.
    this.notReadyReason = 'choosing the ring state';
    await membership.decide(stores.lastSeenMs !== undefined);
    this.notReadyReason = 'probing peers before serving';

    // The Replica service as peers see it: the local replica, probes answered with the
    // ring states, and no key reads while the membership says so (JOINING,
    // RingMembership.servesKeyReads).
    this.handler = {
      apply: (records, encoding) => localReplica.apply(records, encoding),
      read: (keys, answerBytesMax) => {
        if (keys.length > 0 && !membership.servesKeyReads()) return Promise.reject(new NotReadyError(`this node is ${membership.self ?? 'starting'} and serves no key reads`));
        return localReplica.read(keys, answerBytesMax);
      },
      merkleTree: (range, depth) => localReplica.merkleTree(range, depth),
      scan: (range, limit, cursor) => localReplica.scan(range, limit, cursor),
      probe: async (hello) => membership.onProbe(hello),
    };
  }

  /**
   * Starts serving once peers can reach the replica handler: probing, hinted handoff
   * and anti-entropy start, the node reports SERVING and resumes a join or
   * decommission. `shown` adds fields (ports, TLS) to the "node serving" log line.
   */
  async serve(shown: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const { settings, ports } = this;
    const { logger, stores } = ports;
    const membership = this.membership!;
    const prober = this.prober!;
    prober.start();
    // Before reporting ready, reach every peer (bounded; docs/decisions/0036): peers that
    // marked this node down while it was away hear from it and use it again at once,
    // peers whose channels to it wait out a reconnect backoff reconnect now, and this
    // node learns the ring states that changed while it was away. A peer that stays
    // silent is left to the failure detector.
    this.notReadyReason = 'reaching peers';
    const silent = await prober.probeUntilAnswered(settings.peersReadyWaitMs, PEERS_READY_RETRY_MS);
    // A peer answered that this node was forgotten: it must not start serving.
    if (this.forgottenError !== undefined) throw this.forgottenError;
    if (silent.length > 0) logger.warn({ peers: silent, waitedMs: settings.peersReadyWaitMs }, 'serving although some peers did not answer');
    this.handoff?.start();
    if (settings.repairIntervalMs > 0) this.antiEntropy!.start(settings.repairIntervalMs);
    if (this.staleRejoin) {
      // The operator allowed a stale rejoin: bring this node's ranges in line at once.
      void this.antiEntropy!.repair({ paced: false }).catch((error: unknown) => logger.error({ err: error }, 'repair after a stale rejoin failed'));
    }
    const recordLastSeen = stores.recordLastSeen;
    if (recordLastSeen !== undefined) {
      await recordLastSeen();
      this.lastSeenTimer = this.time.setRepeating(LAST_SEEN_INTERVAL_MS, () => {
        recordLastSeen().catch((error: unknown) => logger.warn({ err: error }, 'could not record the last-seen time'));
      });
    }

    this.currentState = 'SERVING';
    this.events.onStatusChanged?.();
    logger.info(
      {
        ...shown,
        members: this.currentMembers.map((member) => member.id),
        ringState: membership.self,
        ringDigest: membership.rings().read.digest,
        version: this.softwareVersion,
      },
      membership.self === 'JOINING' ? 'node serving replica calls; joining before it serves clients' : 'node serving',
    );
    // A join or decommission runs in the background; a restart resumes it here.
    membership.resume();
  }

  /** Refuses client calls from now on (SHUTTING_DOWN) and stops a running cleanup at once. */
  beginDrain(): void {
    this.currentState = 'DRAINING';
    this.notReadyReason = 'draining';
    // A running cleanup stops at once, so an Admin.Cleanup call in flight ends
    // (SHUTTING_DOWN) instead of holding the shells' shutdown until the drain timeout.
    this.cleanupStopped ??= this.rangeCleanup?.close();
    this.drained.abort(new ShuttingDownError());
    this.events.onStatusChanged?.();
  }

  /**
   * Closes whatever is open, in drain order, each step bounded by `stepMs`: discovery,
   * probing, a join or decommission, a cleanup, anti-entropy, the coordinator's late
   * replies and repairs, hints, the transport, then the WAL is synced and storage closed.
   */
  async close(stepMs: number): Promise<void> {
    this.cleanupStopped ??= this.rangeCleanup?.close();
    this.lastSeenTimer?.cancel();
    if (this.discoveryStarted) await this.ports.discovery.stop();
    await this.prober?.stop();
    if (this.membership !== undefined) await bounded(this.membership.close(), stepMs, 'stopping a join or decommission');
    if (this.cleanupStopped !== undefined) await bounded(this.cleanupStopped, stepMs, 'stopping a cleanup');
    await this.antiEntropy?.close();
    if (this.clientCoordinator !== undefined) await bounded(this.clientCoordinator.close(), stepMs, 'waiting for late replica replies');
    await this.handoff?.close();
    if (this.lastSeenTimer !== undefined) {
      await this.ports.stores.recordLastSeen?.().catch((error: unknown) => this.ports.logger.warn({ err: error }, 'could not record the last-seen time'));
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
    await this.ports.stores.close();
  }

  /** Client requests the coordinator is working on now. */
  inFlightRequests(): number {
    return this.clientCoordinator?.inFlightRequests ?? 0;
  }

  /** A peer called in: it is alive, and a connection to it may retry now. */
  peerSeen(peer: string): void {
    this.detector.recordInbound(peer);
    this.transport?.peerSeen?.(peer);
  }

  /** Live settings from a QuorumKVCluster resource. */
  reconfigure(settings: LiveCoordinatorSettings): void {
    this.coordinator.reconfigure(settings);
  }

  // The admin facade (ClusterView, src/api/admin-service.ts).

  /** The key limit in force now (a QuorumKVCluster may change it live). */
  get keyBytesMax(): number {
    return this.clientCoordinator?.config.keyBytesMax ?? this.settings.keyBytesMax;
  }

  state(): NodeState {
    return this.currentState;
  }

  /** The read ring: the members that hold their ranges' data now. */
  ring(): HashRing {
    return this.placementRings().read;
  }

  placementRings(): PlacementRings {
    if (this.membership === undefined) throw new NotReadyError('the ring is not built yet');
    return this.membership.rings();
  }

  members(): readonly Member[] {
    return this.currentMembers;
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

  /** Forgets a member gone for good (src/membership/ring-membership.ts); returns its ring state before. */
  forget(member: string, decision?: SignedForget): Promise<string> {
    if (this.currentState !== 'SERVING' || this.membership === undefined) return Promise.reject(new NotReadyError(this.notReadyReason));
    return this.membership.forget(member, decision);
  }

  /**
   * Peers say this node was forgotten while away and its data is from before: it drains
   * (every call refused) and tells the process, which stops. Serving on would hand out
   * out-of-date reads, and rejoining would bring back what was deleted meanwhile.
   */
  private onForgotten(error: MemberForgottenError): void {
    if (this.forgottenError !== undefined) return;
    this.forgottenError = error;
    this.ports.logger.error({ err: error, code: error.code }, error.message);
    this.beginDrain();
    this.events.onForgotten?.(error);
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

  /** Backs up every member of the rings into one set (src/backup/cluster-backup.ts). */
  async backup(destination: string, options: BackupOptions, onProgress: (progress: BackupProgress) => void, signal: AbortSignal): Promise<BackupReport> {
    const store = openBackupStore(destination, { backupDir: this.settings.backupDir });
    return this.exclusiveBackupWork(async (stopped) => {
      const rings = this.placementRings();
      const members = [...new Set([...rings.read.memberIds, ...rings.write.memberIds])].sort();
      const report = await runClusterBackup({
        store,
        coordinator: this.nodeId,
        members,
        ranges: rings.read.ownedRanges(),
        ringDigest: rings.read.digest,
        replicationFactor: rings.read.replicationFactor,
        vnodes: rings.read.vnodes,
        requireAllMembers: options.requireAllMembers,
        transport: this.transport!,
        stamp: () => this.ports.clock.now(),
        throttle: new ByteThrottle(this.settings.backupBytesPerSecond, this.time),
        onProgress,
        signal: AbortSignal.any([signal, stopped]),
      });
      if (report.missingMembers.length > 0) {
        this.ports.logger.warn({ backupId: report.backupId, missingMembers: report.missingMembers }, 'backup written without members that could not be read; their ranges came from other replicas');
      }
      return report;
    });
  }

  /** Restores a backup set into the cluster through the replica path (src/backup/cluster-restore.ts). */
  async restore(destination: string, backupId: string, onProgress: (progress: RestoreProgress) => void, signal: AbortSignal): Promise<RestoreProgress> {
    const store = openBackupStore(destination, { backupDir: this.settings.backupDir });
    return this.exclusiveBackupWork(async (stopped) => {
      const set = await BackupSet.open(store, backupId);
      // A set that lacks members (docs/operations/backup.md, "A member down") restores like
      // any other; the log says so, for whoever wonders later why a W=1 write is absent.
      const missingMembers = missingMembersOf(set.manifest).map((missing) => missing.nodeId);
      this.ports.logger.info({ backupId: set.manifest.backupId, files: set.files.length, missingMembers, from: store.describe() }, 'restore starting');
      return runClusterRestore({
        set,
        placement: (key) => this.placementRings().placementOfKey(key),
        tokenOf: (key) => this.placementRings().read.tokenOf(key),
        transport: this.transport!,
        throttle: new ByteThrottle(this.settings.backupBytesPerSecond, this.time),
        onProgress,
        signal: AbortSignal.any([signal, stopped]),
      });
    });
  }

  private async exclusiveBackupWork<T>(work: (stopped: AbortSignal) => Promise<T>): Promise<T> {
    this.admit();
    if (this.backupRunning) throw new OverloadedError('backups and restores on this node', 1);
    this.backupRunning = true;
    try {
      return await work(this.drained.signal);
    } finally {
      this.backupRunning = false;
    }
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

  // Readiness and health.

  /**
   * Why /readyz says no: starting, draining, joining (with its progress), announcing
   * NORMAL to peers that have not heard it yet, or, until it was first ready, another
   * member it does not see NORMAL yet (docs/decisions/0163). A joining node says so from the moment
   * it has chosen JOINING, while it still starts up: its gRPC port (and Status, showing
   * JOINING) is open by then.
   */
  unreadyReason(): string | undefined {
    return this.refusalReason() ?? this.membership?.announcingReason() ?? this.membership?.peersGateReason();
  }

  admit(): void {
    if (this.forgottenError !== undefined) throw this.forgottenError;
    if (this.currentState === 'DRAINING') throw new ShuttingDownError();
    const reason = this.refusalReason();
    if (reason !== undefined) throw new NotReadyError(reason);
  }

  /** The member list in force (src/membership/retained-members.ts). */
  memberIds(): readonly string[] {
    return this.currentMembers.map((member) => member.id);
  }

  /** The read ring's digest, once the ring is built. */
  ringDigest(): string | undefined {
    return this.membership?.rings().read.digest;
  }

  /** Why client calls are refused now (starting, draining, joining), or undefined. */
  private refusalReason(): string | undefined {
    if (this.forgottenError !== undefined) return this.forgottenError.message;
    if (this.currentState === 'DRAINING') return this.notReadyReason;
    const joining = this.membership?.notReadyReason();
    if (joining !== undefined) return joining;
    return this.currentState === 'SERVING' ? undefined : this.notReadyReason;
  }

  private peerIds(): string[] {
    return this.currentMembers.map((member) => member.id).filter((id) => id !== this.settings.nodeId);
  }

  private cleanupNeeded(): boolean {
    if (this.held === undefined || this.membership === undefined) return false;
    return this.held.needsCleanup(this.membership.rings());
  }

  /** A probe of one member for cleanup: its ring state is learned as from any probe, and its rings returned. */
  private async askRings(peer: string): Promise<PeerRings> {
    const membership = this.membership!;
    try {
      const answer = await this.transport!.probe(peer, membership.hello(peer), { deadlineMs: this.time.nowMs() + CLEANUP_PEER_TIMEOUT_MS });
      this.detector.recordAnswer(peer);
      membership.onAnswer(peer, answer);
      return { peer, digests: answer.ringDigests };
    } catch (error) {
      return { peer, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * The member list in force: discovery's, and the members discovery dropped that stay
   * while they own ranges (until they announce LEFT), so a pod re-created during a
   * rolling restart does not move its ranges to stand-ins
   * (docs/decisions/0081-retain-members-until-left.md). Route, probe and show by it.
   */
  private applyMembers(members: readonly Member[]): void {
    this.currentMembers = members;
    this.transport?.setMembers?.(members);
    this.detector.setPeers(this.peerIds());
    this.events.onMembersChanged?.(members);
    this.ports.logger.info(
      {
        members: members.map((member) => member.id),
        retained: members.filter((member) => member.retained === true).map((member) => member.id),
        ringDigest: this.membership?.rings().read.digest,
      },
      'membership changed',
    );
  }

  /**
   * Tombstone safety: refuses to start (or, when allowed, warns) when the data was last
   * used longer ago than the tombstone grace period. Returns true for an allowed stale
   * rejoin, which repairs at once.
   */
  private checkLastSeen(lastSeenMs: number | undefined): boolean {
    if (lastSeenMs === undefined) return false;
    const downMs = this.time.nowMs() - lastSeenMs;
    if (downMs <= this.settings.tombstoneGraceMs) return false;
    const error = new ReplicaStaleError(downMs, this.settings.tombstoneGraceMs);
    if (!this.settings.allowStaleRejoin) throw error;
    this.ports.logger.warn({ downMs, tombstoneGraceMs: this.settings.tombstoneGraceMs }, `${error.message} (allowed: repairing now)`);
    return true;
  }
}
