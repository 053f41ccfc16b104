// Bounds the request bytes the node holds at once. grpc-js reads a call's HTTP/2 stream
// only once the handler asks for the message, and then holds the whole message (up to
// GRPC_MESSAGE_BYTES_MAX) before any handler or per-method size check sees it. Without a
// bound, forty 15 MiB Gets from a caller with a read-only certificate grew a node from
// 149 MB to 858 MB. The gate lets RECEIVING_CALLS_MAX calls read their message at a
// time; a call past that waits with its stream still paused, so HTTP/2 flow control keeps
// its bytes on the sender's side (one window, 64 KiB, per stream). A turn ends when the
// call's first message has arrived, or the call ended; a call that takes longer than
// RECEIVE_TIMEOUT_MS to deliver its message is ended, so slow senders cannot keep turns.
// Past RECEIVE_WAITING_CALLS_MAX waiting calls, new ones are refused OVERLOADED.
//
// It runs after the call guards (call-guards.ts): a refused caller never takes a turn.
// A stream (Replica.Exchange) is gated for its first message only.
import * as grpc from '@grpc/grpc-js';
import { OverloadedError, QkvError } from '../errors/errors.js';
import { serviceErrorOf } from '../protocol/error-status.js';
import { RECEIVE_TIMEOUT_MS, RECEIVE_WAITING_CALLS_MAX, RECEIVING_CALLS_MAX } from '../limits.js';

export interface ReceiveGateOptions {
  readonly receivingMax?: number;
  readonly waitingMax?: number;
  readonly timeoutMs?: number;
}

export class ReceiveGate {
  private receiving = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly receivingMax: number;
  private readonly waitingMax: number;
  private readonly timeoutMs: number;

  constructor(options: ReceiveGateOptions = {}) {
    this.receivingMax = options.receivingMax ?? RECEIVING_CALLS_MAX;
    this.waitingMax = options.waitingMax ?? RECEIVE_WAITING_CALLS_MAX;
    this.timeoutMs = options.timeoutMs ?? RECEIVE_TIMEOUT_MS;
  }

  /** Calls reading their message now, and calls waiting for a turn. */
  get load(): { readonly receiving: number; readonly waiting: number } {
    return { receiving: this.receiving, waiting: this.waiting.length };
  }

  interceptor(): grpc.ServerInterceptor {
    return (_method, call) => {
      let state: 'before' | 'waiting' | 'receiving' | 'done' = 'before';
      let timer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      const finish = (): void => {
        if (state === 'receiving') this.release();
        if (state === 'waiting' && wake !== undefined) this.forget(wake);
        state = 'done';
        clearTimeout(timer);
      };
      const end = (error: QkvError): void => {
        finish();
        call.sendStatus(serviceErrorOf(error));
      };
      return new grpc.ServerInterceptingCall(call, {
        start: (next) => {
          next({
            onReceiveMetadata: (metadata, nextMetadata) => {
              const begin = (): void => {
                if (state === 'done') return;
                state = 'receiving';
                timer = setTimeout(() => end(new QkvError('DEADLINE_EXCEEDED', `the request message did not arrive within ${this.timeoutMs} ms`)), this.timeoutMs);
                timer.unref();
                nextMetadata(metadata);
              };
              if (this.receiving < this.receivingMax) {
                this.receiving++;
                begin();
                return;
              }
              if (this.waiting.length >= this.waitingMax) {
                end(new OverloadedError('calls waiting for their request to be read', this.waitingMax));
                return;
              }
              state = 'waiting';
              wake = begin;
              this.waiting.push(wake);
            },
            onReceiveMessage: (message, nextMessage) => {
              if (state === 'receiving') finish();
              nextMessage(message);
            },
            onReceiveHalfClose: (nextHalfClose) => {
              if (state === 'receiving') finish();
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

  /** A turn ended: the next waiting call (if any) takes it over. */
  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.receiving--;
      return;
    }
    next();
  }

  private forget(wake: () => void): void {
    const index = this.waiting.indexOf(wake);
    if (index >= 0) this.waiting.splice(index, 1);
  }
}
