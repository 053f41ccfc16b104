// Who is in which ring state, as this node knows it (ring-state.ts,
// docs/decisions/0080-ring-states-and-range-movement.md).
//
// - This node's own state: it decides it (start-up, join, decommission) and announces it
//   in every probe it sends and every probe answer it gives.
// - Each peer's state as last heard from the peer itself, in its probes or its probe
//   answers. Only the peer speaks for itself; a newer version always wins, an older one
//   (an answer overtaken by a later change) is ignored.
// - Which of this node's states each peer has heard: every probe says what its sender
//   last heard of the receiver, so this node knows when every peer routes by its new
//   state (the acknowledgement a join or a decommission waits for).
//
// Own and heard states are saved through a RingStateStore (the node keeps them in its
// data directory), so a restart while a peer is down does not shift the ring. The own
// state is saved before it is announced; peer states are saved in the background, one
// write at a time, each write carrying everything known at its start.
//
// Versions are wall-clock milliseconds, so none an honest node sends lies further ahead
// of this node's clock than RING_STATE_VERSION_AHEAD_MS_MAX
// (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md). One later version
// would win over every true announcement of its node for good, and one this node is
// made to outrun would carry its own versions past what peers accept. So a probe with
// such a version (its sender's state or what it heard of this node) is refused whole
// with RING_STATE_VERSION_FROM_FUTURE and changes nothing, a probe answer with one is
// ignored, and such versions loaded from the store (saved before this check existed)
// are not trusted: a peer's is forgotten until the peer speaks again, and the own state
// starts again from the current time. Both are logged and saved again at once.
//
// One exception to "only the peer speaks for itself": `qkv forget` (forget()) marks a
// member that is gone for good LEFT on its behalf, at a version above any it announced,
// flagged `forgotten` (docs/decisions/0180-forget-a-member-gone-for-good.md). Every
// probe and answer carries the forgotten members, so the mark reaches every node, which
// saves it like any state. Afterwards only a JOINING announcement of that member with a
// later version (a new, empty node under the same id) overrides it; the member itself
// hearing it was forgotten while it holds data from before is told through
// onForgottenSelf and must stop. A node that learns a forget while NORMAL keeps the
// member on its "re-replicate" list, saved in the same write, until it has pulled its
// ranges from the surviving replicas (ring-membership.ts).
//
// Who may forget: with TLS, only an admin user (docs/decisions/0268-forget-signed-by-an-admin.md).
// The admin signs the member and the version; the mark carries that signature, and this
// table takes a mark, from Admin.Forget or from any peer's probe, only when checkForget
// accepts it. A member passes signed marks on; a member certificate cannot make one, so
// a stolen one cannot take a live member out of the rings or stop it.
import { ForgetNotAuthorizedError, ForgetRefusedError, MemberForgottenError, RingStateVersionFromFutureError } from '../errors/errors.js';
import { FORGOTTEN_MEMBERS_MAX, RING_STATE_VERSION_AHEAD_MS_MAX } from '../limits.js';
import type { Logger } from '../logging/logger.js';
import type { ProbeAnswer, ProbeHello } from '../replica/peer-transport.js';
import { inReadRing, isNewer, type AnnouncedRingState, type ForgetSignature, type ForgottenMember, type RingState } from '../ring/ring-state.js';
import { ForgetSignatureChecks } from './forget-signature-checks.js';

/** Refused marks from one peer are logged at most this often: a member could send a probe after another. */
const FORGET_REFUSAL_LOG_INTERVAL_MS = 60_000;

/** A forget as an admin decided it: the version it signed, and its signature. */
export interface SignedForget {
  readonly version: number;
  readonly signed: ForgetSignature | undefined;
}

/** Everything the table persists. */
export interface RingStateSnapshot {
  readonly self: AnnouncedRingState | undefined;
  readonly peers: ReadonlyMap<string, AnnouncedRingState>;
  /** Forgotten members whose ranges this node has not re-replicated yet; none when absent. */
  readonly rereplicate?: readonly string[];
}

export interface RingStateStore {
  /** Saves the snapshot durably, replacing the previous one. */
  save(snapshot: RingStateSnapshot): Promise<void>;
}

