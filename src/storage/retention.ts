// What a checkpoint keeps of a record. Deleted and expired keys cannot simply vanish:
// a replica that missed the delete still holds the old value, and without the
// tombstone a read or repair would bring it back. So a tombstone is kept for the grace
// period (default 10 days, during which anti-entropy and hints reconcile replicas) and
// purged after it. An expired record is turned into a tombstone with the same version
// at the first checkpoint after its expiry (its value's space is given back at once)
// and purged a grace period after its expiry.
//
// Purging happens only in the sweep of the store that follows a checkpoint, never while
// a checkpoint or a recovery writes records: until the checkpoint marker is durable and
// the covered WAL segments are gone, a replay could apply an older version of the key
// again, and without the tombstone that older version would win.
import { wallMsOf } from '../clock/hybrid-logical-clock.js';
import type { KvRecord } from './record.js';
import type { RetentionFields } from './record-codec.js';

/** The moment from which a record counts as deleted, or undefined for a live record. */
function deletedSinceMs(fields: RetentionFields, nowMs: number): number | undefined {
  // A delete counts from its stamp; an expired record (tombstone or not) from its expiry.
  if (fields.expiresAtMs !== 0 && fields.expiresAtMs <= nowMs) return fields.expiresAtMs;
  if (fields.tombstone) return Number(wallMsOf(fields.stamp));
  return undefined;
}

/**
 * Whether a checkpoint stores a value that expires at `expiresAtMs` (0: never) as it is,
 * at wall time `nowMs`; an expired value is stored as a tombstone with the same version
 * and expiry (its space is given back at once). Checkpoints never drop a key; only the
 * store sweep purges (see isPurgeable), after the WAL that could hold older versions
 * of the key is gone.
 */
export function checkpointKeepsValue(expiresAtMs: number, nowMs: number): boolean {
  return expiresAtMs === 0 || expiresAtMs > nowMs;
}

export function isPurgeable(record: KvRecord, nowMs: number, tombstoneGraceMs: number): boolean {
  return isPurgeableByFields({ tombstone: record.value === null, stamp: record.version.stamp, expiresAtMs: record.expiresAtMs }, nowMs, tombstoneGraceMs);
}

/** isPurgeable for a stored body's retention fields (record-codec.ts readRetentionFields). */
export function isPurgeableByFields(fields: RetentionFields, nowMs: number, tombstoneGraceMs: number): boolean {
  const since = deletedSinceMs(fields, nowMs);
  return since !== undefined && since + tombstoneGraceMs <= nowMs;
}
