// The server side of the internal Replica service: decodes and checks what a peer
// sent, then hands it to this node's ReplicaHandler (the local storage engine). One
// Apply call carries every record a peer coalesced in one turn, and the handler
// applies them together, so one fsync covers them all. Records travel in the storage
// engine's batch encoding (`batch`); an Apply with `records` messages (an older peer)
// is still understood.
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, QkvError } from '../../errors/errors.js';
import { KEY_BYTES_MAX_CEILING, MERKLE_DEPTH_MAX, NODE_ID_BYTES_MAX, REPAIR_SCAN_RECORDS_MAX, VALUE_BYTES_MAX_CEILING } from '../../limits.js';
import { rangeContains, type TokenRange } from '../../ring/token-range.js';
import type { ScanCursor } from '../../storage/storage-engine.js';
import type { TokenRange__Output } from '../../api/generated/quorumkv/v1/TokenRange.js';
import type { Logger } from '../../logging/logger.js';
import type { KvRecord } from '../../storage/record.js';
import type { ProbeHello, ReplicaHandler } from '../peer-transport.js';
import { SENDER_METADATA_KEY } from './grpc-transport.js';
import { serviceErrorOf } from '../../api/error-status.js';
import { decodeAnnouncedRingState, decodeRecord, decodeRecordBatch, decodeUint64, encodeRecord } from '../../api/wire-codec.js';
import { encodeBatch } from '../../storage/record-codec.js';
import { loadQuorumKvProtocol } from '../../api/proto-package.js';
import type { ReplicaHandlers } from '../../api/generated/quorumkv/v1/Replica.js';

// Peers run the same software, but a node still refuses what no correct peer sends:
// a record above the configurable ceilings cannot have passed a coordinator's checks.
const RECORD_BOUNDS = { keyBytesMax: KEY_BYTES_MAX_CEILING, valueBytesMax: VALUE_BYTES_MAX_CEILING };

export interface ReplicaServiceOptions {
  readonly handler: ReplicaHandler;
  readonly logger: Logger;
  /** Told the sender's node id of every call (a sign that the sender is alive). */
  readonly onPeerSeen?: (peer: string) => void;
}

