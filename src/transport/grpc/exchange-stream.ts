// The sending side of one long-lived Replica.Exchange stream to a peer
// (docs/decisions/0062-replica-exchange-stream.md). A unary gRPC call costs grpc-js an
// HTTP/2 stream, headers and trailers, metadata, a deadline timer and a chain of
// interceptor objects on both ends; a message on a stream that is already open costs
// little more than its protobuf encoding. So each coalesced batch of Apply or Read
// messages (turn-coalescer.ts) goes out as one numbered request on the stream, and the
// peer's replies, which may come in any order, are matched back by number.
//
// - The stream opens on the first request and again on the first request after it
//   ended; it carries no deadline. Each request has its own: at that moment it is
//   rejected with DEADLINE_EXCEEDED and a reply that comes later is dropped.
// - When the stream ends or fails, every request still waiting on it is rejected as the
//   failure says (usually PEER_UNREACHABLE): a request cannot be answered on another
//   stream, and applies are idempotent under last-writer-wins, so the caller decides.
// - At most `pendingMax` requests wait at once; more are refused with PEER_UNREACHABLE:
//   a peer that leaves that many batches unanswered is not answering (OVERLOADED would
//   read as the peer's own answer, and the failure detector would count it as one).
// - A request whose deadline has passed before it is sent is refused at once, unsent.
import * as grpc from '@grpc/grpc-js';
import { PeerUnreachableError, QkvError, type ErrorCode } from '../../errors/errors.js';
import { ERROR_CODE_METADATA_KEY, errorOfServiceError, isErrorCode } from '../../protocol/error-status.js';
import type { ExchangeRequest } from '../../protocol/generated/quorumkv/v1/ExchangeRequest.js';
import type { ExchangeReply__Output } from '../../protocol/generated/quorumkv/v1/ExchangeReply.js';

/** The body of one request: an Apply or a Read, as in the unary calls. */
export type ExchangeBody = Pick<ExchangeRequest, 'apply'> | Pick<ExchangeRequest, 'read'>;

export type ExchangeCall = grpc.ClientDuplexStream<ExchangeRequest, ExchangeReply__Output>;

export interface ExchangeStreamOptions {
  readonly peer: string;
  /** Starts the bidirectional call (the generated client's `Exchange`). */
  readonly open: () => ExchangeCall;
  /** Requests that may wait for a reply at once. */
  readonly pendingMax: number;
}

interface PendingRequest {
  readonly resolve: (reply: ExchangeReply__Output) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Ids are uint32 on the wire. */
const ID_LIMIT = 2 ** 32;

export class ExchangeStream {
  private call: ExchangeCall | undefined;
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private closedError: Error | undefined;

  constructor(private readonly options: ExchangeStreamOptions) {}

  /** Requests waiting for their reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Sends one request; resolves with its reply (an `apply` or `read` body). */
  request(body: ExchangeBody, deadlineMs: number): Promise<ExchangeReply__Output> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    if (this.pending.size >= this.options.pendingMax) {
      const waiting = new Error(`${this.pending.size} requests already wait for its replies on one stream (the limit is ${this.options.pendingMax})`);
      return Promise.reject(new PeerUnreachableError(this.options.peer, { cause: waiting }));
    }
    if (deadlineMs <= Date.now()) return Promise.reject(new QkvError('DEADLINE_EXCEEDED', `the deadline for peer ${this.options.peer} passed before the request was sent`));
    const call = this.call ?? this.openCall();
    const id = this.takeId();
    return new Promise<ExchangeReply__Output>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(new QkvError('DEADLINE_EXCEEDED', `peer ${this.options.peer} did not answer before the deadline`));
      }, Math.max(0, deadlineMs - Date.now()));
      this.pending.set(id, { resolve, reject, timer });
      call.write({ id, ...body });
    });
  }

  /**
   * Rejects every waiting request and every later one with `error`, and half-closes the
   * stream so the peer can finish and end it.
   */
  close(error: Error): void {
    this.closedError = error;
    const call = this.call;
    this.call = undefined;
    this.failAll(error);
    call?.end();
  }

  private openCall(): ExchangeCall {
    const call = this.options.open();
    this.call = call;
    call.on('data', (reply: ExchangeReply__Output) => this.onReply(reply));
    // The status event reports every ending; an 'error' listener must still exist, or
    // the stream's error event would be thrown.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      // A stream that close() let go had its requests failed already.
      if (this.call !== call) return;
      this.call = undefined;
      this.failAll(this.endingError(status));
    });
    return call;
  }

  private onReply(reply: ExchangeReply__Output): void {
    const request = this.pending.get(reply.id);
    // A reply after its request's deadline finds nobody waiting; it is dropped.
    if (request === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(request.timer);
    if (reply.body === 'error') {
      const code: ErrorCode = reply.error !== null && reply.error !== undefined && isErrorCode(reply.error.code) ? reply.error.code : 'INTERNAL';
      request.reject(new QkvError(code, reply.error?.message ?? `peer ${this.options.peer} sent an error without a message`));
    } else if (reply.body === 'apply' || reply.body === 'read') {
      request.resolve(reply);
    } else {
      request.reject(new QkvError('INTERNAL', `peer ${this.options.peer} sent a reply without a body`));
    }
  }

  /** What a request still waiting when the stream ended with `status` failed with. */
  private endingError(status: grpc.StatusObject): Error {
    if (status.code === grpc.status.OK) return new PeerUnreachableError(this.options.peer, { cause: new Error('the peer ended the stream') });
    const failure = Object.assign(new Error(status.details), status) as grpc.ServiceError;
    if (status.metadata?.get(ERROR_CODE_METADATA_KEY).length) return errorOfServiceError(failure);
    return new PeerUnreachableError(this.options.peer, { cause: failure });
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
