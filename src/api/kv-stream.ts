// KV.Multiplex: many KV requests on one bidirectional stream, each with an id, answered
// in the order they finish (docs/decisions/0170-multiplexed-kv-stream.md). The stream
// mechanics (running bound, OVERLOADED, draining, refused messages) are the shared ones of
// src/protocol/multiplexed-stream-server.ts; this file says what one request is: the
// same work as its unary call (kv-service.ts), behind the same role as that call
// (src/security/method-roles.ts) and with the deadline the request carries. Every
// outcome is counted in `qkv_api_requests_total` under the unary method's name, with
// the gRPC status name the unary call would have ended with.
//
// A request arrives as an envelope with its body undecoded (kv-stream-envelope.ts): the
// caller's role for the request's method is checked first, and only then is the body
// held to that unary method's byte and item limits and decoded, by the very deserializer
// the unary call uses (docs/decisions/0190-multiplex-bodies-decoded-after-the-role-check.md).
// A reader's 16 MiB BatchPut on the stream thus costs what it costs as a unary call:
// receiving it, and no decoding.
import type * as grpc from '@grpc/grpc-js';
import type { QkvError } from '../errors/errors.js';
import { InvalidArgumentError, isQkvError } from '../errors/errors.js';
import { serviceErrorOf, statusName } from '../protocol/error-status.js';
import { serveMultiplexedStream, type ServedStreams } from '../protocol/multiplexed-stream-server.js';
import { MalformedMessage, checkedDeserializer } from '../protocol/checked-service.js';
import { KV_STREAM_BODY_METHODS, type KvStreamBodyKind, type KvStreamEnvelope } from '../protocol/kv-stream-envelope.js';
import type { ApiContext } from './unary-handler.js';
import type { KvStreamReply } from '../protocol/generated/quorumkv/v1/KvStreamReply.js';
import type { PutRequest__Output } from '../protocol/generated/quorumkv/v1/PutRequest.js';
import type { PutResponse } from '../protocol/generated/quorumkv/v1/PutResponse.js';
import type { GetRequest__Output } from '../protocol/generated/quorumkv/v1/GetRequest.js';
import type { GetResponse } from '../protocol/generated/quorumkv/v1/GetResponse.js';
import type { DeleteRequest__Output } from '../protocol/generated/quorumkv/v1/DeleteRequest.js';
import type { DeleteResponse } from '../protocol/generated/quorumkv/v1/DeleteResponse.js';
import type { BatchPutRequest__Output } from '../protocol/generated/quorumkv/v1/BatchPutRequest.js';
import type { BatchPutResponse } from '../protocol/generated/quorumkv/v1/BatchPutResponse.js';
import type { BatchGetRequest__Output } from '../protocol/generated/quorumkv/v1/BatchGetRequest.js';
import type { BatchGetResponse } from '../protocol/generated/quorumkv/v1/BatchGetResponse.js';

/** Checks one request against the caller's roles: the refusal, or undefined when allowed. */
export type RequestAuthorizer = (methodPath: string) => QkvError | undefined;
/** Makes the authorizer of one stream (the caller's identity is read once, at its start). */
export type RequestAuthorizerFactory = (call: Pick<grpc.ServerDuplexStream<unknown, unknown>, 'getAuthContext'>) => RequestAuthorizer;

type Work<Request, Response> = (request: Request, deadlineMs: number | undefined) => Promise<Response>;

export interface KvStreamWork {
  readonly put: Work<PutRequest__Output, PutResponse>;
  readonly get: Work<GetRequest__Output, GetResponse>;
  readonly delete: Work<DeleteRequest__Output, DeleteResponse>;
  readonly batchPut: Work<BatchPutRequest__Output, BatchPutResponse>;
  readonly batchGet: Work<BatchGetRequest__Output, BatchGetResponse>;
}

/**
 * Each body kind's decoder: its unary method's checked deserializer (byte limit, bounds
 * scan, decoding), returning the request or the MalformedMessage that refuses it.
 */
export type KvStreamBodyDecoders = Readonly<Record<KvStreamBodyKind, (bytes: Buffer) => unknown>>;

/** The body decoders of the KV service `definition` (the one its unary calls are served with). */
export function kvStreamBodyDecoders(definition: grpc.ServiceDefinition): KvStreamBodyDecoders {
  const decoderOf = (kind: KvStreamBodyKind): ((bytes: Buffer) => unknown) => {
    const method = definition[KV_STREAM_BODY_METHODS[kind]];
    if (method === undefined) throw new Error(`the KV service has no ${KV_STREAM_BODY_METHODS[kind]} method`);
    return checkedDeserializer(method as grpc.MethodDefinition<unknown, unknown>);
  };
  return { put: decoderOf('put'), get: decoderOf('get'), delete: decoderOf('delete'), batchPut: decoderOf('batchPut'), batchGet: decoderOf('batchGet') };
}