/** A store that keeps nothing (memory storage, tests). */
export const NO_RING_STATE_STORE: RingStateStore = { save: async () => {} };

export interface RingStateChange {
  readonly node: string;
  readonly from: RingState | undefined;
  readonly to: RingState;
  /** The change is a forget (`qkv forget` here or heard from a peer). */
  readonly forgotten?: boolean;
}

export interface RingStateTableOptions {
  readonly nodeId: string;
  /** What was saved before; empty for a new data directory. */
  readonly initial: RingStateSnapshot;
  readonly store: RingStateStore;
  /** Only members (discovery) may speak for themselves; anything else is ignored. */
  readonly isMember: (id: string) => boolean;
  /** Told after every change of any state (own or a peer's), e.g. to rebuild the rings. */
  readonly onChange: (change: RingStateChange) => void;
  /**
   * A peer says this node was forgotten after the state this node holds (it was taken
   * for gone for good while away): it must not go on with its data (MemberForgottenError).
   */
  readonly onForgottenSelf?: (error: MemberForgottenError) => void;
  /**
   * Why a forget of `member` at `version` is not an admin's (src/security/forget-signature.ts),
   * or undefined when it is. Absent (--insecure, the in-memory cluster): every mark is taken.
   */
  readonly checkForget?: (member: string, version: number, signed: ForgetSignature | undefined) => string | undefined;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

export class RingStateTable {
  private own: AnnouncedRingState | undefined;
  /** The own state the next save writes: set before a change is saved, so no save undoes it. */
  private ownToSave: AnnouncedRingState | undefined;
  private readonly peers = new Map<string, AnnouncedRingState>();
  /** What each peer last said it heard of this node. */
  private readonly heard = new Map<string, AnnouncedRingState>();
  /**
   * The highest version of this node's state any peer said it heard. Above the own
   * version only when this node lost its saved state (a new volume under the same id)
   * or its clock went back; every later announcement must be above it, or peers would
   * ignore it as older and a join would wait for their acknowledgement forever.
   */
  private versionFloor = 0;
  private outrunning = false;
  /** Forgotten members whose ranges this node must still pull from the survivors. */
  private readonly rereplicate = new Set<string>();
  /** The forgotten members each peer said it knows, in its last probe or answer. */
  private readonly heardForgotten = new Map<string, ReadonlySet<string>>();
  /** Forgotten here by `forget` and not saved yet: not passed on, since a failed save takes the mark back. */
  private readonly forgetsSaving = new Set<string>();
  /** When a refused mark from each peer was last logged. */
  private readonly refusalLoggedMs = new Map<string, number>();
  private queuedSave: Promise<void> | undefined;
  private saveTail: Promise<void> = Promise.resolve();
  private readonly nowMs: () => number;
  /** The checks of marks peers pass on, bounded in cost; undefined without TLS (checkForget absent). */
  private readonly forgetChecks: ForgetSignatureChecks | undefined;

  constructor(private readonly options: RingStateTableOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.forgetChecks = options.checkForget === undefined ? undefined : new ForgetSignatureChecks(options.checkForget, this.nowMs);
    const { logger } = options;
    let untrusted = false;
    let self = options.initial.self;
    if (self !== undefined && self.version > this.versionCeiling()) {
      const restarted = { state: self.state, version: this.nowMs() };
      logger.warn(
        { state: self.state, savedVersion: self.version, version: restarted.version },
        'the saved version of this node\'s ring state lies further ahead than any node\'s clock may run; announcing the state again from the current time',
      );
      self = restarted;
      untrusted = true;
    }
    this.own = self;
    this.ownToSave = self;
    for (const [peer, state] of options.initial.peers) {
      if (peer === options.nodeId) continue;
      if (state.version > this.versionCeiling()) {
        logger.warn({ peer, state: state.state, savedVersion: state.version }, 'the saved ring state of a peer has a version further ahead than any node\'s clock may run; forgotten until the peer announces itself again');
        untrusted = true;
        continue;
      }
      this.peers.set(peer, state);
    }
    for (const peer of options.initial.rereplicate ?? []) if (this.peers.get(peer)?.forgotten === true) this.rereplicate.add(peer);
    if (untrusted) this.save().catch((error: unknown) => logger.warn({ err: error }, 'could not save the ring states after dropping untrusted versions; the next change retries'));
  }

