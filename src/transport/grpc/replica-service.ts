// The server side of the internal Replica service: decodes and checks what a peer
// sent, then hands it to this node's ReplicaHandler (the local storage engine). One
// Apply call carries every record a peer coalesced in one turn, and the handler
// applies them together, so one fsync covers them all. Records travel in the storage
// engine's batch encoding (`batch`, docs/decisions/0061-replica-batch-encoding.md).
// Peers send their Apply and Read requests on
// Exchange streams (docs/decisions/0062-replica-exchange-stream.md): each request is
// answered on the stream with its id, in the order the requests finish; a draining node
// answers new requests with SHUTTING_DOWN and ends each stream once its running
// requests have answered, as grpc's shutdown does for unary calls.
//
// Nothing a peer (or anything else that reaches the port) sends may crash the node or
// make it build an unbounded answer: keys and records per call are capped at
// REPLICA_BATCH_ITEMS_MAX, a Read answer at REPLICA_ANSWER_BYTES_MAX (the caller asks
// again for the rest), the requests running on one Exchange stream at
// REPLICA_STREAM_REQUESTS_MAX, and every failure becomes one status (or, on a stream,
// one error reply) with its quorumkv code.
import * as grpc from '@grpc/grpc-js';
import { BatchTooLargeError, InvalidArgumentError, PeerIdentityMismatchError, QkvError } from '../../errors/errors.js';
import {
  KEY_BYTES_MAX_CEILING,
  MERKLE_DEPTH_MAX,
  NODE_ID_BYTES_MAX,
  REPAIR_SCAN_RECORDS_MAX,
  REPLICA_ANSWER_BYTES_MAX,
  REPLICA_BATCH_ITEMS_MAX,
  REPLICA_READ_SLICE_KEYS,
  REPLICA_STREAM_REQUESTS_MAX,
  VALUE_BYTES_MAX_CEILING,
} from '../../limits.js';
import { rangeContains, type TokenRange } from '../../ring/token-range.js';
import type { ScanCursor } from '../../storage/storage-engine.js';
import type { TokenRange__Output } from '../../protocol/generated/quorumkv/v1/TokenRange.js';
import type { Logger } from '../../logging/logger.js';
import type { KvRecord } from '../../storage/record.js';
import type { ProbeHello, ReplicaHandler } from '../../replica/peer-transport.js';
import { serviceErrorOf } from '../../protocol/error-status.js';
import { senderOf } from '../../protocol/sender-metadata.js';
import { decodeAnnouncedRingState, decodeForgottenMembers, decodeRecordBatch, decodeUint64, encodeForgottenMembers, encodeRecord } from '../../protocol/wire-codec.js';
import { encodeBatch, recordBytes } from '../../storage/record-codec.js';
import { loadQuorumKvProtocol } from '../../protocol/proto-package.js';
import { addCheckedService } from '../../protocol/checked-service.js';
import { serveMultiplexedStream, ServedStreams } from '../../protocol/multiplexed-stream-server.js';
import { replicaServiceWithFastCodecs } from '../../protocol/message-codecs.js';
import type { ReplicaHandlers } from '../../protocol/generated/quorumkv/v1/Replica.js';
import type { ApplyRequest__Output } from '../../protocol/generated/quorumkv/v1/ApplyRequest.js';
import type { ApplyResponse } from '../../protocol/generated/quorumkv/v1/ApplyResponse.js';
import type { ReadRequest__Output } from '../../protocol/generated/quorumkv/v1/ReadRequest.js';
import type { ReadResponse } from '../../protocol/generated/quorumkv/v1/ReadResponse.js';
import type { ExchangeRequest__Output } from '../../protocol/generated/quorumkv/v1/ExchangeRequest.js';
import type { ExchangeReply } from '../../protocol/generated/quorumkv/v1/ExchangeReply.js';

// Peers run the same software, but a node still refuses what no correct peer sends:
// a record above the configurable ceilings cannot have passed a coordinator's checks.
const RECORD_BOUNDS = { keyBytesMax: KEY_BYTES_MAX_CEILING, valueBytesMax: VALUE_BYTES_MAX_CEILING, recordsMax: REPLICA_BATCH_ITEMS_MAX };

export interface ReplicaServiceOptions {
  readonly handler: ReplicaHandler;
  readonly logger: Logger;
  /** Told the sender's node id of every call (a sign that the sender is alive). */
  readonly onPeerSeen?: (peer: string) => void;
  /** Where the service registers its open Exchange streams; a node drains them on shutdown. */
  readonly streams?: ServedStreams;
  /** Requests one Exchange stream may have running at once; more are answered OVERLOADED. */
  readonly streamRequestsMax?: number;
}

/** The open Exchange streams of one replica service, so that a draining node can end them. */
export { ServedStreams as ExchangeStreams } from '../../protocol/multiplexed-stream-server.js';

