// The public KV service: decodes a request, hands it to the Coordinator and encodes
// its answer. The coordinator checks keys, values, quorums and batch sizes and owns
// the in-flight bound; this layer checks only what exists on the wire alone (a uint64
// TTL that does not fit a safe integer) and passes the client's gRPC deadline through,
// so a client that waits 300 ms gets its answer or DEADLINE_EXCEEDED within 300 ms.
// The same work serves each request on a Multiplex stream (kv-stream.ts), with the
// deadline the request carries.
import * as grpc from '@grpc/grpc-js';
import type { Coordinator, GetResult, ReplicaReport } from '../coordinator/coordinator.js';
import type { Placement } from '../coordinator/coordinator-config.js';
import type { KvRecord } from '../storage/record.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import { addCheckedService } from '../protocol/checked-service.js';
import { kvServiceWithFastCodecs } from '../protocol/message-codecs.js';
import { decodeMilliseconds, encodeVersion } from '../protocol/wire-codec.js';
import { deadlineMsOf, unary, type ApiContext } from './unary-handler.js';
import type { KVHandlers } from '../protocol/generated/quorumkv/v1/KV.js';
import type { GetResponse } from '../protocol/generated/quorumkv/v1/GetResponse.js';
import type { PutRequest__Output } from '../protocol/generated/quorumkv/v1/PutRequest.js';
import type { PutResponse } from '../protocol/generated/quorumkv/v1/PutResponse.js';
import type { GetRequest__Output } from '../protocol/generated/quorumkv/v1/GetRequest.js';
import type { DeleteRequest__Output } from '../protocol/generated/quorumkv/v1/DeleteRequest.js';
import type { DeleteResponse } from '../protocol/generated/quorumkv/v1/DeleteResponse.js';
import type { BatchPutRequest__Output } from '../protocol/generated/quorumkv/v1/BatchPutRequest.js';
import type { BatchPutResponse } from '../protocol/generated/quorumkv/v1/BatchPutResponse.js';
import type { BatchGetRequest__Output } from '../protocol/generated/quorumkv/v1/BatchGetRequest.js';
import type { BatchGetResponse } from '../protocol/generated/quorumkv/v1/BatchGetResponse.js';
import { ServedStreams } from '../protocol/multiplexed-stream-server.js';
import type { KvStreamEnvelope } from '../protocol/kv-stream-envelope.js';
import type { KvStreamReply } from '../protocol/generated/quorumkv/v1/KvStreamReply.js';
import { kvStreamBodyDecoders, serveKvStream, type RequestAuthorizerFactory } from './kv-stream.js';
import type { ReplicaAnswer } from '../protocol/generated/quorumkv/v1/ReplicaAnswer.js';
import type { ItemError } from '../protocol/generated/quorumkv/v1/ItemError.js';
import type { QkvError } from '../errors/errors.js';
import { BATCH_GET_RESPONSE_BYTES_MAX, KV_STREAM_REQUESTS_MAX } from '../limits.js';

export type KvCoordinator = Pick<Coordinator, 'put' | 'get' | 'delete' | 'batchPut' | 'batchGet'>;

export interface KvServiceOptions {
  readonly coordinator: KvCoordinator;
  /** The key's placement, to report natural replicas that had not answered yet. */
  readonly placement: Placement;
  readonly context: ApiContext;
  /** Throws NOT_READY or SHUTTING_DOWN when the node must not take new requests. */
  readonly admit: () => void;
  /**
   * On a secure port: given a Multiplex stream, the check of each request inside it
   * against the caller's roles (src/security/call-guards.ts clientRequestAuthorizer);
   * the guard let the stream open, but a Put on it needs `write` all the same.
   */
  readonly authorizer?: RequestAuthorizerFactory;
  /** Where the service registers its open Multiplex streams; a node drains them on shutdown. */
  readonly streams?: ServedStreams;
  /** Requests one Multiplex stream may have running at once; more are answered OVERLOADED. */
  readonly streamRequestsMax?: number;
}

const EMPTY = Buffer.alloc(0);

/** One KV call's work, shared by its unary method and by the Multiplex stream. */
type KvWork<Request, Response> = (request: Request, deadlineMs: number | undefined) => Promise<Response>;