  /** This node's own state; undefined until it has decided one at start-up. */
  get self(): RingState | undefined {
    return this.own?.state;
  }

  /** The announced own state with its version. */
  get selfAnnounced(): AnnouncedRingState | undefined {
    return this.own;
  }

  /** The state of `id` as this node knows it (its own for itself); undefined when never heard. */
  stateOf(id: string): RingState | undefined {
    if (id === this.options.nodeId) return this.own?.state;
    return this.peers.get(id)?.state;
  }

  /** Takes a new own state: saved durably first, then announced (visible to probes) and applied. */
  async setSelf(state: RingState): Promise<void> {
    const previous = this.own;
    if (previous?.state === state) return;
    const announced = { state, version: Math.max(this.nowMs(), (previous?.version ?? 0) + 1, this.versionFloor + 1) };
    this.ownToSave = announced;
    await this.save();
    this.own = announced;
    this.options.logger.info({ from: previous?.state, to: state, version: announced.version }, 'ring state of this node changed');
    this.options.onChange({ node: this.options.nodeId, from: previous?.state, to: state });
  }

  /** What a probe to `peer` says. */
  hello(peer: string): ProbeHello {
    // A forgotten peer is not told what this node heard of it: it would announce its old
    // state again above that version (outrun) and come back with out-of-date data.
    const heard = this.peers.get(peer);
    return { sender: this.options.nodeId, ringState: this.own, heardRingState: heard?.forgotten === true ? undefined : heard, forgotten: this.forgottenMembers() };
  }

  /**
   * A peer's probe arrived: learn its state and what it heard of ours; answer ours. A
   * probe carrying a version from the future is refused (throws) and changes nothing.
   */
  onProbe(hello: ProbeHello): ProbeAnswer {
    const { sender } = hello;
    this.checkVersion(sender, 'ring_state', hello.ringState);
    this.checkVersion(sender, 'heard_ring_state', hello.heardRingState);
    for (const entry of hello.forgotten ?? []) this.checkVersion(sender, 'forgotten', { state: 'LEFT', version: entry.version });
    if (sender !== '' && sender !== this.options.nodeId && this.options.isMember(sender)) {
      // Only from members, like their states: any holder of a node certificate could
      // otherwise name live members forgotten and stop them for good.
      this.learnForgotten(sender, hello.forgotten ?? []);
      if (hello.ringState !== undefined) this.learn(sender, hello.ringState);
      if (hello.heardRingState !== undefined && isNewer(hello.heardRingState, this.heard.get(sender))) this.heard.set(sender, hello.heardRingState);
      if (hello.heardRingState !== undefined && this.own !== undefined && hello.heardRingState.version > this.own.version) this.outrun(hello.heardRingState.version);
    }
    return { ringState: this.own, forgotten: this.forgottenMembers() };
  }

  /** This node's probe to `peer` was answered; an answer with a version from the future is ignored. */
  onAnswer(peer: string, answer: ProbeAnswer): void {
    if (peer === this.options.nodeId || !this.options.isMember(peer)) return;
    const forgotten = answer.forgotten ?? [];
    if (forgotten.every((entry) => entry.version <= this.versionCeiling())) this.learnForgotten(peer, forgotten);
    else this.options.logger.warn({ peer }, 'a probe answer lists a forgotten member at a version further ahead than any node\'s clock may run; its list is ignored');
    if (answer.ringState === undefined) return;
    if (answer.ringState.version > this.versionCeiling()) {
      this.options.logger.warn({ peer, state: answer.ringState.state, version: answer.ringState.version }, 'a probe answer announces a ring-state version further ahead than any node\'s clock may run; ignored');
      return;
    }
    this.learn(peer, answer.ringState);
  }

  /** Of `peers`, those that have not yet said they heard this node's current state. */
  notYetHeardBy(peers: readonly string[]): string[] {
    const own = this.own;
    if (own === undefined) return [...peers];
    return peers.filter((peer) => {
      const heard = this.heard.get(peer);
      // A peer that heard a later version than the own one heard something this node
      // no longer holds (see versionFloor): not an acknowledgement either.
      return heard === undefined || heard.version !== own.version;
    });
  }