export function replicaServiceHandlers(options: ReplicaServiceOptions): ReplicaHandlers {
  const { handler, logger } = options;
  const seen = (metadata: grpc.Metadata): void => {
    const sender = senderOf(metadata);
    if (sender !== undefined) options.onPeerSeen?.(sender);
  };
  // Every handler runs its checks, its work and the encoding of its answer inside one
  // promise, so that nothing a peer sends can throw outside it: a failure of any step is
  // one status for the caller (INTERNAL ones are logged), never an unhandled rejection
  // that would end the process.
  const answer = <Response>(method: string, callback: grpc.sendUnaryData<Response>, work: () => Promise<Response>): void => {
    let pending: Promise<Response>;
    try {
      pending = work();
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => callback(null, response),
      (error: unknown) => {
        const status = serviceErrorOf(error);
        if (status.code === grpc.status.INTERNAL) logger.error({ err: error, method }, 'replica call failed');
        callback(status);
      },
    );
  };
  return {
    Apply(call, callback) {
      seen(call.metadata);
      answer('Apply', callback, () => applyRecords(handler, call.request));
    },
    MerkleTree(call, callback) {
      seen(call.metadata);
      answer('MerkleTree', callback, async () => {
        const merkleTree = handler.merkleTree;
        if (merkleTree === undefined) throw new QkvError('INTERNAL', 'this replica serves no Merkle trees');
        const range = decodeTokenRange(call.request.range, 'range');
        const { depth } = call.request;
        if (depth > MERKLE_DEPTH_MAX) throw new InvalidArgumentError(`depth ${depth} exceeds ${MERKLE_DEPTH_MAX}`);
        const tree = await merkleTree.call(handler, range, depth);
        return { root: tree.root, leaves: tree.leaves, records: String(tree.records) };
      });
    },
    Scan(call, callback) {
      seen(call.metadata);
      answer('Scan', callback, async () => {
        const scan = handler.scan;
        if (scan === undefined) throw new QkvError('INTERNAL', 'this replica serves no scans');
        const range = decodeTokenRange(call.request.range, 'range');
        const { limit, resumeAfter: resume } = call.request;
        if (limit < 1 || limit > REPAIR_SCAN_RECORDS_MAX) throw new InvalidArgumentError(`limit must be 1..${REPAIR_SCAN_RECORDS_MAX}`);
        let cursor: ScanCursor | undefined;
        if (resume !== null) {
          checkKey(resume.key, 'resume_after.key');
          cursor = { token: decodeUint64(resume.token, 'resume_after.token'), key: resume.key };
          if (!rangeContains(range, cursor.token)) throw new InvalidArgumentError('resume_after lies outside the range');
        }
        const page = await scan.call(handler, range, limit, cursor);
        return {
          records: page.records.map(encodeRecord),
          resumeAfter: page.resumeAfter === undefined ? null : { token: page.resumeAfter.token.toString(), key: page.resumeAfter.key },
        };
      });
    },
    Probe(call, callback) {
      seen(call.metadata);
      answer('Probe', callback, async () => {
        const { sender } = call.request;
        // An empty sender is an anonymous probe (a liveness check only).
        if (Buffer.byteLength(sender, 'utf8') > NODE_ID_BYTES_MAX) throw new InvalidArgumentError(`sender is longer than ${NODE_ID_BYTES_MAX} bytes`);
        // The call's sender (checked against the caller's certificate on a secure peer
        // port, src/security/call-guards.ts) and the ring state's owner must be one member.
        const caller = senderOf(call.metadata);
        if (sender !== '' && caller !== undefined && sender !== caller) throw new PeerIdentityMismatchError(caller, sender);
        let hello: ProbeHello = {
          sender,
          ringState: decodeAnnouncedRingState(call.request.ringState, call.request.ringStateVersion, 'ring_state'),
          heardRingState: decodeAnnouncedRingState(call.request.heardRingState, call.request.heardRingStateVersion, 'heard_ring_state'),
        };
        const forgotten = decodeForgottenMembers(call.request.forgotten, 'forgotten');
        if (forgotten.length > 0) hello = { ...hello, forgotten };
        if (handler.probe === undefined) return { ringState: '', ringStateVersion: '0', ringDigest: '', writeRingDigest: '', forgotten: [] };
        const reply = await handler.probe(hello);
        return {
          ringState: reply.ringState?.state ?? '',
          ringStateVersion: String(reply.ringState?.version ?? 0),
          ringDigest: reply.ringDigests?.read ?? '',
          writeRingDigest: reply.ringDigests?.write ?? '',
          forgotten: encodeForgottenMembers(reply.forgotten),
        };
      });
    },
    Read(call, callback) {
      seen(call.metadata);
      answer('Read', callback, () => readKeys(handler, call.request));
    },
    Exchange(call) {
      const sender = senderOf(call.metadata);
      serveExchange(call, options, () => {
        if (sender !== undefined) options.onPeerSeen?.(sender);
      });
    },
  };
}

/**
 * An Apply's records, checked and decoded, handed to the replica. Keys and values stay
 * views into the request (the engine copies what it keeps), and the batch goes along as
 * the records' encoding, which the engine can log as it is.
 */
