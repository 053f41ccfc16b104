// The server side of the internal Replica service: decodes and checks what a peer
// sent, then hands it to this node's ReplicaHandler (the local storage engine). One
// Apply call carries every record a peer coalesced in one turn, and the handler
// applies them together, so one fsync covers them all. Records travel in the storage
// engine's batch encoding (`batch`); an Apply with `records` messages (an older peer)
// is still understood.
//
// Nothing a peer (or anything else that reaches the port) sends may crash the node or
// make it build an unbounded answer: keys and records per call are capped at
// REPLICA_BATCH_ITEMS_MAX, a Read answer at REPLICA_ANSWER_BYTES_MAX (the caller asks
// again for the rest), and every failure becomes one status with its quorumkv code.
import * as grpc from '@grpc/grpc-js';
import { BatchTooLargeError, InvalidArgumentError, QkvError } from '../../errors/errors.js';
import {
  KEY_BYTES_MAX_CEILING,
  MERKLE_DEPTH_MAX,
  NODE_ID_BYTES_MAX,
  REPAIR_SCAN_RECORDS_MAX,
  REPLICA_ANSWER_BYTES_MAX,
  REPLICA_BATCH_ITEMS_MAX,
  REPLICA_READ_SLICE_KEYS,
  VALUE_BYTES_MAX_CEILING,
} from '../../limits.js';
import { rangeContains, type TokenRange } from '../../ring/token-range.js';
import type { ScanCursor } from '../../storage/storage-engine.js';
import type { TokenRange__Output } from '../../api/generated/quorumkv/v1/TokenRange.js';
import type { Logger } from '../../logging/logger.js';
import type { KvRecord } from '../../storage/record.js';
import type { ProbeHello, ReplicaHandler } from '../peer-transport.js';
import { serviceErrorOf } from '../../api/error-status.js';
import { senderOf } from './sender-metadata.js';
import { decodeAnnouncedRingState, decodeRecord, decodeRecordBatch, decodeUint64, encodeRecord } from '../../api/wire-codec.js';
import { encodeBatch, recordBytes } from '../../storage/record-codec.js';
import { loadQuorumKvProtocol } from '../../api/proto-package.js';
import { addCheckedService } from '../../api/checked-service.js';
import type { ReplicaHandlers } from '../../api/generated/quorumkv/v1/Replica.js';

// Peers run the same software, but a node still refuses what no correct peer sends:
// a record above the configurable ceilings cannot have passed a coordinator's checks.
const RECORD_BOUNDS = { keyBytesMax: KEY_BYTES_MAX_CEILING, valueBytesMax: VALUE_BYTES_MAX_CEILING, recordsMax: REPLICA_BATCH_ITEMS_MAX };

export interface ReplicaServiceOptions {
  readonly handler: ReplicaHandler;
  readonly logger: Logger;
  /** Told the sender's node id of every call (a sign that the sender is alive). */
  readonly onPeerSeen?: (peer: string) => void;
}

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
      answer('Apply', callback, async () => {
        const { batch, records: messages } = call.request;
        let records: KvRecord[];
        if (batch.length > 0) {
          records = decodeRecordBatch(batch, RECORD_BOUNDS, 'batch');
        } else {
          if (messages.length > REPLICA_BATCH_ITEMS_MAX) throw new BatchTooLargeError(messages.length, REPLICA_BATCH_ITEMS_MAX);
          records = messages.map((wire, index) => decodeRecord(wire, RECORD_BOUNDS, `records[${index}]`));
        }
        await handler.apply(records);
        return { records: records.length };
      });
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
        const hello: ProbeHello = {
          sender,
          ringState: decodeAnnouncedRingState(call.request.ringState, call.request.ringStateVersion, 'ring_state'),
          heardRingState: decodeAnnouncedRingState(call.request.heardRingState, call.request.heardRingStateVersion, 'heard_ring_state'),
        };
        if (handler.probe === undefined) return { ringState: '', ringStateVersion: '0', ringDigest: '', writeRingDigest: '' };
        const reply = await handler.probe(hello);
        return {
          ringState: reply.ringState?.state ?? '',
          ringStateVersion: String(reply.ringState?.version ?? 0),
          ringDigest: reply.ringDigests?.read ?? '',
          writeRingDigest: reply.ringDigests?.write ?? '',
        };
      });
    },
    Read(call, callback) {
      seen(call.metadata);
      answer('Read', callback, async () => {
        const { keys } = call.request;
        if (keys.length > REPLICA_BATCH_ITEMS_MAX) throw new BatchTooLargeError(keys.length, REPLICA_BATCH_ITEMS_MAX);
        keys.forEach((key, index) => checkKey(key, `keys[${index}]`));
        return readAnswer(handler, keys);
      });
    },
  };
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
    const answers = await handler.read(slice);
    if (answers.length !== slice.length) throw new QkvError('INTERNAL', `the replica handler answered ${answers.length} records for ${slice.length} keys`);
    for (const record of answers) {
      const size = record === undefined ? 0 : recordBytes(record);
      if (found.length > 0 && bytes + size > REPLICA_ANSWER_BYTES_MAX) return { found, batch: encodeBatch(records) };
      bytes += size;
      found.push(record !== undefined);
      if (record !== undefined) records.push(record);
    }
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

export function addReplicaService(server: grpc.Server, options: ReplicaServiceOptions): void {
  const { grpcObject } = loadQuorumKvProtocol();
  addCheckedService(server, grpcObject.quorumkv.v1.Replica.service, replicaServiceHandlers(options));
}
