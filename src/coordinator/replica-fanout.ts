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
// Replies that arrive after the keys are done are still reported through `onReply` and
// collected in `complete`, so nothing is lost and no promise is left unobserved. The
// only timer is the deadline; it is cleared as soon as every key is done.
import { systemClock, type Clock, type Timer } from '../clock/clock.js';
import { DeadlineExceededError, QuorumNotMetError, isQkvError, type QkvError } from '../errors/errors.js';

export type ReplyOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface FanoutItem {
  /** The nodes that replicate this key. */
  readonly replicas: readonly string[];
  /** Acks needed; 0 makes the key done at once (its messages are still sent). */
  readonly required: number;
}

export type FanoutFailure = 'replicas_failed' | 'too_few_replicas' | 'deadline_exceeded';

export interface FanoutItemResult {
  readonly acks: number;
  /** Absent when the key met its quorum. */
  readonly error?: QuorumNotMetError | DeadlineExceededError;
  readonly failure?: FanoutFailure;
  /** `node: CODE` for every replica that failed before the key was done. */
  readonly failures: readonly string[];
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
  /** Sends one message to `nodeId` for the keys at `itemIndices` (ascending). */
  send(nodeId: string, itemIndices: readonly number[]): Promise<R>;
  /**
   * Whether a successful reply answers the key at `itemIndex`; absent, every reply
   * answers all of its keys. A key a reply leaves out counts against its quorum like a
   * failed replica, as NOT_ANSWERED (a read bounded in bytes,
   * docs/decisions/0040-bounded-batch-get-memory.md).
   */
  answers?(reply: R, itemIndex: number): boolean;
  /** Sees every reply, early or late (`late` = after every key was done). */
  onReply?(nodeId: string, outcome: ReplyOutcome<R>, late: boolean): void;
}

export interface Fanout<R> {
  /** Settles (never rejects) once every key is done. */
  readonly quorum: Promise<FanoutQuorum<R>>;
  /** Settles (never rejects) once every replica has answered or failed. */
  readonly complete: Promise<ReadonlyMap<string, ReplyOutcome<R>>>;
}

interface ItemState {
  acks: number;
  readonly failures: string[];
  result: FanoutItemResult | undefined;
}

export function fanOut<R>(request: FanoutRequest<R>): Fanout<R> {
  const { items } = request;
  const states: ItemState[] = items.map(() => ({ acks: 0, failures: [], result: undefined }));
  const replies = new Map<string, ReplyOutcome<R>>();
  let open = items.length;
  let settled = false;
  const clock = request.clock ?? systemClock;
  let deadlineTimer: Timer | undefined;
  let resolveQuorum!: (quorum: FanoutQuorum<R>) => void;
  const quorum = new Promise<FanoutQuorum<R>>((resolve) => (resolveQuorum = resolve));

  const settle = (): void => {
    if (settled) return;
    settled = true;
    deadlineTimer?.cancel();
    resolveQuorum({ items: states.map((state) => state.result!), replies: new Map(replies) });
  };
  const finish = (index: number, result: FanoutItemResult): void => {
    const state = states[index]!;
    if (state.result !== undefined) return;
    state.result = result;
    open--;
    if (open === 0) settle();
  };

  items.forEach((item, index) => {
    if (item.required === 0) finish(index, { acks: 0, failures: [] });
    else if (item.replicas.length < item.required) {
      const detail = `the preference list holds only ${item.replicas.length} node(s)`;
      const error = new QuorumNotMetError(0, item.required, item.replicas.length, detail);
      finish(index, { acks: 0, error, failure: 'too_few_replicas', failures: [] });
    }
  });

  const remainingMs = request.deadlineMs - clock.nowMs();
  if (remainingMs <= 0) {
    // Nothing is sent once the deadline has passed: the caller is no longer waiting.
    items.forEach((item, index) => finish(index, deadlineResult(0, item.required, request.timeoutMs, [])));
    settle();
    return { quorum, complete: Promise.resolve(new Map()) };
  }
  if (open === 0) settle();
  else {
    deadlineTimer = clock.setTimer(remainingMs, () => {
      items.forEach((item, index) => {
        const state = states[index]!;
        finish(index, deadlineResult(state.acks, item.required, request.timeoutMs, state.failures));
      });
    });
  }

  const byNode = new Map<string, number[]>();
  items.forEach((item, index) => {
    for (const nodeId of item.replicas) {
      const indices = byNode.get(nodeId);
      if (indices === undefined) byNode.set(nodeId, [index]);
      else indices.push(index);
    }
  });

  const onReply = (nodeId: string, indices: readonly number[], outcome: ReplyOutcome<R>): void => {
    replies.set(nodeId, outcome);
    request.onReply?.(nodeId, outcome, settled);
    for (const index of indices) {
      const state = states[index]!;
      if (state.result !== undefined) continue;
      const item = items[index]!;
      if (outcome.ok && (request.answers === undefined || request.answers(outcome.value, index))) {
        state.acks++;
        if (state.acks >= item.required) finish(index, { acks: state.acks, failures: state.failures });
      } else {
        state.failures.push(`${nodeId}: ${outcome.ok ? NOT_ANSWERED : describe(outcome.error)}`);
        if (item.replicas.length - state.failures.length < item.required) {
          // A transport gives up on its call at the same deadline; whichever timer fires
          // first, a quorum lost at the deadline is reported as the deadline.
          if (clock.nowMs() >= request.deadlineMs) {
            finish(index, deadlineResult(state.acks, item.required, request.timeoutMs, state.failures));
            continue;
          }
          const error = new QuorumNotMetError(state.acks, item.required, item.replicas.length, state.failures.join('; '));
          finish(index, { acks: state.acks, error, failure: 'replicas_failed', failures: state.failures });
        }
      }
    }
  };

  const sends = [...byNode].map(([nodeId, indices]) => {
    let sent: Promise<R>;
    try {
      sent = request.send(nodeId, indices);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (value) => onReply(nodeId, indices, { ok: true, value }),
      (error: unknown) => onReply(nodeId, indices, { ok: false, error }),
    );
  });
  const complete = Promise.all(sends).then(() => replies as ReadonlyMap<string, ReplyOutcome<R>>);
  return { quorum, complete };
}

/** How a reply that left a key out is named among a key's failures. */
export const NOT_ANSWERED = 'NOT_ANSWERED';

function deadlineResult(acks: number, required: number, timeoutMs: number, failures: readonly string[]): FanoutItemResult {
  return { acks, error: new DeadlineExceededError(acks, required, timeoutMs), failure: 'deadline_exceeded', failures };
}

function describe(error: unknown): string {
  if (isQkvError(error)) return error.code;
  return error instanceof Error ? error.message : String(error);
}

export function errorCodeOf(error: unknown): QkvError['code'] {
  return isQkvError(error) ? error.code : 'INTERNAL';
}