async function applyRecords(handler: ReplicaHandler, request: ApplyRequest__Output): Promise<ApplyResponse> {
  const { batch } = request;
  // An empty batch (no field on the wire) is an Apply of no records.
  const records = batch.length === 0 ? [] : decodeRecordBatch(batch, RECORD_BOUNDS, 'batch', { views: true });
  await handler.apply(records, batch.length === 0 ? undefined : batch);
  return { records: records.length };
}

/** A Read's keys, checked, answered with found flags and the found records as one batch (bounded, see readAnswer). */
async function readKeys(handler: ReplicaHandler, request: ReadRequest__Output): Promise<ReadResponse> {
  const { keys } = request;
  if (keys.length > REPLICA_BATCH_ITEMS_MAX) throw new BatchTooLargeError(keys.length, REPLICA_BATCH_ITEMS_MAX);
  keys.forEach((key, index) => checkKey(key, `keys[${index}]`));
  return readAnswer(handler, keys);
}

/**
 * Serves one Exchange stream (multiplexed-stream-server.ts): each request is an Apply or
 * a Read, and a sign of life of the sender (`seen`), as a unary call is.
 */
function serveExchange(call: grpc.ServerDuplexStream<ExchangeRequest__Output, ExchangeReply>, options: ReplicaServiceOptions, seen: () => void): void {
  const { handler } = options;
  serveMultiplexedStream(call, {
    method: 'Exchange',
    failureLogMessage: 'replica call failed',
    logger: options.logger,
    requestsMax: options.streamRequestsMax ?? REPLICA_STREAM_REQUESTS_MAX,
    streams: options.streams,
    requestsName: 'requests running on one Exchange stream',
    onRequest: seen,
    errorReply: (id, error) => ({ id, error: { code: error.code, message: error.message } }),
    serve: (request) => {
      if (request.body === 'apply' && request.apply) return applyRecords(handler, request.apply).then((apply) => ({ id: request.id, apply }));
      if (request.body === 'read' && request.read) return readKeys(handler, request.read).then((read) => ({ id: request.id, read }));
      return Promise.reject(new InvalidArgumentError('an Exchange request needs an apply or a read body'));
    },
  });
}

/**
 * The records of `keys`, in order, as far as they fit in REPLICA_ANSWER_BYTES_MAX
 * (always at least one key): `found` may be shorter than `keys`, and the caller asks
 * again for the keys after it. Without the bound a Read naming one large value many
 * times would make this node build an answer of any size (a 5,000-key Read of one 1 MiB
 * value asked for a 5 GB buffer, which ended the process).
 */
async function readAnswer(handler: ReplicaHandler, keys: readonly Buffer[]): Promise<{ found: boolean[]; batch: Buffer }> {
  const found: boolean[] = [];
  const records: KvRecord[] = [];
  let bytes = 0;
  for (let start = 0; start < keys.length; start += REPLICA_READ_SLICE_KEYS) {
    const slice = keys.slice(start, start + REPLICA_READ_SLICE_KEYS);
    // The handler stops copying values out of the store once it has read what this
    // answer still has room for, so a slice of 3 MiB values costs a few of them, not 64.
    const answers = await handler.read(slice, REPLICA_ANSWER_BYTES_MAX - bytes);
    if (answers.length === 0 || answers.length > slice.length) {
      throw new QkvError('INTERNAL', `the replica handler answered ${answers.length} records for ${slice.length} keys`);
    }
    for (const record of answers) {
      const size = record === undefined ? 0 : recordBytes(record);
      if (found.length > 0 && bytes + size > REPLICA_ANSWER_BYTES_MAX) return { found, batch: encodeBatch(records) };
      bytes += size;
      found.push(record !== undefined);
      if (record !== undefined) records.push(record);
    }
    if (answers.length < slice.length) break;
  }
  return { found, batch: encodeBatch(records) };
}

function checkKey(key: Buffer, field: string): void {
  if (key.length === 0) throw new InvalidArgumentError(`${field} is empty`);
  if (key.length > RECORD_BOUNDS.keyBytesMax) throw new InvalidArgumentError(`${field} is ${key.length} bytes; the limit is ${RECORD_BOUNDS.keyBytesMax}`);
}

function decodeTokenRange(wire: TokenRange__Output | null, field: string): TokenRange {
  if (wire === null) throw new InvalidArgumentError(`${field} is missing`);
  return { start: decodeUint64(wire.start, `${field}.start`), end: decodeUint64(wire.end, `${field}.end`) };
}

/** Adds the Replica service; returns its open Exchange streams, for the node to drain. */
export function addReplicaService(server: grpc.Server, options: ReplicaServiceOptions): ServedStreams {
  const { grpcObject } = loadQuorumKvProtocol();
  const streams = options.streams ?? new ServedStreams();
  // Exchange messages are decoded and encoded by hand-written codecs (src/protocol/message-codecs.ts).
  addCheckedService(server, replicaServiceWithFastCodecs(grpcObject.quorumkv.v1.Replica.service), replicaServiceHandlers({ ...options, streams }));
  return streams;
}
