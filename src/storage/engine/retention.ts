// What a checkpoint keeps of a record. Deleted and expired keys cannot simply vanish:
// a replica that missed the delete still holds the old value, and without the
// tombstone a read or repair would bring it back. So a tombstone is kept for the grace
// period (default 10 days, during which anti-entropy and hints reconcile replicas) and
// purged after it. An expired record is turned into a tombstone with the same version
// at the first checkpoint after its expiry (its value's space is given back at once)
// and purged a grace period after its expiry.
import { wallMsOf } from '../../clock/hybrid-logical-clock.js';
import type { KvRecord } from '../record.js';
import { isExpired, isTombstone } from '../record.js';

/** The moment from which a record counts as deleted, or undefined for a live record. */
function deletedSinceMs(record: KvRecord, nowMs: number): number | undefined {
  // A delete counts from its stamp; an expired record (tombstone or not) from its expiry.
  if (isExpired(record, nowMs)) return record.expiresAtMs;
  if (isTombstone(record)) return Number(wallMsOf(record.version.stamp));
  return undefined;
}

/** The record as a checkpoint should store it; undefined means purge the key. */
export function retainedForm(record: KvRecord, nowMs: number, tombstoneGraceMs: number): KvRecord | undefined {
  const since = deletedSinceMs(record, nowMs);
  if (since === undefined) return record;
  if (since + tombstoneGraceMs <= nowMs) return undefined;
  return record.value === null ? record : { ...record, value: null };
}

export function isPurgeable(record: KvRecord, nowMs: number, tombstoneGraceMs: number): boolean {
  const since = deletedSinceMs(record, nowMs);
  return since !== undefined && since + tombstoneGraceMs <= nowMs;
}