  /**
   * Whether a forget of `member` decided by `decision` may be taken here: throws
   * ForgetNotAuthorizedError when its signature is not an admin's (with TLS). Checked
   * before the member's liveness, so an unsigned Forget costs no probe round.
   */
  checkForgetDecision(member: string, decision: SignedForget | undefined): void {
    const { checkForget } = this.options;
    if (checkForget === undefined) return;
    if (decision === undefined) throw new ForgetNotAuthorizedError(member, 'it carries no version and signature (a qkv of a version before signed forgets?)');
    const refusal = checkForget(member, decision.version, decision.signed);
    if (refusal !== undefined) throw new ForgetNotAuthorizedError(member, refusal);
  }

  /**
   * Marks `member` LEFT on its behalf (`qkv forget`): saved, then applied and passed on
   * in every probe. The caller has checked that the member is gone (ring-membership.ts).
   * `decision`: the version and signature of the admin who decided it, required with
   * TLS (checkForget); without it the version is this node's clock.
   */
  async forget(member: string, decision?: SignedForget): Promise<void> {
    this.checkForgetDecision(member, decision);
    const previous = this.peers.get(member);
    // A mark peers that check would refuse (saved before forgets were signed, or signed
    // by an admin whose certificate expired or whose role was taken away since) never
    // reaches the nodes that had not taken it, the forgotten member included: the
    // admin's forget again gives it a signature (at the new version) they take.
    const resigning = previous?.forgotten === true && decision?.signed !== undefined && this.signatureLapsed(member, previous);
    if (previous?.forgotten === true && !resigning) return;
    if (!resigning && this.forgottenMembers().length >= FORGOTTEN_MEMBERS_MAX) {
      throw new ForgetRefusedError(`this node already keeps ${FORGOTTEN_MEMBERS_MAX} forgotten members, the most a probe may carry`);
    }
    let version = Math.max(this.nowMs(), (previous?.version ?? 0) + 1);
    if (decision !== undefined) {
      version = decision.version;
      if (version > this.versionCeiling()) throw new ForgetRefusedError(`the forget's version ${version} lies further ahead of this node's clock than any clock may run; check the clock of the machine qkv forget ran on`);
      if (previous !== undefined && version <= previous.version) {
        throw new ForgetRefusedError(`the forget's version ${version} is not after ${member}'s last announcement (${previous.version}); check the clock of the machine qkv forget ran on, and try again`);
      }
    }
    const owedBefore = this.rereplicate.has(member);
    this.mark(member, version, previous, decision?.signed);
    this.forgetsSaving.add(member);
    try {
      await this.save();
    } catch (error) {
      // Not saved: not applied either (the caller sees the error and may try again).
      if (previous === undefined) this.peers.delete(member);
      else this.peers.set(member, previous);
      if (!owedBefore) this.rereplicate.delete(member);
      throw error;
    } finally {
      this.forgetsSaving.delete(member);
    }
    this.announceForget(member, version, previous);
  }

  /** Whether a peer that checks forgets would refuse the mark `held` of `member` now. */
  private signatureLapsed(member: string, held: AnnouncedRingState): boolean {
    if (held.signed === undefined) return true;
    return this.options.checkForget?.(member, held.version, held.signed) !== undefined;
  }

  /** The members marked forgotten, as probes pass them on. */
  forgottenMembers(): ForgottenMember[] {
    return [...this.peers]
      .filter(([node, announced]) => announced.forgotten === true && !this.forgetsSaving.has(node))
      .map(([node, announced]) => (announced.signed === undefined ? { node, version: announced.version } : { node, version: announced.version, signed: announced.signed }));
  }

  /** Whether `id` is marked forgotten. */
  isForgotten(id: string): boolean {
    return this.peers.get(id)?.forgotten === true;
  }

  /** Forgotten members whose ranges this node has still to re-replicate. */
  rereplicationPending(): readonly string[] {
    return [...this.rereplicate].sort();
  }

  /** The re-replication after forgetting `members` is done: saved, so a restart does not redo it. */
  async rereplicated(members: readonly string[]): Promise<void> {
    for (const member of members) this.rereplicate.delete(member);
    await this.save();
  }

