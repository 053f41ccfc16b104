// The unit of replication and storage: one version of one key. A record with
// `value === null` is a tombstone. Records are totally ordered by their version:
// last writer wins by (stamp, nodeId), the project's fixed conflict rule, so
// applying an older or equal record is a no-op and replays and repairs are idempotent.

export interface Version {
  /** Hybrid logical clock stamp (see src/clock/hybrid-logical-clock.ts). */
  readonly stamp: bigint;
  /** Id of the coordinator that issued the stamp; breaks ties between equal stamps. */
  readonly nodeId: string;
}

export interface KvRecord {
  readonly key: Buffer;
  /** null marks a tombstone. */
  readonly value: Buffer | null;
  readonly version: Version;
  /** Absolute expiry in wall-clock ms since the epoch; 0 means never. */
  readonly expiresAtMs: number;
}

export function compareVersions(a: Version, b: Version): number {
  if (a.stamp !== b.stamp) return a.stamp < b.stamp ? -1 : 1;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? -1 : 1;
}

/** True when `candidate` should replace `current` under last-writer-wins. */
export function supersedes(candidate: Version, current: Version | undefined): boolean {
  return current === undefined || compareVersions(candidate, current) > 0;
}

export function isTombstone(record: KvRecord): boolean {
  return record.value === null;
}

export function isExpired(record: KvRecord, nowMs: number): boolean {
  return record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs;
}

/** Key and value bytes of a record, what a scan page counts against SCAN_PAGE_BYTES_MAX. */
export function recordPayloadBytes(record: KvRecord): number {
  return record.key.length + (record.value?.length ?? 0);
}
