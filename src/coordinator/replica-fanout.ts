// Sends one request to every replica of a set of keys and counts acks per key. It is the
// quorum machinery under put, get, delete, the batch calls and blocking read repair.
//
// Keys are grouped by replica, so each replica gets ONE message covering all of its keys
// in the call: a batch of 1000 keys over 3 nodes costs 3 messages, not 3000. A key is done
// when `required` of its replicas acked (success), when so many failed that `required`
// can no longer be reached (QuorumNotMetError, at once: no waiting for the deadline), or
// at the deadline (DeadlineExceededError). Both report the acks in hand.
//
// A reply may answer only some of its keys (a read bounded in bytes, `answers`): a key it
// left out counts against that key's quorum like a failed replica.
//
// A key may ask only the first `asked` of its replicas (a read sized to its quorum,
// docs/decisions/0175-reads-sized-to-the-quorum.md); the others are spares. A key still
// open after `speculateAfterMs` sends ONE speculative request to its next spare, and a
// failed replica is replaced by the next spare at once. Spares count as reachable, so a
// key fails fast only once too few of ALL its replicas are left.
//
// Replies that arrive after the keys are done are still reported through `onReply` and
// collected in `complete`, so nothing is lost and no promise is left unobserved. The
// timers (the deadline and the speculation threshold) are cleared as soon as every key
// is done.
import { systemClock, type Clock, type Timer } from '../clock/clock.js';
import { DeadlineExceededError, QuorumNotMetError, isQkvError, type QkvError } from '../errors/errors.js';

export type ReplyOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface FanoutItem {
  /** The nodes that replicate this key. */
  readonly replicas: readonly string[];
  /** Acks needed; 0 makes the key done at once (its messages are still sent). */
  readonly required: number;
  /**
   * How many of `replicas`, first first, are asked at once; the rest are spares, asked
   * one at a time on a failure or after `speculateAfterMs`. All of them when absent.
   */
  readonly asked?: number;
}

/** Why a spare replica was asked: the first ones were slow, or one of them failed. */
export type SpareReason = 'latency' | 'failure';

export type FanoutFailure = 'replicas_failed' | 'too_few_replicas' | 'deadline_exceeded';

export interface FanoutItemResult {
  readonly acks: number;
  /** Absent when the key met its quorum. */
  readonly error?: QuorumNotMetError | DeadlineExceededError;
  readonly failure?: FanoutFailure;
  /** `node: CODE` for every replica that failed before the key was done. */
  readonly failures: readonly string[];
  /** Why spares were asked for this key, one entry per spare asked before it was done. */
  readonly spares: readonly SpareReason[];
  /** Why the spare whose reply completed the quorum was asked; absent when no spare did. */
  readonly wonBySpare?: SpareReason;
}

export interface FanoutQuorum<R> {
  readonly items: readonly FanoutItemResult[];
  /** The replies in hand at the moment the last key was done, by node id. */
  readonly replies: ReadonlyMap<string, ReplyOutcome<R>>;
}

export interface FanoutRequest<R> {
  readonly items: readonly FanoutItem[];
  /** Absolute, on `clock`. */
  readonly deadlineMs: number;
  /** What the deadline is measured on; the machine's clock when absent. */
  readonly clock?: Clock;
  /** The timeout the deadline stands for, reported in DeadlineExceededError. */
  readonly timeoutMs: number;
  /**
   * After this long (on `clock`) every key still open asks its next spare replica, once.
   * Absent: spares are asked only when a replica fails.
   */
  readonly speculateAfterMs?: number;
  /** Asked when the speculation timer fires; false sends no spare (a speculation budget). */
  maySpeculate?(): boolean;
  /** Sends one message to `nodeId` for the keys at `itemIndices` (ascending). */
  send(nodeId: string, itemIndices: readonly number[]): Promise<R>;
  /**
   * Whether a successful reply answers the key at `itemIndex`; absent, every reply
   * answers all of its keys. A key a reply leaves out counts against its quorum like a
   * failed replica, as NOT_ANSWERED (a read bounded in bytes,
   * docs/decisions/0040-bounded-batch-get-memory.md).
   */
  answers?(reply: R, itemIndex: number): boolean;
  /**
   * Sees every reply, early or late (`late` = after every key was done), with the keys
   * its message covered. A node may get more than one message when spares are asked.
   */
  onReply?(nodeId: string, outcome: ReplyOutcome<R>, late: boolean, itemIndices: readonly number[]): void;
}

