// Coalesces the messages for one peer that arise in the same event-loop turn into one
// call (docs/style.md point 8, "work at your own pace"). A coordinator fans every
// request out to N replicas, and a busy node handles many requests per turn: sending
// each message as its own RPC would cost one HTTP/2 frame, one protobuf encode and one
// replica-side fsync per message. Instead messages wait in a per-peer queue that is
// flushed by `setImmediate`, which runs after the poll phase in which the requests
// arrived, so everything that arrived together leaves together
// (docs/decisions/0031-replica-batching-per-turn.md).
//
// Bounds: the queue holds at most `queueMessagesMax` messages (more are refused with
// OVERLOADED, never buffered without limit), and one call carries at most
// `batchItemsMax` items and about `batchBytesMax` bytes; a larger turn is split.
//
// Deadlines: a call's deadline is the latest deadline among its messages, so one
// impatient caller does not cut the others short; a message whose own deadline is
// earlier is rejected on time by one timer per batch, set for the earliest such deadline
// still waiting (a turn's messages usually carry deadlines a few ms apart, and the timer
// is cleared when the batch answers, so it rarely fires at all).
import { OverloadedError, QkvError } from '../../errors/errors.js';

export interface CoalescedMessage<TPayload> {
  readonly payload: TPayload;
  /** Items (records or keys) in the payload. */
  readonly items: number;
  /** Approximate encoded bytes of the payload. */
  readonly bytes: number;
  readonly deadlineMs: number;
}

/** Sends one batch; resolves with exactly one result per message, in order. */
export type BatchDispatch<TPayload, TResult> = (
  messages: ReadonlyArray<CoalescedMessage<TPayload>>,
  deadlineMs: number,
) => Promise<TResult[]>;

export interface TurnCoalescerOptions<TPayload, TResult> {
  /** Names the queue in errors, e.g. `apply to quorumkv-1`. */
  readonly name: string;
  readonly queueMessagesMax: number;
  readonly batchItemsMax: number;
  readonly batchBytesMax: number;
  readonly dispatch: BatchDispatch<TPayload, TResult>;
  /** Clock for deadlines; injected so tests can control it. */
  readonly nowMs?: () => number;
}

interface Pending<TPayload, TResult> extends CoalescedMessage<TPayload> {
  readonly resolve: (result: TResult) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

export class TurnCoalescer<TPayload, TResult> {
  private queue: Array<Pending<TPayload, TResult>> = [];
  private flushHandle: NodeJS.Immediate | undefined;
  private closedError: QkvError | undefined;
  private readonly nowMs: () => number;

  constructor(private readonly options: TurnCoalescerOptions<TPayload, TResult>) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Messages queued and not yet handed to `dispatch`. */
  get queued(): number {
    return this.queue.length;
  }

  send(payload: TPayload, items: number, bytes: number, deadlineMs: number): Promise<TResult> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    if (deadlineMs <= this.nowMs()) return Promise.reject(this.deadlineError());
    if (this.queue.length >= this.options.queueMessagesMax) {
      return Promise.reject(new OverloadedError(`messages queued for ${this.options.name}`, this.options.queueMessagesMax));
    }
    return new Promise<TResult>((resolve, reject) => {
      this.queue.push({ payload, items, bytes, deadlineMs, resolve, reject, settled: false });
      this.flushHandle ??= setImmediate(() => this.flush());
    });
  }

  /** Rejects everything queued and every later send; calls in flight run to their end. */
  close(error: QkvError): void {
    this.closedError = error;
    if (this.flushHandle !== undefined) clearImmediate(this.flushHandle);
    this.flushHandle = undefined;
    const queue = this.queue;
    this.queue = [];
    for (const pending of queue) settle(pending, () => pending.reject(error));
  }

  private flush(): void {
    this.flushHandle = undefined;
    const queue = this.queue;
    this.queue = [];
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let items = 0;
      let bytes = 0;
      // Always take at least one message, so a message larger than the batch bounds
      // still travels (alone); the per-message limits keep it below the gRPC ceiling.
      do {
        const pending = queue[end]!;
        items += pending.items;
        bytes += pending.bytes;
        end += 1;
      } while (
        end < queue.length &&
        items + queue[end]!.items <= this.options.batchItemsMax &&
        bytes + queue[end]!.bytes <= this.options.batchBytesMax
      );
      this.dispatchBatch(queue.slice(start, end));
      start = end;
    }
  }

  private dispatchBatch(batch: Array<Pending<TPayload, TResult>>): void {
    const now = this.nowMs();
    const live = batch.filter((pending) => {
      if (pending.deadlineMs > now) return true;
      settle(pending, () => pending.reject(this.deadlineError()));
      return false;
    });
    if (live.length === 0) return;
    let deadlineMs = 0;
    for (const pending of live) deadlineMs = Math.max(deadlineMs, pending.deadlineMs);
    let timer: NodeJS.Timeout | undefined;
    // Rejects the messages whose own deadline has passed and sets the timer for the
    // earliest one still waiting that is earlier than the batch's deadline.
    const expireEarly = (): void => {
      const nowMs = this.nowMs();
      let earliestMs = deadlineMs;
      for (const pending of live) {
        if (pending.settled || pending.deadlineMs >= deadlineMs) continue;
        if (pending.deadlineMs <= nowMs) settle(pending, () => pending.reject(this.deadlineError()));
        else earliestMs = Math.min(earliestMs, pending.deadlineMs);
      }
      timer = earliestMs < deadlineMs ? setTimeout(expireEarly, earliestMs - nowMs) : undefined;
    };
    expireEarly();
    let results: Promise<TResult[]>;
    try {
      results = this.options.dispatch(live, deadlineMs);
    } catch (error) {
      results = Promise.reject(error);
    }
    results.then(
      (values) => {
        clearTimeout(timer);
        if (values.length !== live.length) {
          const error = new QkvError('INTERNAL', `${this.options.name}: ${values.length} results for ${live.length} messages`);
          for (const pending of live) settle(pending, () => pending.reject(error));
          return;
        }
        live.forEach((pending, index) => settle(pending, () => pending.resolve(values[index]!)));
      },
      (error: unknown) => {
        clearTimeout(timer);
        for (const pending of live) settle(pending, () => pending.reject(error));
      },
    );
  }

  private deadlineError(): QkvError {
    return new QkvError('DEADLINE_EXCEEDED', `${this.options.name}: no answer before the deadline`);
  }
}

function settle<TPayload, TResult>(pending: Pending<TPayload, TResult>, action: () => void): void {
  if (pending.settled) return;
  pending.settled = true;
  action();
}