export function replicaServiceHandlers(options: ReplicaServiceOptions): ReplicaHandlers {
  const { handler, logger } = options;
  const seen = (metadata: grpc.Metadata): void => {
    const sender = metadata.get(SENDER_METADATA_KEY)[0];
    if (typeof sender === 'string' && sender !== '') options.onPeerSeen?.(sender);
  };
  const fail = (method: string, error: unknown): Partial<grpc.StatusObject> => {
    const status = serviceErrorOf(error);
    if (status.code === grpc.status.INTERNAL) logger.error({ err: error, method }, 'replica call failed');
    return status;
  };
  return {
    Apply(call, callback) {
      seen(call.metadata);
      let records: KvRecord[];
      try {
        const { batch } = call.request;
        records =
          batch.length > 0
            ? decodeRecordBatch(batch, RECORD_BOUNDS, 'batch')
            : call.request.records.map((wire, index) => decodeRecord(wire, RECORD_BOUNDS, `records[${index}]`));
      } catch (error) {
        callback(fail('Apply', error));
        return;
      }
      handler.apply(records).then(
        () => callback(null, { records: records.length }),
        (error: unknown) => callback(fail('Apply', error)),
      );
    },
    MerkleTree(call, callback) {
      seen(call.metadata);
      const merkleTree = handler.merkleTree;
      let range: TokenRange;
      try {
        if (merkleTree === undefined) throw new QkvError('INTERNAL', 'this replica serves no Merkle trees');
        range = decodeTokenRange(call.request.range, 'range');
        if (call.request.depth > MERKLE_DEPTH_MAX) throw new InvalidArgumentError(`depth ${call.request.depth} exceeds ${MERKLE_DEPTH_MAX}`);
      } catch (error) {
        callback(fail('MerkleTree', error));
        return;
      }
      merkleTree.call(handler, range, call.request.depth).then(
        (tree) => callback(null, { root: tree.root, leaves: tree.leaves, records: String(tree.records) }),
        (error: unknown) => callback(fail('MerkleTree', error)),
      );
    },
    Scan(call, callback) {
      seen(call.metadata);
      const scan = handler.scan;
      let range: TokenRange;
      let cursor: ScanCursor | undefined;
      try {
        if (scan === undefined) throw new QkvError('INTERNAL', 'this replica serves no scans');
        range = decodeTokenRange(call.request.range, 'range');
        if (call.request.limit < 1 || call.request.limit > REPAIR_SCAN_RECORDS_MAX) {
          throw new InvalidArgumentError(`limit must be 1..${REPAIR_SCAN_RECORDS_MAX}`);
        }
        const resume = call.request.resumeAfter;
        cursor = resume === null ? undefined : { token: decodeUint64(resume.token, 'resume_after.token'), key: resume.key };
        if (cursor !== undefined && !rangeContains(range, cursor.token)) throw new InvalidArgumentError('resume_after lies outside the range');
      } catch (error) {
        callback(fail('Scan', error));
        return;
      }
      scan.call(handler, range, call.request.limit, cursor).then(
        (page) =>
          callback(null, {
            records: page.records.map(encodeRecord),
            resumeAfter: page.resumeAfter === undefined ? null : { token: page.resumeAfter.token.toString(), key: page.resumeAfter.key },
          }),
        (error: unknown) => callback(fail('Scan', error)),
      );
    },
    Probe(call, callback) {
      seen(call.metadata);
      let hello: ProbeHello;
      try {
        const { sender } = call.request;
        // An empty sender is an anonymous probe (a liveness check only).
        if (Buffer.byteLength(sender, 'utf8') > NODE_ID_BYTES_MAX) throw new InvalidArgumentError(`sender is longer than ${NODE_ID_BYTES_MAX} bytes`);
        hello = {
          sender,
          ringState: decodeAnnouncedRingState(call.request.ringState, call.request.ringStateVersion, 'ring_state'),
          heardRingState: decodeAnnouncedRingState(call.request.heardRingState, call.request.heardRingStateVersion, 'heard_ring_state'),
        };
      } catch (error) {
        callback(fail('Probe', error));
        return;
      }
      if (handler.probe === undefined) {
        callback(null, { ringState: '', ringStateVersion: '0' });
        return;
      }
      handler.probe(hello).then(
        (answer) => callback(null, { ringState: answer.ringState?.state ?? '', ringStateVersion: String(answer.ringState?.version ?? 0) }),
        (error: unknown) => callback(fail('Probe', error)),
      );
    },
    Read(call, callback) {
      seen(call.metadata);
      const keys = call.request.keys;
      const bad = keys.findIndex((key) => key.length === 0 || key.length > RECORD_BOUNDS.keyBytesMax);
      if (bad !== -1) {
        callback(fail('Read', new InvalidArgumentError(`keys[${bad}] is empty or longer than ${RECORD_BOUNDS.keyBytesMax} bytes`)));
        return;
      }
      handler.read(keys).then(
        (records) => {
          const found = records.map((record) => record !== undefined);
          callback(null, { found, batch: encodeBatch(records.filter((record) => record !== undefined)) });
        },
        (error: unknown) => callback(fail('Read', error)),
      );
    },
  };
}

function decodeTokenRange(wire: TokenRange__Output | null, field: string): TokenRange {
  if (wire === null) throw new InvalidArgumentError(`${field} is missing`);
  return { start: decodeUint64(wire.start, `${field}.start`), end: decodeUint64(wire.end, `${field}.end`) };
}

export function addReplicaService(server: grpc.Server, options: ReplicaServiceOptions): void {
  const { grpcObject } = loadQuorumKvProtocol();
  server.addService(grpcObject.quorumkv.v1.Replica.service, replicaServiceHandlers(options));
}