  /** Of `peers`, those that have not said (in a probe or answer) that they know every forgotten member of `members`. */
  notYetHeardForgetBy(peers: readonly string[], members: readonly string[]): string[] {
    // A member that joined again under its id is no longer forgotten, and nobody passes
    // its mark on any more; waiting for that would never end.
    const stillForgotten = members.filter((member) => this.isForgotten(member));
    if (stillForgotten.length === 0) return [];
    return peers.filter((peer) => {
      if (members.includes(peer)) return false;
      const known = this.heardForgotten.get(peer);
      return known === undefined || stillForgotten.some((member) => !known.has(member));
    });
  }

  /** Every peer's state as heard, by id. */
  peerStates(): ReadonlyMap<string, RingState> {
    return new Map([...this.peers].map(([peer, announced]) => [peer, announced.state]));
  }

  /** Resolves once every change so far is saved (shutdown). */
  async flush(): Promise<void> {
    await this.saveTail;
  }

  /** Announces the own state again, above a version a peer heard of this node (versionFloor). */
  private outrun(heardVersion: number): void {
    this.versionFloor = Math.max(this.versionFloor, heardVersion);
    const own = this.own;
    if (own === undefined || this.outrunning) return;
    const announced = { state: own.state, version: Math.max(this.nowMs(), own.version + 1, this.versionFloor + 1) };
    this.ownToSave = announced;
    this.outrunning = true;
    this.save()
      .then(() => {
        // A change of state saved meanwhile carries a version above the floor already.
        if (this.ownToSave !== announced) return;
        this.own = announced;
        this.options.logger.warn({ state: announced.state, version: announced.version, heardVersion }, 'a peer had heard a later version of this node\'s ring state; announcing it again above that');
      })
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not save the ring state announced again; the next probe retries'))
      .finally(() => {
        this.outrunning = false;
      });
  }

  /** The latest ring-state version an honest node can have announced by now. */
  private versionCeiling(): number {
    return this.nowMs() + RING_STATE_VERSION_AHEAD_MS_MAX;
  }

  private checkVersion(sender: string, field: 'ring_state' | 'heard_ring_state' | 'forgotten', announced: AnnouncedRingState | undefined): void {
    if (announced === undefined) return;
    const nowMs = this.nowMs();
    if (announced.version <= nowMs + RING_STATE_VERSION_AHEAD_MS_MAX) return;
    const refusal = new RingStateVersionFromFutureError(sender, field, announced.version, nowMs, RING_STATE_VERSION_AHEAD_MS_MAX);
    this.options.logger.warn({ peer: sender.slice(0, 64), field, version: announced.version }, 'probe refused: a ring-state version further ahead than any node\'s clock may run');
    throw refusal;
  }

  private learn(peer: string, announced: AnnouncedRingState): void {
    const previous = this.peers.get(peer);
    if (!isNewer(announced, previous)) return;
    // Forgotten: only a new node under that id (JOINING, later than the forget) comes back.
    if (previous?.forgotten === true && announced.state !== 'JOINING') return;
    this.peers.set(peer, announced);
    if (previous?.state === announced.state) return;
    this.options.logger.info({ peer, from: previous?.state, to: announced.state }, 'ring state of a peer changed');
    this.save().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not save the ring states heard from peers; the next change retries'));
    this.options.onChange({ node: peer, from: previous?.state, to: announced.state });
  }

  /** The forgotten members `peer` passed on: learned, and remembered as what it knows. */
  private learnForgotten(peer: string, entries: readonly ForgottenMember[]): void {
    this.heardForgotten.set(peer, new Set(entries.map((entry) => entry.node)));
    let changed = false;
    const applied: Array<{ member: string; version: number; previous: AnnouncedRingState | undefined }> = [];
    for (const { node, version, signed } of entries) {
      if (node === this.options.nodeId) {
        this.forgottenSelf(peer, version, signed);
        continue;
      }
      const previous = this.peers.get(node);
      if (!isNewer({ state: 'LEFT', version }, previous) || (previous?.forgotten === true && previous.version === version)) continue;
      if (previous?.forgotten !== true && this.forgottenMembers().length >= FORGOTTEN_MEMBERS_MAX) {
        this.options.logger.warn({ peer, member: node, limit: FORGOTTEN_MEMBERS_MAX }, 'a peer passed on a forgotten member beyond the most this node keeps; ignored');
        continue;
      }
      if (!this.signedByAdmin(peer, node, version, signed)) continue;
      this.mark(node, version, previous, signed);
      applied.push({ member: node, version, previous });
      changed = true;
    }
    if (!changed) return;
    this.save().catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not save a forgotten member heard from a peer; the next change retries'));
    for (const { member, version, previous } of applied) this.announceForget(member, version, previous, peer);
  }

