// The sending side of one long-lived Replica.Exchange stream to a peer
// (docs/decisions/0062-replica-exchange-stream.md): each coalesced batch of Apply or Read
// messages (turn-coalescer.ts) goes out as one numbered request on the stream, and the
// peer's replies, which may come in any order, are matched back by number. The stream
// mechanics (ids, per-request deadlines, failing what waits when the stream ends) are
// the shared ones of src/protocol/multiplexed-stream-client.ts; what is Exchange's own:
//
// - When the stream ends or fails, every request still waiting on it is rejected as the
//   failure says (usually PEER_UNREACHABLE): applies are idempotent under
//   last-writer-wins, so the caller decides whether to send again.
// - At most `pendingMax` requests wait at once; more are refused with PEER_UNREACHABLE:
//   a peer that leaves that many batches unanswered is not answering (OVERLOADED would
//   read as the peer's own answer, and the failure detector would count it as one).
import * as grpc from '@grpc/grpc-js';
import { PeerUnreachableError, QkvError, type ErrorCode } from '../../errors/errors.js';
import { ERROR_CODE_METADATA_KEY, errorOfServiceError, isErrorCode } from '../../protocol/error-status.js';
import { MultiplexedStreamClient } from '../../protocol/multiplexed-stream-client.js';
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

export class ExchangeStream {
  private readonly stream: MultiplexedStreamClient<ExchangeRequest & { id: number }, ExchangeReply__Output>;

  constructor(options: ExchangeStreamOptions) {
    const { peer, pendingMax } = options;
    this.stream = new MultiplexedStreamClient({
      target: `peer ${peer}`,
      open: options.open as () => grpc.ClientDuplexStream<ExchangeRequest & { id: number }, ExchangeReply__Output>,
      pendingMax,
      tooManyWaiting: (waiting) =>
        new PeerUnreachableError(peer, { cause: new Error(`${waiting} requests already wait for its replies on one stream (the limit is ${pendingMax})`) }),
      settle: (reply) => {
        if (reply.body === 'apply' || reply.body === 'read') return reply;
        if (reply.body === 'error') {
          const code: ErrorCode = reply.error !== null && reply.error !== undefined && isErrorCode(reply.error.code) ? reply.error.code : 'INTERNAL';
          throw new QkvError(code, reply.error?.message ?? `peer ${peer} sent an error without a message`);
        }
        throw new QkvError('INTERNAL', `peer ${peer} sent a reply without a body`);
      },
      endingError: (status) => {
        if (status.code === grpc.status.OK) return new PeerUnreachableError(peer, { cause: new Error('the peer ended the stream') });
        const failure = Object.assign(new Error(status.details), status) as grpc.ServiceError;
        if (status.metadata?.get(ERROR_CODE_METADATA_KEY).length) return errorOfServiceError(failure);
        return new PeerUnreachableError(peer, { cause: failure });
      },
    });
  }

  /** Requests waiting for their reply. */
  get waiting(): number {
    return this.stream.waiting;
  }

  /** Sends one request; resolves with its reply (an `apply` or `read` body). */
  request(body: ExchangeBody, deadlineMs: number): Promise<ExchangeReply__Output> {
    return this.stream.request((id) => ({ id, ...body }), deadlineMs);
  }

  /**
   * Rejects every waiting request and every later one with `error`, and half-closes the
   * stream so the peer can finish and end it.
   */
  close(error: Error): void {
    this.stream.close(error);
  }
}
