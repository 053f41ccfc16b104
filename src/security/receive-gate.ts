// Bounds the request bytes the node holds at once, and shares that bound out fairly
// between callers. grpc-js reads a call's HTTP/2 stream only once the handler asks for
// the message, and then holds the whole message (up to GRPC_MESSAGE_BYTES_MAX) before
// any handler or per-method size check sees it. Without a bound, forty 15 MiB Gets from
// a caller with a read-only certificate grew a node from 149 MB to 858 MB. The gate lets
// RECEIVING_CALLS_MAX calls read a message at a time; a call past that waits with
// its stream still paused, so HTTP/2 flow control keeps its bytes on the sender's side
// (one window, 64 KiB, per stream). A turn ends when the message has arrived, or the
// call ended; a call that takes longer than RECEIVE_TIMEOUT_MS to deliver a message once
// its turn came is ended, so slow senders cannot keep turns for long.
//
// Shared by caller (docs/decisions/0240-receive-turns-shared-by-caller.md): one caller
// (caller-key.ts: a certificate's user or member, or with --insecure an IP address)
// holds at most RECEIVING_CALLS_PER_CALLER_MAX turns, and a freed turn goes to the
// callers with waiting calls in turn (round robin), not to the oldest waiting call. So a
// reader that trickles many messages slowly keeps some turns busy, never all of them,
// and its queue of waiting calls does not stand in front of anyone else's. A caller
// with RECEIVE_WAITING_CALLS_PER_CALLER_MAX waiting calls, or a gate with
// RECEIVE_WAITING_CALLS_MAX, refuses new ones OVERLOADED at once.
//
// The timeout is checked by one interval per gate every RECEIVE_TIMEOUT_CHECK_INTERVAL_MS
// instead of a timer per call (docs/decisions/0241-receive-timeout-swept-not-timed.md):
// turns are kept in the order they began, so a check reads only the expired ones and
// the first that is not. A slow call is ended up to one interval after its timeout.
//
// It runs after the call guards (call-guards.ts): a refused caller never takes a turn.
//
// A stream (KV.Multiplex, reflection) takes a turn for its first message as a unary call
// does, and then one for each later message while it receives it
// (docs/decisions/0242-stream-messages-take-receive-turns.md): the interceptor sees
// messages only once they are whole, so stream-reading.ts shows the gate each chunk
// grpc-js takes in. A stream holds a turn while its decoder is partway through a message
// and grpc-js reads on; between messages, or paused with a complete message not yet
// handed to its handler, it holds none, so an idle stream costs no turn. A stream that
// needs one when none is free is paused and waits like any call, holding at most the
// chunk it got (HTTP/2 flow control keeps the rest with the sender). The peer port's gate
// does the same for Replica.Exchange: a member certificate is no reason to let one caller
// make the node read any number of large messages at once
// (docs/decisions/0269-peer-stream-messages-take-receive-turns.md).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { OverloadedError, QkvError } from '../errors/errors.js';
import { serviceErrorOf } from '../protocol/error-status.js';
import {
  RECEIVE_TIMEOUT_CHECK_INTERVAL_MS,
  RECEIVE_TIMEOUT_MS,
  RECEIVE_WAITING_CALLS_MAX,
  RECEIVE_WAITING_CALLS_PER_CALLER_MAX,
  RECEIVING_CALLS_MAX,
  RECEIVING_CALLS_PER_CALLER_MAX,
} from '../limits.js';
import { callerKeyOf } from './caller-key.js';
import { streamReaderOf } from './stream-reading.js';

export interface ReceiveGateOptions {
  readonly receivingMax?: number;
  readonly receivingPerCallerMax?: number;
  readonly waitingMax?: number;
  readonly waitingPerCallerMax?: number;
  readonly timeoutMs?: number;
  /** How often held turns are checked against `timeoutMs`. */
  readonly timeoutCheckIntervalMs?: number;
  /** Whom a call counts against: callerKeyOf by default; tests name their callers in metadata. */
  readonly callerOf?: (call: grpc.ServerInterceptingCallInterface, metadata: grpc.Metadata) => string;
  /** Told of every call the gate refuses (OVERLOADED) or ends (DEADLINE_EXCEEDED); the node counts and logs them. */
  readonly onRefused?: (error: QkvError, method: string) => void;
}

/**
 * A held turn, linked into the gate's list of turns in the order they began. A list and
 * not a Map keyed by call: bench:gate measured a Map of turns at 2.5 µs more per call
 * than a timer per call (the churn of its hash table), the list at less than the timer.
 */
interface Turn {
  readonly startedAtMs: number;
  readonly expire: () => void;
  previous: Turn | undefined;
  next: Turn | undefined;
}

/** One caller's calls at the gate; forgotten as soon as it has none. */
interface Caller {
  readonly key: string;
  receiving: number;
  /** Its waiting calls' wake-ups, oldest first (a Set: a cancelled one leaves in O(1)). */
  readonly waiting: Set<() => void>;
}