export interface Fanout<R> {
  /** Settles (never rejects) once every key is done. */
  readonly quorum: Promise<FanoutQuorum<R>>;
  /** Settles (never rejects) once every replica has answered or failed. */
  readonly complete: Promise<ReadonlyMap<string, ReplyOutcome<R>>>;
}

// A BatchPut of 1000 keys makes 1000 of these: the lists are made on first use only.
interface ItemState {
  acks: number;
  failures: string[] | undefined;
  result: FanoutItemResult | undefined;
  /** How many of the item's replicas have been asked (the first ones, in order). */
  asked: number;
  /** The spares asked, in order, and why. */
  spares: Array<{ readonly nodeId: string; readonly reason: SpareReason }> | undefined;
}

const NO_FAILURES: readonly string[] = Object.freeze([]);
const NO_SPARES: readonly SpareReason[] = Object.freeze([]);

function sparesOf(state: ItemState): readonly SpareReason[] {
  return state.spares === undefined ? NO_SPARES : state.spares.map((spare) => spare.reason);
}

export function fanOut<R>(request: FanoutRequest<R>): Fanout<R> {
  const { items } = request;
  const states: ItemState[] = items.map((item) => ({
    acks: 0,
    failures: undefined,
    result: undefined,
    asked: Math.min(item.replicas.length, item.asked ?? item.replicas.length),
    spares: undefined,
  }));
  const replies = new Map<string, ReplyOutcome<R>>();
  let open = items.length;
  let settled = false;
  const clock = request.clock ?? systemClock;
  let deadlineTimer: Timer | undefined;
  let speculationTimer: Timer | undefined;
  let resolveQuorum!: (quorum: FanoutQuorum<R>) => void;
  const quorum = new Promise<FanoutQuorum<R>>((resolve) => (resolveQuorum = resolve));
  // Messages sent and not yet answered; `complete` waits for them all.
  let outstanding = 0;
  // Set once the first messages are out: before that, no message pending means none sent yet.
  let dispatched = false;
  let resolveComplete!: (replies: ReadonlyMap<string, ReplyOutcome<R>>) => void;
  const complete = new Promise<ReadonlyMap<string, ReplyOutcome<R>>>((resolve) => (resolveComplete = resolve));
  const completeIfDone = (): void => {
    if (dispatched && settled && outstanding === 0) resolveComplete(replies);
  };

  const settle = (): void => {
    if (settled) return;
    settled = true;
    deadlineTimer?.cancel();
    speculationTimer?.cancel();
    resolveQuorum({ items: states.map((state) => state.result!), replies: new Map(replies) });
    completeIfDone();
  };
  const finish = (index: number, result: FanoutItemResult): void => {
    const state = states[index]!;
    if (state.result !== undefined) return;
    state.result = result;
    open--;
    if (open === 0) settle();
  };

  items.forEach((item, index) => {
    if (item.required === 0) finish(index, { acks: 0, failures: NO_FAILURES, spares: NO_SPARES });
    else if (item.replicas.length < item.required) {
      const detail = `the preference list holds only ${item.replicas.length} node(s)`;
      const error = new QuorumNotMetError(0, item.required, item.replicas.length, detail);
      finish(index, { acks: 0, error, failure: 'too_few_replicas', failures: NO_FAILURES, spares: NO_SPARES });
    }
  });

  const remainingMs = request.deadlineMs - clock.nowMs();
  if (remainingMs <= 0) {
    // Nothing is sent once the deadline has passed: the caller is no longer waiting.
    dispatched = true;
    items.forEach((item, index) => finish(index, deadlineResult(0, item.required, request.timeoutMs, [])));
    settle();
    // When every key was done before this (required 0, too few replicas), settle() ran
    // above while nothing counted as dispatched, so it left `complete` open, and the
    // call just now did nothing. A read repair whose keys need no ack, started at its
    // read's deadline, did so and kept the coordinator's idle() from ever resolving.
    completeIfDone();
    return { quorum, complete };
  }
  if (open === 0) settle();
  else {
    deadlineTimer = clock.setTimer(remainingMs, () => {
      items.forEach((item, index) => {
        const state = states[index]!;
        finish(index, deadlineResult(state.acks, item.required, request.timeoutMs, state.failures ?? NO_FAILURES, sparesOf(state)));
      });
    });
  }

  /** Asks the next spare of each key in `indices` that has one; one message per node. */
  const askSpares = (indices: readonly number[], reason: SpareReason): void => {
    const byNode = new Map<string, number[]>();
    for (const index of indices) {
      const state = states[index]!;
      const replicas = items[index]!.replicas;
      if (state.result !== undefined || state.asked >= replicas.length) continue;
      const nodeId = replicas[state.asked++]!;
      (state.spares ??= []).push({ nodeId, reason });
      addTo(byNode, nodeId, index);
    }
    for (const [nodeId, nodeIndices] of byNode) send(nodeId, nodeIndices);
  };

  const onReply = (nodeId: string, indices: readonly number[], outcome: ReplyOutcome<R>): void => {
    replies.set(nodeId, outcome);
    request.onReply?.(nodeId, outcome, settled, indices);
    const needSpare: number[] = [];
    for (const index of indices) {
      const state = states[index]!;
      if (state.result !== undefined) continue;
      const item = items[index]!;
      if (outcome.ok && (request.answers === undefined || request.answers(outcome.value, index))) {
        state.acks++;
        if (state.acks >= item.required) {
          const wonBySpare = state.spares?.find((spare) => spare.nodeId === nodeId)?.reason;
          const done = { acks: state.acks, failures: state.failures ?? NO_FAILURES, spares: sparesOf(state) };
          finish(index, wonBySpare === undefined ? done : { ...done, wonBySpare });
        }
      } else {
        const failures = (state.failures ??= []);
        failures.push(`${nodeId}: ${outcome.ok ? NOT_ANSWERED : describeFailure(outcome.error)}`);
        if (item.replicas.length - failures.length < item.required) {
          // A transport gives up on its call at the same deadline; whichever timer fires
          // first, a quorum lost at the deadline is reported as the deadline.
          if (clock.nowMs() >= request.deadlineMs) {
            finish(index, deadlineResult(state.acks, item.required, request.timeoutMs, failures, sparesOf(state)));
            continue;
          }
          const error = new QuorumNotMetError(state.acks, item.required, item.replicas.length, failures.join('; '));
          finish(index, { acks: state.acks, error, failure: 'replicas_failed', failures, spares: sparesOf(state) });
        } else needSpare.push(index);
      }
    }
    if (needSpare.length > 0 && !settled) askSpares(needSpare, 'failure');
    completeIfDone();
  };

  function send(nodeId: string, indices: readonly number[]): void {
    outstanding++;
    let sent: Promise<R>;
    try {
      sent = request.send(nodeId, indices);
    } catch (error) {
      sent = Promise.reject(error);
    }
    void sent.then(
      (value) => {
        outstanding--;
        onReply(nodeId, indices, { ok: true, value });
      },
      (error: unknown) => {
        outstanding--;
        onReply(nodeId, indices, { ok: false, error });
      },
    );
  }

  const byNode = new Map<string, number[]>();
  items.forEach((item, index) => {
    const asked = states[index]!.asked;
    for (let r = 0; r < asked; r++) addTo(byNode, item.replicas[r]!, index);
  });
  const hasSpares = states.some((state, index) => state.asked < items[index]!.replicas.length);
  if (hasSpares && request.speculateAfterMs !== undefined && !settled) {
    speculationTimer = clock.setTimer(request.speculateAfterMs, () => {
      if (request.maySpeculate !== undefined && !request.maySpeculate()) return;
      const open: number[] = [];
      states.forEach((state, index) => {
        if (state.result === undefined) open.push(index);
      });
      askSpares(open, 'latency');
    });
  }
  for (const [nodeId, indices] of byNode) send(nodeId, indices);
  dispatched = true;
  completeIfDone();
  return { quorum, complete };
}

function addTo(byNode: Map<string, number[]>, nodeId: string, index: number): void {
  const indices = byNode.get(nodeId);
  if (indices === undefined) byNode.set(nodeId, [index]);
  else indices.push(index);
}

/** How a reply that left a key out is named among a key's failures. */
export const NOT_ANSWERED = 'NOT_ANSWERED';

function deadlineResult(acks: number, required: number, timeoutMs: number, failures: readonly string[], spares: readonly SpareReason[] = NO_SPARES): FanoutItemResult {
  return { acks, error: new DeadlineExceededError(acks, required, timeoutMs), failure: 'deadline_exceeded', failures, spares };
}

/** How a failed replica's error is named among a key's failures: its stable code, or the message of a bug. */
export function describeFailure(error: unknown): string {
  if (isQkvError(error)) return error.code;
  return error instanceof Error ? error.message : String(error);
}

export function errorCodeOf(error: unknown): QkvError['code'] {
  return isQkvError(error) ? error.code : 'INTERNAL';
}
