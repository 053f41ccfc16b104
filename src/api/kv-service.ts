// The public KV service: decodes a request, hands it to the Coordinator and encodes
// its answer. The coordinator checks keys, values, quorums and batch sizes and owns
// the in-flight bound; this layer checks only what exists on the wire alone (a uint64
// TTL that does not fit a safe integer) and passes the client's gRPC deadline through,
// so a client that waits 300 ms gets its answer or DEADLINE_EXCEEDED within 300 ms.
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
import type { ReplicaAnswer } from '../protocol/generated/quorumkv/v1/ReplicaAnswer.js';
import type { ItemError } from '../protocol/generated/quorumkv/v1/ItemError.js';
import type { QkvError } from '../errors/errors.js';
import { BATCH_GET_RESPONSE_BYTES_MAX } from '../limits.js';

export type KvCoordinator = Pick<Coordinator, 'put' | 'get' | 'delete' | 'batchPut' | 'batchGet'>;

export interface KvServiceOptions {
  readonly coordinator: KvCoordinator;
  /** The key's placement, to report natural replicas that had not answered yet. */
  readonly placement: Placement;
  readonly context: ApiContext;
  /** Throws NOT_READY or SHUTTING_DOWN when the node must not take new requests. */
  readonly admit: () => void;
}

const EMPTY = Buffer.alloc(0);

export function kvServiceHandlers(options: KvServiceOptions): KVHandlers {
  const { coordinator, context, admit } = options;
  return {
    Put: unary(context, 'Put', async (request, call) => {
      admit();
      const result = await coordinator.put(request.key, request.value, {
        w: request.w,
        ttlMs: decodeMilliseconds(request.ttlMs, 'ttl_ms'),
        deadlineMs: deadlineMsOf(call),
      });
      return { version: encodeVersion(result.version), acks: result.acks };
    }),

    Get: unary(context, 'Get', async (request, call) => {
      admit();
      const result = await coordinator.get(request.key, {
        r: request.r,
        includeReplicas: request.includeReplicas,
        deadlineMs: deadlineMsOf(call),
      });
      const response: GetResponse = { ...recordFields(result.record), acks: result.acks };
      if (request.includeReplicas) response.replicas = replicaAnswers(options.placement(request.key).natural, result);
      return response;
    }),

    Delete: unary(context, 'Delete', async (request, call) => {
      admit();
      const result = await coordinator.delete(request.key, { w: request.w, deadlineMs: deadlineMsOf(call) });
      return { version: encodeVersion(result.version), acks: result.acks };
    }),

    BatchPut: unary(context, 'BatchPut', async (request, call) => {
      admit();
      const items = request.items.map((item, index) => ({
        key: item.key,
        value: item.value,
        // The field name is only built for a TTL that needs checking (nearly all are 0).
        ttlMs: item.ttlMs === '0' ? 0 : decodeMilliseconds(item.ttlMs, `items[${index}].ttl_ms`),
      }));
      const results = await coordinator.batchPut(items, { w: request.w, deadlineMs: deadlineMsOf(call) });
      return {
        results: results.map((result) =>
          result.ok
            ? { ok: true, version: encodeVersion(result.version), acks: result.acks }
            : { ok: false, acks: result.acks, error: itemError(result.error) },
        ),
      };
    }),

    BatchGet: unary(context, 'BatchGet', async (request, call) => {
      admit();
      // The answer's byte bound is this service's: the coordinator reads the keys in
      // chunks up to it and returns the rest as RESPONSE_TOO_LARGE without reading them,
      // so one BatchGet holds about this much per replica, not every value it names
      // (docs/decisions/0040-bounded-batch-get-memory.md).
      const results = await coordinator.batchGet(request.keys, { r: request.r, deadlineMs: deadlineMsOf(call), answerBytesMax: BATCH_GET_RESPONSE_BYTES_MAX });
      return {
        results: results.map((result, index) => {
          const key = request.keys[index]!;
          if (!result.ok) return { ok: false, key, acks: result.acks, error: itemError(result.error) };
          return { ok: true, key, ...recordFields(result.record), acks: result.acks };
        }),
      };
    }),
  };
}

export function addKvService(server: grpc.Server, options: KvServiceOptions): void {
  // Put, Get and BatchPut are decoded and encoded by hand-written codecs (message-codecs.ts);
  // a request neither they nor proto-loader can parse is INVALID_ARGUMENT (checked-service.ts).
  addCheckedService(server, kvServiceWithFastCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service), kvServiceHandlers(options));
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
