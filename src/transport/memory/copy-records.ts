// Deep copies of records, so that a message crossing the in-memory network shares no
// buffers with its sender, as bytes on a real wire would not.
import type { KvRecord } from '../../storage/record.js';

/** A deep copy of records, standing in for serialization on the wire. */
export function copyRecords(records: readonly (KvRecord | undefined)[]): Array<KvRecord | undefined> {
  return records.map((record) =>
    record === undefined
      ? undefined
      : {
          key: Buffer.from(record.key),
          value: record.value === null ? null : Buffer.from(record.value),
          version: { stamp: record.version.stamp, nodeId: record.version.nodeId },
          expiresAtMs: record.expiresAtMs,
        },
  );
}
