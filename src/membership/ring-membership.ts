// This node's place in the ring and everything that follows from it
// (docs/decisions/0080-ring-states-and-range-movement.md):
//
// - the ring states (ring-state-table.ts) and the two rings they give
//   (src/ring/placement-rings.ts), rebuilt whenever a member or a state changes;
// - the own state at start-up: NORMAL or JOINING or LEAVING as saved; LEFT saved means
//   the node was decommissioned and comes back, so it joins again; nothing saved means
//   a new node, which probes its peers and joins (JOINING) when any of them is NORMAL
//   or LEAVING, an existing cluster, or else starts NORMAL with the others of a new
//   cluster. A data directory from a version without ring states is NORMAL.
// - the join (JOINING -> stream -> NORMAL) and the decommission (LEAVING -> stream ->
//   LEFT -> every reachable peer heard it), as RangeMovements (src/streaming);
// - the member list itself: discovery's, plus the members it dropped that still own
//   ranges (heard NORMAL or LEAVING), which stay until they announce LEFT
//   (retained-members.ts, docs/decisions/0081-retain-members-until-left.md);
// - forgetting a member gone for good (`qkv forget`, forget() below): refused unless it
//   is down and nothing moves, then marked LEFT on its behalf on every node; each NORMAL
//   node then re-replicates, pulling its ranges from their surviving replicas, as a
//   RangeMovement of kind `rereplicate` (docs/decisions/0180-forget-a-member-gone-for-good.md).
import { setTimeout as sleep } from 'node:timers/promises';
import { DecommissionRefusedError, ForgetRefusedError, NotReadyError, type MemberForgottenError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { HashRing } from '../ring/hash-ring.js';
import { PlacementRings } from '../ring/placement-rings.js';
import type { XxHash64 } from '../ring/token-hasher.js';
import type { TokenRange } from '../ring/token-range.js';
import type { RangeSyncOutcome, SyncDirection } from '../repair/range-sync.js';
import type { CompletedRanges } from '../streaming/completed-ranges.js';
import { RangeMovement, waitUntilHeard, type MovementKind, type MovementProgress, type StreamMetrics } from '../streaming/range-movement.js';
import {
  RING_STATE_ANNOUNCE_DOWN_GRACE_MS,
  RING_STATE_ANNOUNCE_POLL_MS,
  READINESS_PEERS_WAIT_MS,
  STREAM_PROGRESS_SAVE_INTERVAL_MS,
  STREAM_RANGES_IN_FLIGHT,
  STREAM_RETRY_INTERVAL_MS,
} from '../limits.js';
import type { ProbeAnswer, ProbeHello } from '../replica/peer-transport.js';
import type { PeerLiveness } from '../replica/peer-liveness.js';
import type { Member } from '../ring/member.js';
import { RingStateTable, type RingStateSnapshot, type RingStateStore, type RingStateTableOptions, type SignedForget } from './ring-state-table.js';
import { inReadRing, inWriteRing, RING_STATE_UNKNOWN, type RingState } from '../ring/ring-state.js';
import { retainMembers, sameMemberList } from './retained-members.js';

/** Where a movement's done ranges are kept between runs (the node's data directory). */
export interface MovementProgressStore {
  load(kind: MovementKind): Promise<CompletedRanges>;
  save(kind: MovementKind, done: CompletedRanges): Promise<void>;
  clear(): Promise<void>;
}

/** What Status shows while the node joins, leaves, or announces that it left. */
export interface StreamStatus extends Omit<MovementProgress, 'phase'> {
  readonly phase: MovementProgress['phase'] | 'announcing LEFT';
}

export interface RingMembershipOptions {
  readonly nodeId: string;
  readonly replicationFactor: number;
  readonly vnodes: number;
  readonly hash: XxHash64;
  /** What the state store held at start-up; `exists` is false for a file never written. */
  readonly saved: RingStateSnapshot & { readonly exists: boolean };
  readonly stateStore: RingStateStore;
  readonly progressStore: MovementProgressStore;
  readonly liveness: PeerLiveness;
  /** One probe round to every peer (src/membership/peer-prober.ts). */
  readonly probeAll: () => Promise<void>;
  /** Brings one range in line with one peer, throttled (src/repair/range-sync.ts). */
  readonly sync: (peer: string, range: TokenRange, direction: SyncDirection, signal: AbortSignal) => Promise<RangeSyncOutcome>;
  /** The coordinator's settings now: the default W and the write timeout. */
  readonly writeSettings: () => { readonly writeQuorum: number; readonly writeTimeoutMs: number };
  readonly metrics?: StreamMetrics;
  /**
   * A peer says this node was forgotten (`qkv forget`) after the state it holds: it must
   * stop rather than serve or rejoin with out-of-date data (docs/decisions/0180).
   */
  readonly onForgottenSelf?: (error: MemberForgottenError) => void;
  /** Whether a forget is an admin's (RingStateTableOptions.checkForget); absent: every forget is taken (--insecure). */
  readonly checkForget?: RingStateTableOptions['checkForget'];
  /** Told after the own state changed (health and readiness follow it). */
  readonly onSelfChanged?: (state: RingState) => void;
  /**
   * Told the member list to route, probe and show by whenever it changes: after a
   * discovery change, and when a retained member is heard LEFT and drops out.
   */
  readonly onMembersChanged?: (members: readonly Member[]) => void;
  /** Told the new rings whenever either ring changed (not for the rings built at construction). */
  readonly onRingsChanged?: (rings: PlacementRings) => void;
  readonly logger: Logger;
  /** Milliseconds since the epoch for the start-up gate's bound; Date.now when absent (the node passes its Clock). */
  readonly nowMs?: () => number;
}

export class RingMembership {
  private readonly table: RingStateTable;
  /** What discovery reported last. */
  private discovered: readonly Member[] = [];
  /** `discovered` plus the retained members: what the rings, probes and Status use. */
  private members: readonly Member[] = [];
  private placement: PlacementRings;
  private movement: RangeMovement | undefined;
  private movementTask: Promise<void> | undefined;
  private movementKind: MovementKind | undefined;
  private decommissioning: Promise<void> | undefined;
  /** The re-replication after a forget (kind `rereplicate`), while it runs. */
  private rereplication: RangeMovement | undefined;
  private rereplicationTask: Promise<void> | undefined;
  /** Set when a member is forgotten while a re-replication runs: it starts over. */
  private rereplicationRestart = false;
  /**
   * Whether resume() ran (the node serves): a forget heard while the node still starts
   * (in its first probes) is saved, and its re-replication starts with resume().
   */
  private resumed = false;
  /** Once LEFT: the peers still to hear it, and whether all reachable ones have. */
  private leftWaitingFor: readonly string[] = [];
  private leftAnnounced = false;
  /**
   * Once NORMAL (at start-up or after a join): the reachable peers that have not heard it
   * yet, or undefined when all have. Until then the node is not ready: a peer that still
   * routes by an older view would count this node out (a W=N write through it would fail
   * while this node reported ready).
   */
  private normalWaitingFor: readonly string[] | undefined;
  /**
   * Why the last attempt at the movement failed outside its own range retries (a
   * progress file that cannot be read or written, say), until an attempt succeeds:
   * Status and readiness show it, so a join or decommission that keeps failing says
   * why instead of only logging it.
   */
  private movementError = '';
  /** When this node started: the start-up gate waits at most READINESS_PEERS_WAIT_MS from then. */
  private readonly startedMs: number;
  private readonly nowMs: () => number;
  /** Whether the start-up gate has opened; it never closes again (docs/decisions/0163). */
  private peersGateOpen = false;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(private readonly options: RingMembershipOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
    this.table = new RingStateTable({
      nodeId: options.nodeId,
      initial: options.saved,
      store: options.stateStore,
      isMember: (id) => this.members.some((member) => member.id === id),
      onChange: (change) => {
        // A retained member heard LEFT leaves the member list before the rings are built.
        const membersChanged = change.node !== options.nodeId && this.refreshMembers();
        this.rebuild();
        if (membersChanged) options.onMembersChanged?.(this.members);
        if (change.node === options.nodeId) options.onSelfChanged?.(change.to);
        if (change.forgotten === true && this.table.rereplicationPending().length > 0) this.startRereplication();
      },
      ...(options.onForgottenSelf ? { onForgottenSelf: options.onForgottenSelf } : {}),
      ...(options.checkForget ? { checkForget: options.checkForget } : {}),
      logger: options.logger,
    });
    this.placement = this.build();
  }

  /** The rings to route by now. */
  rings(): PlacementRings {
    return this.placement;
  }

  /**
   * A new member list from discovery. Returns the member list in force (discovery's and
   * the retained members), which onMembersChanged is told too when it changed.
   */
  setMembers(discovered: readonly Member[]): readonly Member[] {
    this.discovered = discovered;
    const changed = this.refreshMembers();
    this.rebuild();
    if (changed) this.options.onMembersChanged?.(this.members);
    return this.members;
  }

  /** The member list in force: discovery's plus the retained members. */
  memberList(): readonly Member[] {
    return this.members;
  }

  /** Recomputes the member list from discovery's and the states heard; true when it changed. */
  private refreshMembers(): boolean {
    const next = retainMembers(this.discovered, this.members, (id) => (id === this.options.nodeId ? undefined : this.table.stateOf(id)));
    if (sameMemberList(next, this.members)) return false;
    const kept = next.filter((member) => member.retained === true && !this.members.some((old) => old.id === member.id && old.retained === true));
    const dropped = this.members.filter((member) => member.retained === true && !next.some((other) => other.id === member.id));
    for (const member of kept) {
      this.options.logger.warn(
        { peer: member.id, ringState: this.table.stateOf(member.id), address: member.address },
        'discovery no longer reports a member that owns ranges; it stays in the rings as down until it announces LEFT',
      );
    }
    for (const member of dropped) this.options.logger.info({ peer: member.id, ringState: this.table.stateOf(member.id) }, 'retained member leaves the member list');
    this.members = next;
    return true;
  }

  get self(): RingState | undefined {
    return this.table.self;
  }

  /** The own state as Status shows it: LEFT only once every reachable peer heard it. */
  reportedState(): string {
    const self = this.table.self;
    if (self === 'LEFT' && !this.leftAnnounced) return 'LEAVING';
    return self ?? RING_STATE_UNKNOWN;
  }

  /** A member's state as heard (its reported state for this node); UNKNOWN when never heard. */
  stateShownFor(id: string): string {
    if (id === this.options.nodeId) return this.reportedState();
    if (this.table.isForgotten(id)) return 'FORGOTTEN';
    return this.table.stateOf(id) ?? RING_STATE_UNKNOWN;
  }

  /** A member's state as heard (this node's own for itself); undefined when never heard. */
  stateOf(id: string): RingState | undefined {
    return this.table.stateOf(id);
  }

  /** Every member's state as heard, this node's own included (metrics). */
  memberStates(): Array<RingState | undefined> {
    return this.members.map((member) => this.table.stateOf(member.id));
  }

  hello(peer: string): ProbeHello {
    return this.table.hello(peer);
  }

  /** A peer's probe: its state learned, ours answered with the rings we route by now. */
  onProbe(hello: ProbeHello): ProbeAnswer {
    const answer = this.table.onProbe(hello);
    return { ...answer, ringDigests: { read: this.placement.read.digest, write: this.placement.write.digest } };
  }

  onAnswer(peer: string, answer: ProbeAnswer): void {
    this.table.onAnswer(peer, answer);
  }

  /**
   * Chooses the own state at start-up (see the header); call once the members are known
   * and before the node answers probes. `hadRunBefore`: the data directory was used by
   * an earlier run (of any version).
   */
  async decide(hadRunBefore: boolean): Promise<RingState> {
    const saved = this.table.self;
    const { logger } = this.options;
    if (saved === 'LEFT') {
      await this.options.progressStore.clear();
      await this.table.setSelf('JOINING');
      logger.warn({}, 'this node was decommissioned (LEFT) and starts again: it joins and streams its ranges');
    } else if (saved === undefined) {
      if (!this.options.saved.exists && hadRunBefore) {
        // A data directory written before ring states existed: the node was a full member.
        await this.table.setSelf('NORMAL');
      } else {
        await this.options.probeAll();
        const existing = [...this.table.peerStates()].filter(([, state]) => state === 'NORMAL' || state === 'LEAVING').map(([peer]) => peer);
        await this.table.setSelf(existing.length > 0 ? 'JOINING' : 'NORMAL');
        logger.info(
          existing.length > 0 ? { normalPeers: existing } : {},
          existing.length > 0 ? 'new node in an existing cluster: joining' : 'no peer is NORMAL: starting NORMAL with a new cluster',
        );
      }
    }
    return this.table.self!;
  }

  /** Starts (or resumes) the join or decommission the own state calls for, or a re-replication left unfinished. */
  resume(): void {
    this.resumed = true;
    const self = this.table.self;
    if (self === 'JOINING') this.startMovement('join');
    else if (self === 'LEAVING') this.startMovement('leave');
    else if (self === 'NORMAL') {
      this.announceNormal();
      if (this.table.rereplicationPending().length > 0) this.startRereplication();
    }
  }

  /**
   * Forgets `member` (Admin.Forget, `qkv forget`): a member gone for good, with its
   * volume, that cannot decommission. Refused (ForgetRefusedError) when the member is
   * unknown or this node, when it answers a probe (a live member may hold the only copy
   * of recent writes), or while any range moves: this node or another member JOINING or
   * LEAVING, or this node still re-replicating after an earlier forget. The member
   * itself may be JOINING or LEAVING: a joining member holds only extra copies, and the
   * new owners of a leaving member's ranges already take their writes and pull the rest
   * from the survivors. Returns the member's state before, once the forget is saved;
   * the re-replication goes on in the background (streamStatus). With TLS, `decision`
   * must be an admin user's signed forget (ForgetNotAuthorizedError otherwise; ADR 0268).
   */
  async forget(member: string, decision?: SignedForget): Promise<string> {
    const { nodeId, liveness } = this.options;
    this.table.checkForgetDecision(member, decision);
    if (member === nodeId) throw new ForgetRefusedError(`${member} is the node asked; run qkv forget on another member`);
    if (this.table.isForgotten(member)) {
      // Signs a mark saved before forgets were signed, so that peers that check take it (ADR 0268).
      await this.table.forget(member, decision);
      return 'FORGOTTEN';
    }
    const state = this.table.stateOf(member);
    if (!this.members.some((candidate) => candidate.id === member) && state === undefined) {
      throw new ForgetRefusedError(`${member} is not a member ${nodeId} knows (members: ${this.members.map((candidate) => candidate.id).join(', ')})`);
    }
    if (state === 'LEFT') throw new ForgetRefusedError(`${member} is LEFT (decommissioned) already: it owns no ranges`);
    const self = this.table.self;
    if (self !== 'NORMAL') throw new ForgetRefusedError(`${nodeId} is ${self ?? 'starting'}; run qkv forget on a NORMAL member`);
    const pending = this.table.rereplicationPending();
    if (pending.length > 0) throw new ForgetRefusedError(`${nodeId} is still re-replicating after forgetting ${pending.join(', ')}; forget one member at a time (qkv status shows the progress)`);
    const moving = this.members.filter((candidate) => candidate.id !== nodeId && candidate.id !== member && ['JOINING', 'LEAVING'].includes(this.table.stateOf(candidate.id) ?? ''));
    if (moving.length > 0) {
      throw new ForgetRefusedError(`a range movement is under way (${moving.map((candidate) => `${candidate.id} is ${this.table.stateOf(candidate.id)}`).join(', ')}); forget once it is done`);
    }
    // Asked afresh: the failure detector may be a probe interval old.
    await this.options.probeAll();
    if (!liveness.isDown(member)) {
      throw new ForgetRefusedError(
        `${member} is not down: it answered a probe or the failure detector does not hold it down yet; forgetting a live member would drop a replica that may hold the only copy of recent writes (decommission it instead, or stop it for good and try again)`,
      );
    }
    await this.table.forget(member, decision);
    return state ?? RING_STATE_UNKNOWN;
  }

  /**
   * Starts decommissioning (Admin.Decommission): LEAVING now, streaming in the
   * background. Returns the state Status shows after the call.
   */
  async decommission(): Promise<string> {
    if (this.decommissioning !== undefined) {
      await this.decommissioning;
      return this.reportedState();
    }
    const self = this.table.self;
    if (self === undefined) throw new NotReadyError('the node has not chosen its ring state yet');
    if (self === 'LEAVING' || self === 'LEFT') return this.reportedState();
    const pending = this.table.rereplicationPending();
    if (pending.length > 0) throw new DecommissionRefusedError(`${this.options.nodeId} is still re-replicating after ${pending.join(', ')} was forgotten; decommission it once that is done`);
    if (self === 'JOINING') throw new DecommissionRefusedError(`${this.options.nodeId} is JOINING; decommission it once it is NORMAL`);
    this.decommissioning = this.leaveIfEnoughStay();
    try {
      await this.decommissioning;
    } catch (error) {
      this.decommissioning = undefined;
      throw error;
    }
    return this.reportedState();
  }

  /**
   * LEAVING, unless fewer than N NORMAL members would stay. The states are asked afresh
   * (what the table holds may be a probe interval old), and asked again once this node
   * has announced LEAVING: two members told to leave in the same moment could each have
   * seen the other NORMAL. Of two such members at least one sees the other LEAVING in
   * that second round (the later of the two announced after the earlier one's answer or
   * asked after its announcement); whoever sees too few members staying goes back to
   * NORMAL before anything has streamed and refuses. Both may go back; neither leaves the
   * ring short of N.
   */
  private async leaveIfEnoughStay(): Promise<void> {
    await this.options.probeAll();
    const before = this.refusalToLeave();
    if (before !== undefined) throw new DecommissionRefusedError(before);
    await this.table.setSelf('LEAVING');
    await this.options.probeAll();
    const after = this.refusalToLeave();
    if (after !== undefined) {
      await this.table.setSelf('NORMAL');
      this.announceNormal();
      throw new DecommissionRefusedError(`${after}; another member started to leave at the same moment, so ${this.options.nodeId} stays NORMAL: decommission one node at a time`);
    }
    this.startMovement('leave');
  }

  /** Why this node may not leave now (fewer than N NORMAL members would stay), or undefined. */
  private refusalToLeave(): string | undefined {
    const { replicationFactor, nodeId } = this.options;
    const staying = this.members.filter((member) => member.id !== nodeId && this.table.stateOf(member.id) === 'NORMAL').map((member) => member.id);
    if (staying.length >= replicationFactor) return undefined;
    return `without ${nodeId} the ring would have ${staying.length} NORMAL member(s) (${staying.join(', ') || 'none'}), fewer than the replication factor N=${replicationFactor}`;
  }

  /**
   * Whether the Replica service answers key reads. Not while JOINING: the node does
   * not hold its ranges yet. Not once LEFT: peers that heard it no longer send it
   * writes, so a peer that has not heard it yet and still counts it as a natural
   * replica could read an old copy here and miss a write acked by W final owners. A
   * peer that routes by an older state must count this node as a failed replica, not
   * as one without the key; its other natural replicas answer the read.
   */
  servesKeyReads(): boolean {
    const self = this.table.self;
    return self !== 'JOINING' && self !== 'LEFT';
  }

  /**
   * While a node that became NORMAL waits for its peers to hear it: why /readyz says no.
   * The node serves the clients that reach it meanwhile (its own view is right); readiness
   * waits so that no client is sent to the cluster before every peer routes by it.
   */
  announcingReason(): string | undefined {
    if (this.table.self !== 'NORMAL' || this.normalWaitingFor === undefined) return undefined;
    return `announcing NORMAL to peers (waiting for ${this.normalWaitingFor.join(', ') || 'the first probes'})`;
  }

  /**
   * The start-up gate (docs/decisions/0163): before this node reports ready for the first
   * time, it must see every other member it knows NORMAL, unless the failure detector
   * holds that member down. Otherwise a fresh cluster reports ready while one node still
   * sees another JOINING, routes to it as an extra pending replica, and refuses a W=N
   * write (W + 1 acks from N replicas). Once open it stays open: after start-up a member
   * joining, leaving or going down must never take the others out of service.
   */
  peersGateReason(): string | undefined {
    if (this.peersGateOpen) return undefined;
    const { nodeId, liveness, logger } = this.options;
    const states = this.table.peerStates();
    const waiting = this.members.map((member) => member.id).filter((id) => id !== nodeId && !liveness.isDown(id) && states.get(id) !== 'NORMAL');
    if (waiting.length === 0) {
      this.peersGateOpen = true;
      return undefined;
    }
    const describe = waiting.map((id) => `${id} ${states.get(id) ?? 'not heard yet'}`).join(', ');
    if (this.nowMs() - this.startedMs >= READINESS_PEERS_WAIT_MS) {
      this.peersGateOpen = true;
      logger.warn({ waiting: describe, waitedMs: READINESS_PEERS_WAIT_MS }, 'ready although not every member is NORMAL yet: waited long enough at start-up');
      return undefined;
    }
    return `waiting to see every member NORMAL (${describe})`;
  }

  /** Why the node must not serve clients now (JOINING), or undefined. */
  notReadyReason(): string | undefined {
    if (this.table.self !== 'JOINING') return undefined;
    const progress = this.streamStatus();
    if (progress === undefined) return 'joining';
    const waiting = progress.waitingFor.length > 0 ? ` (waiting for ${progress.waitingFor.join(', ')})` : '';
    const lastError = progress.lastError === '' ? '' : `; last error: ${progress.lastError}`;
    return `joining: ${progress.phase}${waiting}, ${progress.rangesDone}/${progress.rangesTotal} ranges, ${progress.keys} keys, ${progress.bytes} bytes streamed${lastError}`;
  }

  /**
   * The running join or decommission, or the LEFT announcement; undefined otherwise.
   * JOINING or LEAVING always has one, from the moment the state is taken: before the
   * movement has started (the gRPC port opens before it) it is at `announcing` with
   * nothing done, and the progress of an earlier movement of the other kind (a join
   * just finished when a decommission starts) is never shown for it.
   */
  streamStatus(): StreamStatus | undefined {
    const self = this.table.self;
    const current = this.movement?.progress();
    if (self === 'LEFT' && !this.leftAnnounced) {
      const base = current?.kind === 'leave' ? current : { ...notStarted('leave'), lastError: '' };
      return { ...base, phase: 'announcing LEFT', waitingFor: this.leftWaitingFor };
    }
    if (self === 'NORMAL' && this.table.rereplicationPending().length > 0) {
      const progress = this.rereplication?.progress();
      return progress ?? { ...notStarted('rereplicate'), ...(this.movementError === '' ? {} : { phase: 'retrying' as const, lastError: this.movementError }) };
    }
    if (self !== 'JOINING' && self !== 'LEAVING') return undefined;
    const kind: MovementKind = self === 'JOINING' ? 'join' : 'leave';
    if (current?.kind === kind) return this.movementError === '' || current.lastError !== '' ? current : { ...current, lastError: this.movementError };
    return this.movementError === '' ? notStarted(kind) : { ...notStarted(kind), phase: 'retrying', lastError: this.movementError };
  }

  /** Ranges the running movement has left (metrics). */
  rangesRemaining(): number {
    const status = this.streamStatus();
    return status === undefined ? 0 : Math.max(0, status.rangesTotal - status.rangesDone);
  }

  /** Stops a running movement (it resumes at the next start) and saves the states. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.movement?.close();
    await this.movementTask?.catch(() => {});
    await this.rereplication?.close();
    await this.rereplicationTask?.catch(() => {});
    await this.table.flush();
  }

  /**
   * Runs the movement in the background. A movement of the same kind already running is
   * that movement. One of the other kind is finishing (a join that has saved NORMAL and
   * is clearing its progress when a decommission comes): the new one starts after it,
   * so it is neither dropped (the node would stay LEAVING with nothing streaming) nor
   * has its progress cleared by the one before.
   */
  private startMovement(kind: MovementKind): void {
    if (this.closed || (this.movementTask !== undefined && this.movementKind === kind)) return;
    const previous = this.movementTask ?? Promise.resolve();
    const task: Promise<void> = previous
      .catch(() => {})
      .then(() => this.runMovement(kind))
      .finally(() => {
        if (this.movementTask === task) this.movementTask = undefined;
      });
    this.movementTask = task;
    this.movementKind = kind;
  }

  private async runMovement(kind: MovementKind): Promise<void> {
    const { options } = this;
    const { logger } = options;
    for (;;) {
      if (this.closed) return;
      try {
        const movement = await this.newMovement(kind, () => this.unannouncedPeers());
        if (movement === undefined) return;
        this.movement = movement;
        logger.info({ kind }, kind === 'join' ? 'join: announcing JOINING, then streaming the ranges this node takes over' : 'decommission: announcing LEAVING, then streaming this node\'s ranges to their new owners');
        await movement.run();
        this.movementError = '';
        await this.table.setSelf(kind === 'join' ? 'NORMAL' : 'LEFT');
        await options.progressStore.clear();
        if (kind === 'join') this.announceNormal();
        if (kind === 'leave') {
          await waitUntilHeard(() => this.unannouncedPeers(), RING_STATE_ANNOUNCE_POLL_MS, this.closing.signal, (waiting) => {
            this.leftWaitingFor = waiting;
          });
          this.leftAnnounced = true;
          logger.info({}, 'decommission done: every reachable peer has heard LEFT; the node may be stopped');
        }
        return;
      } catch (error) {
        if (this.closed) return;
        // The movement retries failed ranges itself; this is something else (a progress
        // file that cannot be written, say). Try the whole movement again after a pause.
        logger.error({ err: error, kind }, `${kind} failed; trying again`);
        this.movementError = `${kind} failed: ${error instanceof Error ? error.message : String(error)}; trying again every ${STREAM_RETRY_INTERVAL_MS} ms`;
        // Cut short by close(), so that a drain does not wait out the pause.
        await sleep(STREAM_RETRY_INTERVAL_MS, undefined, { signal: this.closing.signal }).catch(() => {});
      }
    }
  }

  /**
   * Runs the re-replication after a forget in the background, until every forgotten
   * member this node owes it for is done (saved in the ring-state file with the forget,
   * so a restart resumes it; its done ranges are saved like a join's). A member
   * forgotten meanwhile makes it start over: ranges done before may be ones that member
   * held too.
   */
  private startRereplication(): void {
    if (this.closed || !this.resumed) return;
    if (this.rereplicationTask !== undefined) {
      this.rereplicationRestart = true;
      void this.rereplication?.close();
      return;
    }
    const task = this.runRereplication().finally(() => {
      if (this.rereplicationTask === task) this.rereplicationTask = undefined;
    });
    this.rereplicationTask = task;
  }

  /**
   * A range movement of `kind` that starts streaming once `unannouncedPeers` is empty,
   * resuming from the saved progress; undefined when close() ran while that loaded (it
   * closed no movement of this turn, so none may start).
   */
  private async newMovement(kind: MovementKind, unannouncedPeers: () => readonly string[]): Promise<RangeMovement | undefined> {
    const { options } = this;
    const settings = options.writeSettings();
    const done = await options.progressStore.load(kind);
    if (this.closed) return undefined;
    return new RangeMovement({
      nodeId: options.nodeId,
      kind,
      rings: () => this.placement,
      sync: options.sync,
      unannouncedPeers,
      liveness: options.liveness,
      writeQuorum: settings.writeQuorum,
      writeTimeoutMs: settings.writeTimeoutMs,
      retryIntervalMs: STREAM_RETRY_INTERVAL_MS,
      pollIntervalMs: RING_STATE_ANNOUNCE_POLL_MS,
      rangesInFlight: STREAM_RANGES_IN_FLIGHT,
      progressSaveIntervalMs: STREAM_PROGRESS_SAVE_INTERVAL_MS,
      done,
      saveDone: (ranges) => options.progressStore.save(kind, ranges),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      logger: options.logger,
    });
  }

  private async runRereplication(): Promise<void> {
    const { options } = this;
    const { logger } = options;
    for (;;) {
      if (this.closed) return;
      const members = this.table.rereplicationPending();
      if (members.length === 0 || this.table.self !== 'NORMAL') return;
      this.rereplicationRestart = false;
      try {
        // Streaming starts once every reachable peer knows the forget, so writes routed
        // from then on reach the new replicas.
        const movement = await this.newMovement('rereplicate', () => this.table.notYetHeardForgetBy(this.reachablePeers(), members));
        if (movement === undefined) return;
        this.rereplication = movement;
        logger.info({ forgotten: members }, 'rereplicate: pulling every range this node replicates from its surviving replicas');
        await movement.run();
        this.movementError = '';
        await this.table.rereplicated(members);
        await options.progressStore.clear();
        this.rereplication = undefined;
        logger.info({ forgotten: members }, 'rereplicate: done');
      } catch (error) {
        if (this.closed) return;
        if (this.rereplicationRestart) {
          // Another member was forgotten: start over with the rings of now.
          await options.progressStore.clear().catch(() => {});
          continue;
        }
        logger.error({ err: error }, 'rereplicate failed; trying again');
        this.movementError = `rereplicate failed: ${error instanceof Error ? error.message : String(error)}; trying again every ${STREAM_RETRY_INTERVAL_MS} ms`;
        await sleep(STREAM_RETRY_INTERVAL_MS, undefined, { signal: this.closing.signal }).catch(() => {});
      }
    }
  }

  /** Peers in the member list that the failure detector does not hold down. */
  private reachablePeers(): string[] {
    const { nodeId, liveness } = this.options;
    return this.members.map((member) => member.id).filter((id) => id !== nodeId && !liveness.isDown(id) && !this.table.isForgotten(id));
  }

  /** Waits in the background until every reachable peer has heard that this node is NORMAL. */
  private announceNormal(): void {
    if (this.closed) return;
    const startedMs = Date.now();
    const waitingFor = (): readonly string[] => {
      if (Date.now() - startedMs >= RING_STATE_ANNOUNCE_DOWN_GRACE_MS) return this.unannouncedPeers();
      const peers = this.members.map((member) => member.id).filter((id) => id !== this.options.nodeId);
      return this.table.notYetHeardBy(peers);
    };
    this.normalWaitingFor = waitingFor();
    waitUntilHeard(waitingFor, RING_STATE_ANNOUNCE_POLL_MS, this.closing.signal, (waiting) => {
      this.normalWaitingFor = waiting;
    }).then(
      () => {
        this.normalWaitingFor = undefined;
        this.options.onSelfChanged?.('NORMAL');
      },
      () => {}, // aborted by close()
    );
  }

  /** Reachable peers that have not heard the own current state yet. */
  private unannouncedPeers(): readonly string[] {
    const { nodeId, liveness } = this.options;
    const reachable = this.members.map((member) => member.id).filter((id) => id !== nodeId && !liveness.isDown(id));
    return this.table.notYetHeardBy(reachable);
  }

  private rebuild(): void {
    const previous = this.placement;
    this.placement = this.build();
    if (previous.read.digest !== this.placement.read.digest || previous.write.digest !== this.placement.write.digest) {
      this.options.logger.info(
        {
          readRing: this.placement.read.memberIds,
          writeRing: this.placement.write.memberIds,
          readRingDigest: this.placement.read.digest,
          writeRingDigest: this.placement.write.digest,
        },
        'rings changed',
      );
      this.options.onRingsChanged?.(this.placement);
    }
  }

  private build(): PlacementRings {
    const { vnodes, replicationFactor, hash } = this.options;
    const stateOf = (member: Member): RingState | undefined => this.table.stateOf(member.id);
    const read = HashRing.build(this.members.filter((member) => inReadRing(stateOf(member))), { vnodes, replicationFactor }, hash);
    const write = HashRing.build(this.members.filter((member) => inWriteRing(stateOf(member))), { vnodes, replicationFactor }, hash);
    return new PlacementRings(read, write);
  }
}

/** The progress of a movement whose state is taken but which has not started streaming. */
function notStarted(kind: MovementKind): MovementProgress {
  return { kind, phase: 'announcing', rangesDone: 0, rangesTotal: 0, keys: 0, bytes: 0, lastError: '', waitingFor: [] };
}
