// Which records from elsewhere no honest node can have written, judged by this node's
// hybrid logical clock (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md).
//
// Under last writer wins a stamp decides for good: a record stamped in the year 10889
// wins over every later write of its key, and a tombstone stamped so deletes the key
// forever (its grace period, counted from its stamp, never ends either). No honest node
// stamps further ahead than its clock runs ahead of ours, which HLC_FORWARD_DRIFT_MS_MAX
// bounds; the clock refuses to adopt such a stamp (HybridLogicalClock.accepts), and every
// path that stores records from elsewhere refuses the record in the same words:
// LocalReplica.apply (Replica Apply, unary and on Exchange streams, hints, range
// streaming and repair pulls, read repair), and coordinators do not take such a record as
// a read's newest version, so they neither return it nor repair it onto other replicas.
//
// The expiry is checked as well: an honest coordinator sets it to its wall clock plus a
// TTL of at most TTL_MS_MAX, so one later than that from now (plus the drift bound) came
// from no honest write. An expiry in the past needs no bound: it only makes the record
// expire, which any peer may ask for with a delete.
import type { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import { wallMsOf } from '../clock/hybrid-logical-clock.js';
import { StampFromFutureError } from '../errors/errors.js';
import { HLC_FORWARD_DRIFT_MS_MAX, TTL_MS_MAX } from '../limits.js';
import type { KvRecord } from '../storage/record.js';

/** Why `record` must not be stored or spread here, or undefined when it may be. */
export function futureRecordError(record: KvRecord, clock: HybridLogicalClock): StampFromFutureError | undefined {
  const { stamp } = record.version;
  if (!clock.accepts(stamp)) {
    return new StampFromFutureError(record.key, 'stamp', stamp, Number(wallMsOf(stamp)), clock.wallMs(), HLC_FORWARD_DRIFT_MS_MAX);
  }
  const expiryAheadMsMax = TTL_MS_MAX + HLC_FORWARD_DRIFT_MS_MAX;
  if (record.expiresAtMs !== 0) {
    const nowMs = clock.wallMs();
    if (record.expiresAtMs > nowMs + expiryAheadMsMax) {
      return new StampFromFutureError(record.key, 'expires_at_ms', BigInt(Math.trunc(record.expiresAtMs)), record.expiresAtMs, nowMs, expiryAheadMsMax);
    }
  }
  return undefined;
}

/** True when `record` carries a stamp or expiry no honest node writes (futureRecordError). */
export function isFromFuture(record: KvRecord, clock: HybridLogicalClock): boolean {
  return futureRecordError(record, clock) !== undefined;
}

/**
 * The error of the first of `records` that futureRecordError refuses, or undefined: the
 * same answer as asking it record by record, with the stamps checked through the highest
 * one. `clock.accepts` is monotone in the stamp (it takes every stamp up to the clock's
 * last, and every one up to its wall clock plus the drift bound), so when it takes the
 * highest it takes them all and only the expiries are left to check; a batch of records
 * coordinated together carries stamps from one clock, and a replica applies hundreds per
 * call, where the record-by-record check read the wall clock and made bigints for each.
 */
export function firstFutureRecordError(records: readonly KvRecord[], clock: HybridLogicalClock): StampFromFutureError | undefined {
  const highest = highestStamp(records);
  if (highest === undefined) return undefined;
  if (!clock.accepts(highest)) {
    for (const record of records) {
      const refusal = futureRecordError(record, clock);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
  let expiresAtMsMax: number | undefined;
  for (const record of records) {
    if (record.expiresAtMs === 0) continue;
    expiresAtMsMax ??= clock.wallMs() + TTL_MS_MAX + HLC_FORWARD_DRIFT_MS_MAX;
    if (record.expiresAtMs <= expiresAtMsMax) continue;
    // Asked again on its own: the wall clock may have moved since the bound was taken, and
    // a record that passes now must not end the check of those after it.
    const refusal = futureRecordError(record, clock);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/** The highest stamp among `records`, undefined for none. */
export function highestStamp(records: readonly KvRecord[]): bigint | undefined {
  let highest: bigint | undefined;
  for (const record of records) {
    const { stamp } = record.version;
    if (highest === undefined || stamp > highest) highest = stamp;
  }
  return highest;
}