export class ReceiveGate {
  private receiving = 0;
  private waitingCount = 0;
  private readonly callers = new Map<string, Caller>();
  /** Callers with waiting calls, the next one to be served first. */
  private readonly rotation = new Set<Caller>();
  /** The held turns, oldest first. */
  private oldestTurn: Turn | undefined;
  private newestTurn: Turn | undefined;
  private timeoutCheck: NodeJS.Timeout | undefined;
  private readonly receivingMax: number;
  private readonly receivingPerCallerMax: number;
  private readonly waitingMax: number;
  private readonly waitingPerCallerMax: number;
  private readonly timeoutMs: number;
  private readonly timeoutCheckIntervalMs: number;
  private readonly callerOf: (call: grpc.ServerInterceptingCallInterface, metadata: grpc.Metadata) => string;
  private readonly onRefused: ((error: QkvError, method: string) => void) | undefined;

  constructor(options: ReceiveGateOptions = {}) {
    this.receivingMax = options.receivingMax ?? RECEIVING_CALLS_MAX;
    // A gate given fewer turns than a caller's default share lets a caller hold them all.
    this.receivingPerCallerMax = options.receivingPerCallerMax ?? Math.min(RECEIVING_CALLS_PER_CALLER_MAX, this.receivingMax);
    this.waitingMax = options.waitingMax ?? RECEIVE_WAITING_CALLS_MAX;
    this.waitingPerCallerMax = options.waitingPerCallerMax ?? RECEIVE_WAITING_CALLS_PER_CALLER_MAX;
    this.timeoutMs = options.timeoutMs ?? RECEIVE_TIMEOUT_MS;
    this.timeoutCheckIntervalMs = options.timeoutCheckIntervalMs ?? RECEIVE_TIMEOUT_CHECK_INTERVAL_MS;
    this.callerOf = options.callerOf ?? callerKeyOf;
    this.onRefused = options.onRefused;
    assert.ok(this.receivingPerCallerMax >= 1 && this.receivingPerCallerMax <= this.receivingMax, 'a caller may hold from one turn to all of them');
  }

  /** Calls reading their message now, calls waiting for a turn, and callers with either. */
  get load(): { readonly receiving: number; readonly waiting: number; readonly callers: number } {
    return { receiving: this.receiving, waiting: this.waitingCount, callers: this.callers.size };
  }

