// The server side of the internal Replica service: decodes and checks what a peer
// sent, then hands it to this node's ReplicaHandler (the local storage engine). One
// Apply call carries every record a peer coalesced in one turn, and the handler
// applies them together, so one fsync covers them all. Records travel in the storage
// engine's batch encoding (`batch`); an Apply with `records` messages (an older peer)
// is still understood.
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../errors/errors.js';
import { KEY_BYTES_MAX_CEILING, VALUE_BYTES_MAX_CEILING } from '../../limits.js';
import type { Logger } from '../../logging/logger.js';
import type { KvRecord } from '../../storage/record.js';
import type { ReplicaHandler } from '../peer-transport.js';
import { serviceErrorOf } from '../../api/error-status.js';
import { decodeRecord, decodeRecordBatch } from '../../api/wire-codec.js';
import { encodeBatch } from '../../storage/record-codec.js';
import { loadQuorumKvProtocol } from '../../api/proto-package.js';
import type { ReplicaHandlers } from '../../api/generated/quorumkv/v1/Replica.js';

// Peers run the same software, but a node still refuses what no correct peer sends:
// a record above the configurable ceilings cannot have passed a coordinator's checks.
const RECORD_BOUNDS = { keyBytesMax: KEY_BYTES_MAX_CEILING, valueBytesMax: VALUE_BYTES_MAX_CEILING };

export interface ReplicaServiceOptions {
  readonly handler: ReplicaHandler;
  readonly logger: Logger;
}

export function replicaServiceHandlers(options: ReplicaServiceOptions): ReplicaHandlers {
  const { handler, logger } = options;
  const fail = (method: string, error: unknown): Partial<grpc.StatusObject> => {
    const status = serviceErrorOf(error);
    if (status.code === grpc.status.INTERNAL) logger.error({ err: error, method }, 'replica call failed');
    return status;
  };
  return {
    Apply(call, callback) {
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
    Read(call, callback) {
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

export function addReplicaService(server: grpc.Server, options: ReplicaServiceOptions): void {
  const { grpcObject } = loadQuorumKvProtocol();
  server.addService(grpcObject.quorumkv.v1.Replica.service, replicaServiceHandlers(options));
}
