// KV.Multiplex: many KV requests on one bidirectional stream, each with an id, answered
// in the order they finish (docs/decisions/0170-multiplexed-kv-stream.md). The stream
// mechanics (running bound, OVERLOADED, draining, refused messages) are the shared ones of
// src/protocol/multiplexed-stream-server.ts; this file says what one request is: the
// same work as its unary call (kv-service.ts), behind the same role as that call
// (src/security/method-roles.ts) and with the deadline the request carries. Every
// outcome is counted in `qkv_api_requests_total` under the unary method's name, with
// the gRPC status name the unary call would have ended with.
import type * as grpc from '@grpc/grpc-js';
import type { QkvError } from '../errors/errors.js';
import { InvalidArgumentError, isQkvError } from '../errors/errors.js';
import { serviceErrorOf, statusName } from '../protocol/error-status.js';
import { serveMultiplexedStream, type ServedStreams } from '../protocol/multiplexed-stream-server.js';
import type { ApiContext } from './unary-handler.js';
import type { KvStreamRequest__Output } from '../protocol/generated/quorumkv/v1/KvStreamRequest.js';
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

export interface KvStreamOptions {
  readonly context: ApiContext;
  readonly requestsMax: number;
  readonly streams?: ServedStreams | undefined;
  /** Absent on an --insecure port, which has no identities. */
  readonly authorize?: RequestAuthorizer | undefined;
  readonly work: KvStreamWork;
}

const METHOD_NAMES = { put: 'Put', get: 'Get', delete: 'Delete', batchPut: 'BatchPut', batchGet: 'BatchGet' } as const;

export function serveKvStream(call: grpc.ServerDuplexStream<KvStreamRequest__Output, KvStreamReply>, options: KvStreamOptions): void {
  const { context, work, authorize } = options;
  const counted = new WeakSet<QkvError>();
  const count = (method: string, error: QkvError | undefined): void => {
    context.requests.inc({ method, code: error === undefined ? 'OK' : statusName(serviceErrorOf(error).code) });
  };
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
    serve: async (request) => {
      const body = request.body;
      if (body === undefined) throw new InvalidArgumentError('a Multiplex request needs a put, get, delete, batch_put or batch_get body');
      const method = METHOD_NAMES[body];
      const refusal = authorize?.(`/quorumkv.v1.KV/${method}`);
      if (refusal !== undefined) throw refusal;
      // As a unary call's grpc-timeout, the time is counted from the request's arrival.
      const deadlineMs = request.timeoutMs === 0 ? undefined : Date.now() + request.timeoutMs;
      try {
        const reply = await answer(request, deadlineMs, work);
        count(method, undefined);
        return reply;
      } catch (error) {
        if (isQkvError(error)) {
          count(method, error);
          counted.add(error);
        }
        throw error;
      }
    },
  });
}

function answer(request: KvStreamRequest__Output, deadlineMs: number | undefined, work: KvStreamWork): Promise<KvStreamReply> {
  const { id } = request;
  switch (request.body) {
    case 'put':
      return work.put(request.put!, deadlineMs).then((put) => ({ id, put }));
    case 'get':
      return work.get(request.get!, deadlineMs).then((get) => ({ id, get }));
    case 'delete':
      return work.delete(request.delete!, deadlineMs).then((reply) => ({ id, delete: reply }));
    case 'batchPut':
      return work.batchPut(request.batchPut!, deadlineMs).then((batchPut) => ({ id, batchPut }));
    case 'batchGet':
      return work.batchGet(request.batchGet!, deadlineMs).then((batchGet) => ({ id, batchGet }));
    default:
      return Promise.reject(new InvalidArgumentError('a Multiplex request needs a body'));
  }
}