export interface KvStreamOptions {
  readonly context: ApiContext;
  readonly requestsMax: number;
  readonly streams?: ServedStreams | undefined;
  /** Absent on an --insecure port, which has no identities. */
  readonly authorize?: RequestAuthorizer | undefined;
  /** Run only for a request whose method the caller may call. */
  readonly decoders: KvStreamBodyDecoders;
  readonly work: KvStreamWork;
}

export function serveKvStream(call: grpc.ServerDuplexStream<KvStreamEnvelope, KvStreamReply>, options: KvStreamOptions): void {
  const { context, work, authorize, decoders } = options;
  const counted = new WeakSet<QkvError>();
  const count = (method: string, error: QkvError | undefined): void => {
    context.requests.child(method, error === undefined ? 'OK' : statusName(serviceErrorOf(error).code)).inc();
  };
  // Nearly every request succeeds: each kind's OK counter child is found once per stream.
  const succeeded = okCountersOf(context);
  serveMultiplexedStream(call, {
    method: 'Multiplex',
    failureLogMessage: 'request failed with an unexpected error',
    logger: context.logger,
    requestsMax: options.requestsMax,
    streams: options.streams,
    requestsName: 'requests running on one Multiplex stream',
    // A request counted under its method already (below) is not counted again; what
    // reaches here uncounted was refused before it had one (OVERLOADED, SHUTTING_DOWN,
    // a message past its limit) and is counted under Multiplex.
    errorReply: (id, error) => {
      if (!counted.has(error)) count('Multiplex', error);
      return { id, error: { code: error.code, message: error.message } };
    },
    // Not an async function: a request that is served adds one promise here, not three
    // (a thrown refusal becomes its error reply in serveMultiplexedStream all the same).
    serve: (request) => {
      const { kind } = request;
      if (kind === undefined) throw new InvalidArgumentError('a Multiplex request needs a put, get, delete, batch_put or batch_get body');
      // The role before anything reads the body, as the unary call's guard does.
      const refusal = authorize?.(KV_STREAM_METHOD_PATHS[kind]);
      if (refusal !== undefined) throw refusal;
      const method = KV_STREAM_BODY_METHODS[kind];
      // As a unary call's grpc-timeout, the time is counted from the request's arrival.
      const deadlineMs = request.timeoutMs === 0 ? undefined : Date.now() + request.timeoutMs;
      let answered: Promise<KvStreamReply>;
      try {
        const body = decoders[kind](request.body);
        if (body instanceof MalformedMessage) throw body.error;
        answered = answer(request.id, kind, body, deadlineMs, work);
      } catch (error) {
        answered = Promise.reject(error);
      }
      return answered.then(
        (reply) => {
          succeeded[kind].inc();
          return reply;
        },
        (error: unknown) => {
          if (isQkvError(error)) {
            count(method, error);
            counted.add(error);
          }
          throw error;
        },
      );
    },
  });
}

/** The unary method path each body kind is authorized as (src/security/method-roles.ts). */
const KV_STREAM_METHOD_PATHS: Readonly<Record<KvStreamBodyKind, string>> = {
  put: `/quorumkv.v1.KV/${KV_STREAM_BODY_METHODS.put}`,
  get: `/quorumkv.v1.KV/${KV_STREAM_BODY_METHODS.get}`,
  delete: `/quorumkv.v1.KV/${KV_STREAM_BODY_METHODS.delete}`,
  batchPut: `/quorumkv.v1.KV/${KV_STREAM_BODY_METHODS.batchPut}`,
  batchGet: `/quorumkv.v1.KV/${KV_STREAM_BODY_METHODS.batchGet}`,
};

/** Each body kind's `qkv_api_requests_total{method,code="OK"}` child. */
function okCountersOf(context: ApiContext): Readonly<Record<KvStreamBodyKind, { inc(): void }>> {
  return {
    put: context.requests.child(KV_STREAM_BODY_METHODS.put, 'OK'),
    get: context.requests.child(KV_STREAM_BODY_METHODS.get, 'OK'),
    delete: context.requests.child(KV_STREAM_BODY_METHODS.delete, 'OK'),
    batchPut: context.requests.child(KV_STREAM_BODY_METHODS.batchPut, 'OK'),
    batchGet: context.requests.child(KV_STREAM_BODY_METHODS.batchGet, 'OK'),
  };
}

function answer(id: number, kind: KvStreamBodyKind, body: unknown, deadlineMs: number | undefined, work: KvStreamWork): Promise<KvStreamReply> {
  // Each decoder returns its own method's request (kvStreamBodyDecoders).
  switch (kind) {
    case 'put':
      return work.put(body as PutRequest__Output, deadlineMs).then((put) => ({ id, put }));
    case 'get':
      return work.get(body as GetRequest__Output, deadlineMs).then((get) => ({ id, get }));
    case 'delete':
      return work.delete(body as DeleteRequest__Output, deadlineMs).then((reply) => ({ id, delete: reply }));
    case 'batchPut':
      return work.batchPut(body as BatchPutRequest__Output, deadlineMs).then((batchPut) => ({ id, batchPut }));
    case 'batchGet':
      return work.batchGet(body as BatchGetRequest__Output, deadlineMs).then((batchGet) => ({ id, batchGet }));
  }
}
