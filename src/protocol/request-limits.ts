// Which limit of src/limits.ts applies to which request before it is decoded
// (docs/decisions/0102-bounded-decoding.md): the most bytes each method's request may
// hold, and the most items each repeated field may hold. checked-service.ts refuses a
// request past its method's bytes before any decoder reads it, and the bounds scan
// (wire-bounds.ts) stops at the first item past a field's limit. A method or a repeated
// field without an entry here is a programmer error, reported when the service is added
// (or, for a field, when its schema is built), so nothing new goes unbounded.
import type { ServiceDefinition } from '@grpc/proto-loader';
import {
  BATCH_GET_REQUEST_BYTES_MAX,
  BATCH_ITEMS_MAX,
  GRPC_MESSAGE_BYTES_MAX,
  PUT_REQUEST_BYTES_MAX,
  REPLICA_BATCH_ITEMS_MAX,
  REPLICA_READ_REQUEST_BYTES_MAX,
  SMALL_REQUEST_BYTES_MAX,
  FORGOTTEN_MEMBERS_MAX,
  PROBE_REQUEST_BYTES_MAX,
} from '../limits.js';
import { loadQuorumKvProtocol } from './proto-package.js';
import { WireSchemas, type MessageSchema } from './wire-schema.js';

/** Request bytes by method path. Absent: the method is not served through addCheckedService. */
const REQUEST_BYTES_MAX: Readonly<Record<string, number>> = {
  '/quorumkv.v1.KV/Put': PUT_REQUEST_BYTES_MAX,
  '/quorumkv.v1.KV/Get': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.KV/Delete': SMALL_REQUEST_BYTES_MAX,
  // Up to BATCH_ITEMS_MAX values of up to VALUE_BYTES_MAX_CEILING: the message ceiling.
  '/quorumkv.v1.KV/BatchPut': GRPC_MESSAGE_BYTES_MAX,
  '/quorumkv.v1.KV/BatchGet': BATCH_GET_REQUEST_BYTES_MAX,
  // Each message on the stream is one request of the calls above (a BatchPut at most);
  // its body is held to its unary call's own limits once the caller's role for that
  // call is checked (src/api/kv-stream.ts).
  '/quorumkv.v1.KV/Multiplex': GRPC_MESSAGE_BYTES_MAX,
  '/quorumkv.v1.Admin/Status': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Ring': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Repair': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Decommission': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Forget': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Cleanup': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Backup': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Admin/Restore': SMALL_REQUEST_BYTES_MAX,
  // A coalesced batch of records (REPLICA_BATCH_BYTES_MAX and one record more, or a hint
  // or streaming batch): the message ceiling, the record count bounded by the batch codec.
  '/quorumkv.v1.Replica/Apply': GRPC_MESSAGE_BYTES_MAX,
  '/quorumkv.v1.Replica/Read': REPLICA_READ_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Replica/MerkleTree': SMALL_REQUEST_BYTES_MAX,
  '/quorumkv.v1.Replica/Scan': SMALL_REQUEST_BYTES_MAX,
  // Ring states, and up to FORGOTTEN_MEMBERS_MAX forgotten members with their signatures.
  '/quorumkv.v1.Replica/Probe': PROBE_REQUEST_BYTES_MAX,
  // Each message on the stream is one Apply or Read request.
  '/quorumkv.v1.Replica/Exchange': GRPC_MESSAGE_BYTES_MAX,
};

/**
 * Items by repeated field, requests first. ReadResponse.found bounds what a
 * node decodes from a peer's Exchange replies (message-codecs.ts exchangeClientCodecs).
 */
const REPEATED_ITEMS_MAX: Readonly<Record<string, number>> = {
  'quorumkv.v1.BatchPutRequest.items': BATCH_ITEMS_MAX,
  'quorumkv.v1.BatchGetRequest.keys': BATCH_ITEMS_MAX,
  'quorumkv.v1.ReadRequest.keys': REPLICA_BATCH_ITEMS_MAX,
  'quorumkv.v1.ReadResponse.found': REPLICA_BATCH_ITEMS_MAX,
  'quorumkv.v1.ProbeRequest.forgotten': FORGOTTEN_MEMBERS_MAX,
  'quorumkv.v1.ProbeResponse.forgotten': FORGOTTEN_MEMBERS_MAX,
};

export interface RequestLimits {
  readonly bytesMax: number;
  readonly schema: MessageSchema;
  /**
   * For a stream whose messages each carry one request of several kinds (KV.Multiplex):
   * the deserializer reads only each message's envelope (kv-stream-envelope.ts), with no
   * bounds scan, and the handler holds each body to its own unary method's limits after
   * it has checked the caller's role for that method.
   */
  readonly envelopeOnly?: boolean;
  /**
   * For a stream whose requests carry an id in field 1: a refused message is answered
   * under that id and the stream goes on, as a refused unary call leaves the channel.
   */
  readonly refusalsById?: boolean;
}

/** The streams whose messages are envelopes around requests of the unary methods. */
const ENVELOPE_STREAMS: ReadonlySet<string> = new Set(['/quorumkv.v1.KV/Multiplex']);

let schemas: WireSchemas | undefined;

function wireSchemas(): WireSchemas {
  schemas ??= new WireSchemas(loadQuorumKvProtocol().packageDefinition, (field) => REPEATED_ITEMS_MAX[field]);
  return schemas;
}

/** The schema of a quorumkv.v1 message type, e.g. `quorumkv.v1.ExchangeReply`. */
export function messageSchema(typeName: string): MessageSchema {
  return wireSchemas().of(typeName);
}

/** The limits of the request of method `path` (e.g. `/quorumkv.v1.KV/Get`); throws for a method without them. */
export function requestLimits(path: string): RequestLimits {
  const bytesMax = REQUEST_BYTES_MAX[path];
  if (bytesMax === undefined) throw new Error(`${path} has no request byte limit (src/protocol/request-limits.ts)`);
  const [, serviceName = '', methodName = ''] = path.split('/');
  const service = loadQuorumKvProtocol().packageDefinition[serviceName] as ServiceDefinition | undefined;
  const method = service?.[methodName];
  if (method === undefined) throw new Error(`${path} is not a method of the quorumkv protocol`);
  const limits = { bytesMax, schema: wireSchemas().of(qualifiedTypeName(serviceName, method.requestType.type)) };
  return ENVELOPE_STREAMS.has(path) ? { ...limits, envelopeOnly: true, refusalsById: true } : limits;
}

/**
 * The fully qualified name of a request type. proto-loader keeps only the descriptor's
 * short name; quorumkv's request types live in their service's package (a type from
 * elsewhere would not be found, and `of` would throw at start-up).
 */
function qualifiedTypeName(serviceName: string, descriptor: object): string {
  const { name } = descriptor as { name?: unknown };
  if (typeof name !== 'string') throw new Error(`${serviceName}: a request descriptor without a name`);
  return `${serviceName.slice(0, serviceName.lastIndexOf('.'))}.${name}`;
}
