// One single-key call whose only replica is this node's own: a put, delete or get on a
// one-node cluster (N=1, W=R=1, no pending replica). It answers exactly as the fan-out
// (replica-fanout.ts) answers for one key with one replica, without the fan-out's
// machinery for many keys and many replicas (per-key state, a message per node, spares,
// a map of replies): DEADLINE_EXCEEDED at the deadline (the replica's work goes on and
// is still reported), QUORUM_NOT_MET at once when the replica fails before it, nothing
// sent once the deadline has passed (docs/decisions/0258-one-local-replica-without-the-fan-out.md).
import type { Clock } from '../clock/clock.js';
import { DeadlineExceededError, QuorumNotMetError } from '../errors/errors.js';
import { describeFailure, type FanoutFailure, type ReplyOutcome } from './replica-fanout.js';

export type LocalCallResult<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly error: QuorumNotMetError | DeadlineExceededError; readonly failure: FanoutFailure };

export interface LocalCallRequest<R> {
  /** This node's id, as a failure names the replica. */
  readonly nodeId: string;
  /** Absolute, on `clock`. */
  readonly deadlineMs: number;
  /** The timeout the deadline stands for, reported in DeadlineExceededError. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** The replica's work. */
  call(): Promise<R>;
  /** Sees the replica's outcome, also when it comes after the deadline answered the call. */
  onReply(outcome: ReplyOutcome<R>): void;
}

export interface LocalCall<R> {
  /** Settles (never rejects) with the reply, or the error the call answers with. */
  readonly result: Promise<LocalCallResult<R>>;
  /** Settles (never rejects) once the replica has answered or failed. */
  readonly complete: Promise<void>;
}

/** One required ack from one replica: what the fan-out reports for such a key. */
const REQUIRED = 1;
const REPLICAS = 1;

export function callLocalReplica<R>(request: LocalCallRequest<R>): LocalCall<R> {
  const { clock, deadlineMs, timeoutMs } = request;
  const deadlineResult = (): LocalCallResult<R> => ({ ok: false, error: new DeadlineExceededError(0, REQUIRED, timeoutMs), failure: 'deadline_exceeded' });
  const remainingMs = deadlineMs - clock.nowMs();
  // Nothing is sent once the deadline has passed: the caller is no longer waiting.
  if (remainingMs <= 0) return { result: Promise.resolve(deadlineResult()), complete: Promise.resolve() };

  let answered = false;
  let resolveResult!: (result: LocalCallResult<R>) => void;
  const result = new Promise<LocalCallResult<R>>((resolve) => (resolveResult = resolve));
  const answer = (outcome: LocalCallResult<R>): void => {
    if (answered) return;
    answered = true;
    resolveResult(outcome);
  };
  const deadlineTimer = clock.setTimer(remainingMs, () => answer(deadlineResult()));

  let sent: Promise<R>;
  try {
    sent = request.call();
  } catch (error) {
    sent = Promise.reject(error);
  }
  const complete = sent.then(
    (value) => {
      deadlineTimer.cancel();
      request.onReply({ ok: true, value });
      answer({ ok: true, value });
    },
    (error: unknown) => {
      deadlineTimer.cancel();
      request.onReply({ ok: false, error });
      // A replica that gives up at the same deadline is reported as the deadline.
      if (clock.nowMs() >= deadlineMs) return answer(deadlineResult());
      answer({ ok: false, error: new QuorumNotMetError(0, REQUIRED, REPLICAS, `${request.nodeId}: ${describeFailure(error)}`), failure: 'replicas_failed' });
    },
  );
  return { result, complete };
}