  interceptor(): grpc.ServerInterceptor {
    return (method, call) => {
      // 'idle': a stream between its messages (or holding only a paused chunk's part of
      // one), which holds no turn until it reads on into a message.
      let state: 'before' | 'waiting' | 'receiving' | 'idle' | 'done' = 'before';
      let caller: Caller | undefined;
      let wake: (() => void) | undefined;
      let turn: Turn | undefined;
      const giveBack = (): void => {
        if (state === 'receiving') this.release(caller!, turn!);
        if (state === 'waiting') this.forget(caller!, wake!);
      };
      const finish = (): void => {
        giveBack();
        state = 'done';
      };
      const end = (error: QkvError): void => {
        finish();
        this.onRefused?.(error, method.path);
        call.sendStatus(serviceErrorOf(error));
      };
      const expire = (): void => end(new QkvError('DEADLINE_EXCEEDED', `the request message of ${caller!.key} did not arrive within ${this.timeoutMs} ms`));
      /** Takes a turn at once if `caller` may and calls `onTurn`; else queues `onTurn` for one, or refuses the call. */
      const takeOrWait = (onTurn: () => void): 'taken' | 'waiting' | 'refused' => {
        if (this.receiving < this.receivingMax && caller!.receiving < this.receivingPerCallerMax) {
          this.take(caller!);
          onTurn();
          return 'taken';
        }
        const refusal = this.waitRefusal(caller!);
        if (refusal !== undefined) {
          this.dropIfIdle(caller!);
          end(refusal);
          return 'refused';
        }
        state = 'waiting';
        wake = onTurn;
        caller!.waiting.add(wake);
        this.waitingCount++;
        this.rotation.add(caller!);
        return 'waiting';
      };
      // A stream's later messages: the gate learns of each chunk grpc-js takes in.
      const reader = method.requestStream ? streamReaderOf(call) : undefined;
      if (reader !== undefined) {
        // Called once the gate has counted the turn as this stream's.
        const readOn = (): void => {
          state = 'receiving';
          turn = this.linkTurn(expire);
          reader.resume();
        };
        reader.afterEachChunk(() => {
          const receiving = reader.receivingMessage;
          if (state === 'receiving' && !receiving) {
            giveBack();
            state = 'idle';
          } else if (state === 'idle' && receiving) {
            // A caller seen again after it had no turn and no waiting call was forgotten.
            caller = this.callerNamed(caller!.key);
            if (takeOrWait(readOn) === 'waiting') reader.pause();
          } else if (state === 'waiting') {
            // grpc-js resumed the stream to read a message while it waited: one chunk came.
            if (receiving) reader.pause();
            else {
              giveBack();
              state = 'idle';
            }
          }
        });
      }
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              // A call cancelled before its metadata was passed on takes no turn.
              if (state === 'done') return;
              caller = this.callerNamed(this.callerOf(call, metadata));
              // Called once the gate has counted the turn as this call's.
              const begin = (): void => {
                state = 'receiving';
                turn = this.linkTurn(expire);
                nextMetadata(metadata);
              };
              takeOrWait(begin);
            },
            onReceiveMessage: (message, nextMessage) => {
              // A stream read through `reader` gives its turn back by the chunk, above.
              if (state === 'receiving' && reader === undefined) finish();
              nextMessage(message);
            },
            onReceiveHalfClose: (nextHalfClose) => {
              // No more bytes come: a message begun and not completed never will be.
              if (state === 'receiving' || state === 'waiting') finish();
              nextHalfClose();
            },
            onCancel: () => finish(),
          });
        },
        sendStatus: (status, nextStatus) => {
          finish();
          nextStatus(status);
        },
      });
    };
  }

  /** Why `caller` may not wait for a turn: the gate's queue or its own is full. */
  private waitRefusal(caller: Caller): OverloadedError | undefined {
    if (this.waitingCount >= this.waitingMax) return new OverloadedError('calls waiting for their request to be read', this.waitingMax);
    if (caller.waiting.size >= this.waitingPerCallerMax) return new OverloadedError(`calls of ${caller.key} waiting for their request to be read`, this.waitingPerCallerMax);
    return undefined;
  }

  private callerNamed(key: string): Caller {
    let caller = this.callers.get(key);
    if (caller === undefined) {
      caller = { key, receiving: 0, waiting: new Set() };
      this.callers.set(key, caller);
    }
    return caller;
  }

  private take(caller: Caller): void {
    this.receiving++;
    caller.receiving++;
  }

  /** A turn ended: the waiting calls that may now have one get it. */
  private release(caller: Caller, turn: Turn): void {
    this.unlinkTurn(turn);
    this.receiving--;
    caller.receiving--;
    this.dispatch();
    this.dropIfIdle(caller);
  }

  /**
   * Hands free turns to waiting calls: each to the first caller in the rotation below
   * its own share, which then goes to the back of the rotation. At most
   * receivingMax / receivingPerCallerMax callers can be at their share, so few are skipped.
   */
  private dispatch(): void {
    while (this.receiving < this.receivingMax) {
      let served: Caller | undefined;
      for (const caller of this.rotation) {
        if (caller.receiving < this.receivingPerCallerMax) {
          served = caller;
          break;
        }
      }
      if (served === undefined) return;
      const wake = served.waiting.values().next().value!;
      served.waiting.delete(wake);
      this.waitingCount--;
      this.rotation.delete(served);
      if (served.waiting.size > 0) this.rotation.add(served);
      this.take(served);
      wake();
    }
  }

  private forget(caller: Caller, wake: () => void): void {
    if (!caller.waiting.delete(wake)) return;
    this.waitingCount--;
    if (caller.waiting.size === 0) this.rotation.delete(caller);
    this.dropIfIdle(caller);
  }

  private dropIfIdle(caller: Caller): void {
    if (caller.receiving === 0 && caller.waiting.size === 0) this.callers.delete(caller.key);
  }

  /** A turn begins: it goes to the end of the list, and the interval runs while turns are held. */
  private linkTurn(expire: () => void): Turn {
    const turn: Turn = { startedAtMs: performance.now(), expire, previous: this.newestTurn, next: undefined };
    if (this.newestTurn === undefined) this.oldestTurn = turn;
    else this.newestTurn.next = turn;
    this.newestTurn = turn;
    if (this.timeoutCheck === undefined) {
      this.timeoutCheck = setInterval(() => this.endExpiredTurns(), this.timeoutCheckIntervalMs);
      this.timeoutCheck.unref();
    }
    return turn;
  }

  private unlinkTurn(turn: Turn): void {
    if (turn.previous === undefined) this.oldestTurn = turn.next;
    else turn.previous.next = turn.next;
    if (turn.next === undefined) this.newestTurn = turn.previous;
    else turn.next.previous = turn.previous;
  }

  /** Ends the turns held longer than the timeout; stops the interval at the first check that finds none held. */
  private endExpiredTurns(): void {
    const nowMs = performance.now();
    // Oldest first; ending one unlinks it, and turns it hands on are linked at the end
    // with the current time, so the loop stops at them.
    for (let oldest = this.oldestTurn; oldest !== undefined && nowMs - oldest.startedAtMs >= this.timeoutMs; oldest = this.oldestTurn) {
      oldest.expire();
      assert.notEqual(this.oldestTurn, oldest, 'an expired turn leaves the list');
    }
    if (this.oldestTurn === undefined) {
      clearInterval(this.timeoutCheck);
      this.timeoutCheck = undefined;
    }
  }
}