export function kvServiceHandlers(options: KvServiceOptions): KVHandlers {
  const { coordinator, context, admit } = options;
  const streamDecoders = kvStreamBodyDecoders(kvServiceDefinition());
  const put: KvWork<PutRequest__Output, PutResponse> = async (request, deadlineMs) => {
    admit();
    const result = await coordinator.put(request.key, request.value, {
      w: request.w,
      ttlMs: decodeMilliseconds(request.ttlMs, 'ttl_ms'),
      deadlineMs,
    });
    return { version: encodeVersion(result.version), acks: result.acks };
  };
  const get: KvWork<GetRequest__Output, GetResponse> = async (request, deadlineMs) => {
    admit();
    const result = await coordinator.get(request.key, { r: request.r, includeReplicas: request.includeReplicas, deadlineMs });
    // Built field by field rather than spread from recordFields(): this runs for every Get.
    const record = result.record;
    const response: GetResponse =
      record === undefined || record.value === null
        ? { found: false, value: EMPTY, acks: result.acks }
        : { found: true, value: record.value, version: encodeVersion(record.version), acks: result.acks };
    if (request.includeReplicas) response.replicas = replicaAnswers(options.placement(request.key).natural, result);
    return response;
  };
  const remove: KvWork<DeleteRequest__Output, DeleteResponse> = async (request, deadlineMs) => {
    admit();
    const result = await coordinator.delete(request.key, { w: request.w, deadlineMs });
    return { version: encodeVersion(result.version), acks: result.acks };
  };
  const batchPut: KvWork<BatchPutRequest__Output, BatchPutResponse> = async (request, deadlineMs) => {
    admit();
    const items = request.items.map((item, index) => ({
      key: item.key,
      value: item.value,
      // The field name is only built for a TTL that needs checking (nearly all are 0).
      ttlMs: item.ttlMs === '0' ? 0 : decodeMilliseconds(item.ttlMs, `items[${index}].ttl_ms`),
    }));
    const results = await coordinator.batchPut(items, { w: request.w, deadlineMs });
    return {
      results: results.map((result) =>
        result.ok
          ? { ok: true, version: encodeVersion(result.version), acks: result.acks }
          : { ok: false, acks: result.acks, error: itemError(result.error) },
      ),
    };
  };
  const batchGet: KvWork<BatchGetRequest__Output, BatchGetResponse> = async (request, deadlineMs) => {
    admit();
    // The answer's byte bound is this service's: the coordinator reads the keys in
    // chunks up to it and returns the rest as RESPONSE_TOO_LARGE without reading them,
    // so one BatchGet holds about this much per replica, not every value it names
    // (docs/decisions/0040-bounded-batch-get-memory.md).
    const results = await coordinator.batchGet(request.keys, { r: request.r, deadlineMs, answerBytesMax: BATCH_GET_RESPONSE_BYTES_MAX });
    return {
      results: results.map((result, index) => {
        const key = request.keys[index]!;
        if (!result.ok) return { ok: false, key, acks: result.acks, error: itemError(result.error) };
        return { ok: true, key, ...recordFields(result.record), acks: result.acks };
      }),
    };
  };
  return {
    Put: unary(context, 'Put', (request, call) => put(request, deadlineMsOf(call))),
    Get: unary(context, 'Get', (request, call) => get(request, deadlineMsOf(call))),
    Delete: unary(context, 'Delete', (request, call) => remove(request, deadlineMsOf(call))),
    BatchPut: unary(context, 'BatchPut', (request, call) => batchPut(request, deadlineMsOf(call))),
    BatchGet: unary(context, 'BatchGet', (request, call) => batchGet(request, deadlineMsOf(call))),
    // The generated type says KvStreamRequest; the node's Multiplex deserializer hands
    // out envelopes with the body undecoded (kvServiceWithFastCodecs).
    Multiplex: (call) =>
      serveKvStream(call as unknown as grpc.ServerDuplexStream<KvStreamEnvelope, KvStreamReply>, {
        decoders: streamDecoders,
        context,
        requestsMax: options.streamRequestsMax ?? KV_STREAM_REQUESTS_MAX,
        streams: options.streams,
        authorize: options.authorizer?.(call),
        work: { put, get, delete: remove, batchPut, batchGet },
      }),
  };
}

/** The KV service as the node serves it: the hand-written codecs on the request path. */
function kvServiceDefinition(): grpc.ServiceDefinition {
  return kvServiceWithFastCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service);
}

/** Adds the KV service; returns its open Multiplex streams, for the node to drain. */
export function addKvService(server: grpc.Server, options: KvServiceOptions): ServedStreams {
  const streams = options.streams ?? new ServedStreams();
  // Put, Get and BatchPut are decoded and encoded by hand-written codecs (message-codecs.ts);
  // a request neither they nor proto-loader can parse is INVALID_ARGUMENT (checked-service.ts).
  addCheckedService(server, kvServiceDefinition(), kvServiceHandlers({ ...options, streams }));
  return streams;
}

function recordFields(record: KvRecord | undefined): Pick<GetResponse, 'found' | 'version'> & { value: Buffer } {
  if (record === undefined || record.value === null) return { found: false, value: EMPTY };
  return { found: true, value: record.value, version: encodeVersion(record.version) };
}

function itemError(error: QkvError): ItemError {
  return { code: error.code, message: error.message };
}

/** One answer per replica in preference-list order; replicas still pending say so. */
function replicaAnswers(preferenceList: readonly string[], result: GetResult): ReplicaAnswer[] {
  const reports = new Map<string, ReplicaReport>(result.replicas.map((report) => [report.nodeId, report]));
  const answers: ReplicaAnswer[] = preferenceList.map((nodeId) => {
    const report = reports.get(nodeId);
    reports.delete(nodeId);
    return answerOf(nodeId, report);
  });
  // A report from a node outside today's list (the ring moved during the call) is
  // still shown rather than dropped.
  for (const [nodeId, report] of reports) answers.push(answerOf(nodeId, report));
  return answers;
}

function answerOf(nodeId: string, report: ReplicaReport | undefined): ReplicaAnswer {
  if (report === undefined) return { nodeId, answered: false, found: false, error: '' };
  if (report.error !== undefined) return { nodeId, answered: false, found: false, error: `${report.error.code}: ${report.error.message}` };
  return {
    nodeId,
    answered: true,
    found: report.found,
    ...(report.version === undefined ? {} : { version: encodeVersion(report.version) }),
    error: '',
  };
}
