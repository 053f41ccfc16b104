// The sending side of a bidirectional stream that carries many numbered requests at once
// (the server side is multiplexed-stream-server.ts): Replica.Exchange to a peer
// (src/transport/grpc/exchange-stream.ts) and KV.Multiplex to a node (src/client). A
// unary gRPC call costs grpc-js an HTTP/2 stream, headers and trailers, metadata, a
// deadline timer and a chain of interceptor objects on both ends; a message on a stream
// that is already open costs little more than its protobuf encoding. So each request
// goes out as one numbered message on the stream, and the replies, which may come in
// any order, are matched back by number.
//
// - The stream opens on the first request and again on the first request after it
//   ended; it carries no deadline. Each request has its own: at that moment it is
//   rejected with DEADLINE_EXCEEDED and a reply that comes later is dropped.
// - When the stream ends or fails, every request still waiting on it is rejected as
//   `endingError` says: a request cannot be answered on another stream, and whether it
//   may be sent again is the caller's decision (only it knows whether it is safe).
// - At most `pendingMax` requests wait at once; more are refused with `tooManyWaiting`.
// - A request whose deadline has passed before it is sent is refused at once, unsent.
import type * as grpc from '@grpc/grpc-js';
import { QkvError } from '../errors/errors.js';

export type MultiplexedCall<Request, Reply> = grpc.ClientDuplexStream<Request, Reply>;

export interface MultiplexedStreamClientOptions<Request extends { id: number }, Reply extends { id: number }> {
  /** Who answers, for error messages ("peer qkv-2", "node 10.0.0.1:7000"). */
  readonly target: string;
  /** Starts the bidirectional call. */
  readonly open: () => MultiplexedCall<Request, Reply>;
  /** Requests that may wait for a reply at once. */
  readonly pendingMax: number;
  /** The error for a request past `pendingMax`. */
  readonly tooManyWaiting: (waiting: number) => Error;
  /** The reply's value, or the error the reply carries (thrown). */
  readonly settle: (reply: Reply) => Reply;
  /** What a request still waiting when the stream ended with `status` fails with. */
  readonly endingError: (status: grpc.StatusObject) => Error;
}

interface PendingRequest<Reply> {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Ids are uint32 on the wire. */
const ID_LIMIT = 2 ** 32;

export class MultiplexedStreamClient<Request extends { id: number }, Reply extends { id: number }> {
  private call: MultiplexedCall<Request, Reply> | undefined;
  private readonly pending = new Map<number, PendingRequest<Reply>>();
  private nextId = 1;
  private closedError: Error | undefined;

  constructor(private readonly options: MultiplexedStreamClientOptions<Request, Reply>) {}

  /** Requests waiting for their reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends one request (`build` gets its id and the milliseconds left until its
   * deadline); resolves with its settled reply.
   */
  request(build: (id: number, timeLeftMs: number) => Request, deadlineMs: number): Promise<Reply> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    if (this.pending.size >= this.options.pendingMax) return Promise.reject(this.options.tooManyWaiting(this.pending.size));
    const timeLeftMs = deadlineMs - Date.now();
    if (timeLeftMs <= 0) return Promise.reject(new QkvError('DEADLINE_EXCEEDED', `the deadline for ${this.options.target} passed before the request was sent`));
    const call = this.call ?? this.openCall();
    const id = this.takeId();
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new QkvError('DEADLINE_EXCEEDED', `${this.options.target} did not answer before the deadline`));
      }, timeLeftMs);
      this.pending.set(id, { resolve, reject, timer });
      call.write(build(id, Math.ceil(timeLeftMs)));
    });
  }

  /**
   * Rejects every waiting request and every later one with `error`, and half-closes the
   * stream so the server can finish and end it.
   */
  close(error: Error): void {
    this.closedError = error;
    const call = this.call;
    this.call = undefined;
    this.failAll(error);
    call?.end();
  }

  private openCall(): MultiplexedCall<Request, Reply> {
    const call = this.options.open();
    this.call = call;
    call.on('data', (reply: Reply) => this.onReply(reply));
    // The status event reports every ending; an 'error' listener must still exist, or
    // the stream's error event would be thrown.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      // A stream that close() let go had its requests failed already.
      if (this.call !== call) return;
      this.call = undefined;
      this.failAll(this.options.endingError(status));
    });
    return call;
  }

  private onReply(reply: Reply): void {
    const request = this.pending.get(reply.id);
    // A reply after its request's deadline finds nobody waiting; it is dropped.
    if (request === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(request.timer);
    let settled: Reply;
    try {
      settled = this.options.settle(reply);
    } catch (error) {
      request.reject(error instanceof Error ? error : new QkvError('INTERNAL', String(error)));
      return;
    }
    request.resolve(settled);
  }

  private failAll(error: Error): void {
    if (this.pending.size === 0) return;
    const requests = [...this.pending.values()];
    this.pending.clear();
    for (const request of requests) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }

  private takeId(): number {
    // An id is free unless a request with it is still waiting; with at most pendingMax
    // waiting, this loop ends within pendingMax + 1 steps.
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) % ID_LIMIT;
    this.nextId = (id + 1) % ID_LIMIT;
    return id;
  }
}
