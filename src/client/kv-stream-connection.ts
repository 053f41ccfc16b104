// One client's KV.Multiplex streams to one node (docs/decisions/0170-multiplexed-kv-stream.md):
// every KV call of QuorumKvClient to that node goes out as a numbered request on one of
// them, with the milliseconds left until the call's deadline, and its reply is matched
// back by id (src/protocol/multiplexed-stream-client.ts).
//
// There are KV_CLIENT_STREAMS_PER_NODE streams, taken in turn, on the one connection
// (docs/decisions/0230-client-requests-spread-over-streams.md): grpc-js writes a stream's
// messages one socket write (and, with TLS, one TLS record) each, the next only after the
// last one's write has finished, while messages of different streams made in the same
// turn leave together in one write. A stream that has KV_STREAM_REQUESTS_MAX requests
// waiting is passed over; only when all are full is a request refused.
//
// What a failure means for the caller, which decides whether to try another node:
// - `NeverSentError`: the node could not be reached before the request went out (its
//   channel fell into TRANSIENT_FAILURE while connecting). Nothing was sent, so any
//   request may go to the next node, as a unary call's connection failure does.
// - PEER_UNREACHABLE: the stream broke while the request waited. The node may have done
//   the work: a read may be asked again elsewhere, a write may not (a Put sent twice
//   gets two versions; the caller sees PEER_UNREACHABLE and decides).
// - Any other code: the node's answer for this request, final.
// The next request after a broken stream opens a new one.
import * as grpc from '@grpc/grpc-js';
import { OverloadedError, QkvError } from '../errors/errors.js';
import { ERROR_CODE_METADATA_KEY, errorOfServiceError, isErrorCode } from '../protocol/error-status.js';
import { MultiplexedStreamClient } from '../protocol/multiplexed-stream-client.js';
import { kvStreamClientCodecs } from '../protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import { KV_CLIENT_STREAMS_PER_NODE, KV_STREAM_REQUESTS_MAX } from '../limits.js';
import type { KVClient } from '../protocol/generated/quorumkv/v1/KV.js';
import type { KvStreamRequest } from '../protocol/generated/quorumkv/v1/KvStreamRequest.js';
import type { KvStreamReply__Output } from '../protocol/generated/quorumkv/v1/KvStreamReply.js';

let codecsOfTheProcess: ReturnType<typeof kvStreamClientCodecs> | undefined;

/** The KV.Multiplex codecs, made once per process. */
function streamCodecs(): ReturnType<typeof kvStreamClientCodecs> {
  codecsOfTheProcess ??= kvStreamClientCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service);
  return codecsOfTheProcess;
}

/** The body of one request: one of the unary calls' requests. */
export type KvStreamBody = Omit<KvStreamRequest, 'id' | 'timeoutMs'>;

/** The node was not reached; the request was never sent (PEER_UNREACHABLE, as a unary call's connection failure). */
export class NeverSentError extends QkvError {
  constructor(address: string) {
    super('PEER_UNREACHABLE', `cannot reach ${address}: no connection could be established`);
  }
}

export class KvStreamConnection {
  private readonly streams: MultiplexedStreamClient<KvStreamRequest & { id: number }, KvStreamReply__Output>[];
  /** The stream the next request tries first. */
  private nextStream = 0;

  constructor(
    private readonly address: string,
    private readonly kv: KVClient,
  ) {
    this.streams = Array.from({ length: KV_CLIENT_STREAMS_PER_NODE }, () => this.streamClient());
  }

  private streamClient(): MultiplexedStreamClient<KvStreamRequest & { id: number }, KvStreamReply__Output> {
    const { address, kv } = this;
    const codecs = streamCodecs();
    return new MultiplexedStreamClient({
      target: `node ${address}`,
      // Put and BatchPut travel through hand-written codecs (src/protocol/message-codecs.ts),
      // as on the node's end: proto-loader's cost a BatchPut of 100 items most of the
      // client's CPU (Long arithmetic and objects per item), on the cores the nodes share.
      open: () => kv.makeBidiStreamRequest(codecs.path, codecs.serialize, codecs.deserialize) as grpc.ClientDuplexStream<KvStreamRequest & { id: number }, KvStreamReply__Output>,
      pendingMax: KV_STREAM_REQUESTS_MAX,
      // The node would answer the extra ones OVERLOADED; this client says so without sending them.
      tooManyWaiting: () => new OverloadedError('requests waiting on one Multiplex stream', KV_STREAM_REQUESTS_MAX),
      settle: (reply) => {
        if (reply.body !== 'error') return reply;
        const code = reply.error !== null && reply.error !== undefined && isErrorCode(reply.error.code) ? reply.error.code : 'INTERNAL';
        throw new QkvError(code, reply.error?.message ?? `node ${address} sent an error without a message`);
      },
      endingError: (status) => {
        const failure = Object.assign(new Error(status.details), status) as grpc.ServiceError;
        // A status with our code is the node's (an undecodable message, an unknown user).
        if (status.code !== grpc.status.OK && status.metadata?.get(ERROR_CODE_METADATA_KEY).length) return errorOfServiceError(failure);
        const why = status.code === grpc.status.OK ? 'the node ended the stream' : status.details;
        return new QkvError('PEER_UNREACHABLE', `the stream to ${address} broke while the request waited (${why})`, { cause: failure });
      },
    });
  }

  /** Sends `body`; resolves with the reply (its body is the same kind as the request's). */
  async request(body: KvStreamBody, deadlineMs: number): Promise<KvStreamReply__Output> {
    await this.connected(deadlineMs);
    return this.takeStream().request((id, timeLeftMs) => ({ id, timeoutMs: timeLeftMs, ...body }), deadlineMs);
  }

  close(): void {
    for (const stream of this.streams) stream.close(new QkvError('INTERNAL', 'the client was closed'));
  }

  /**
   * The next stream in turn that has room; when none has, the one in turn, which refuses
   * the request OVERLOADED without sending it.
   */
  private takeStream(): MultiplexedStreamClient<KvStreamRequest & { id: number }, KvStreamReply__Output> {
    const first = this.nextStream;
    this.nextStream = (first + 1) % this.streams.length;
    for (let step = 0; step < this.streams.length; step++) {
      const stream = this.streams[(first + step) % this.streams.length]!;
      if (stream.waiting < KV_STREAM_REQUESTS_MAX) return stream;
    }
    return this.streams[first]!;
  }

  /**
   * Resolves once the channel is READY (at once, nearly always); rejects with
   * NeverSentError when connecting fails, so a caller may safely try the next node.
   */
  private connected(deadlineMs: number): Promise<void> {
    const channel = this.kv.getChannel();
    if (channel.getConnectivityState(false) === grpc.connectivityState.READY) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve();
        if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
          return reject(new NeverSentError(this.address));
        }
        channel.watchConnectivityState(state, deadlineMs, (error) => {
          if (error === undefined) return check();
          reject(new QkvError('DEADLINE_EXCEEDED', `could not connect to ${this.address} before the deadline`));
        });
      };
      check();
    });
  }
}