  /**
   * Whether a mark `peer` passed on was signed by an admin (checkForget, its cost bounded:
   * forget-signature-checks.ts); a refused one
   * is logged, at most once a minute per peer, and changes nothing.
   */
  private signedByAdmin(peer: string, member: string, version: number, signed: ForgetSignature | undefined): boolean {
    const refusal = this.forgetChecks?.refusal(peer, member, version, signed);
    if (refusal === undefined) return true;
    const nowMs = this.nowMs();
    if (nowMs - (this.refusalLoggedMs.get(peer) ?? -Infinity) >= FORGET_REFUSAL_LOG_INTERVAL_MS) {
      this.refusalLoggedMs.set(peer, nowMs);
      this.options.logger.warn({ peer, member, version, reason: refusal }, 'a peer passed on a forgotten member that no admin signed; ignored (a member certificate cannot forget anyone)');
    }
    return false;
  }

  /** A peer says this node was forgotten at `version`. */
  private forgottenSelf(peer: string, version: number, signed: ForgetSignature | undefined): void {
    const own = this.own;
    // Announced after the forget (this node joined again since): the peer has not heard yet.
    if (own !== undefined && own.version >= version) return;
    // Stopping for good is what a forged mark would most want: only an admin's counts.
    if (!this.signedByAdmin(peer, this.options.nodeId, version, signed)) return;
    // JOINING from before the forget counts too: the ranges it had streamed missed every
    // write made while it was out of the rings, and its saved join progress would skip them.
    if (own !== undefined && (inReadRing(own.state) || own.state === 'JOINING')) {
      this.options.onForgottenSelf?.(new MemberForgottenError(this.options.nodeId, version));
      return;
    }
    // Undecided (a new, empty node) or LEFT: nothing of the old data is here; every
    // later announcement of this node must be above the forget's version.
    this.options.logger.info({ peer, forgottenVersion: version }, 'this node id was forgotten earlier; announcing above that version');
    this.outrun(version);
  }

  /** Sets the forgotten mark; re-replication is owed when this node is NORMAL and the member held data. */
  private mark(member: string, version: number, previous: AnnouncedRingState | undefined, signed: ForgetSignature | undefined): void {
    this.peers.set(member, signed === undefined ? { state: 'LEFT', version, forgotten: true } : { state: 'LEFT', version, forgotten: true, signed });
    if (this.own?.state === 'NORMAL' && inReadRing(previous?.state)) this.rereplicate.add(member);
  }

  private announceForget(member: string, version: number, previous: AnnouncedRingState | undefined, heardFrom?: string): void {
    this.options.logger.warn(
      { member, from: previous?.state, version, ...(heardFrom === undefined ? {} : { heardFrom }), rereplicate: this.rereplicate.has(member) },
      heardFrom === undefined ? 'member forgotten (qkv forget): out of every ring' : 'a peer passed on that a member was forgotten (qkv forget): out of every ring',
    );
    this.options.onChange({ node: member, from: previous?.state, to: 'LEFT', forgotten: true });
  }

  /** One write at a time; a save asked for while one is queued shares it. */
  private save(): Promise<void> {
    if (this.queuedSave !== undefined) return this.queuedSave;
    const run = this.saveTail.then(() => {
      this.queuedSave = undefined;
      return this.options.store.save({ self: this.ownToSave, peers: new Map(this.peers), rereplicate: [...this.rereplicate].sort() });
    });
    this.queuedSave = run;
    this.saveTail = run.catch(() => {});
    return run;
  }
}
