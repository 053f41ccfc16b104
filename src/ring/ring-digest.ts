// The ring digest: a short fingerprint of everything that decides placement — the member
// ids, their zones, vnodes per member and the replication factor N. Two nodes whose
// digests match compute the same ring, because the ring is a pure function of these
// inputs (see hash-ring.ts); two nodes whose digests differ disagree about membership
// or settings, and the Admin status shows it. The input order of members does not
// matter: they are sorted by id before hashing.
//
// Format (version 1): xxh64 (seed 0) of the UTF-8 JSON text
//   ["qkv-ring",1,<vnodes>,<replicationFactor>,[[<id>,<zone or null>],...]]
// with members sorted by id (UTF-16 code unit order, as JavaScript compares strings),
// printed as 16 lower-case hex digits. JSON quoting keeps ids and zones unambiguous
// whatever characters they hold.
import type { RingMember } from './ring-member.js';
import type { XxHash64 } from './token-hasher.js';

const DIGEST_FORMAT_VERSION = 1;

export function compareMemberIds(a: RingMember, b: RingMember): number {
  if (a.id < b.id) return -1;
  if (a.id > b.id) return 1;
  return 0;
}

export function ringDigest(
  members: readonly RingMember[],
  vnodes: number,
  replicationFactor: number,
  hash: XxHash64,
): string {
  const sorted = [...members].sort(compareMemberIds);
  const canonical = JSON.stringify([
    'qkv-ring',
    DIGEST_FORMAT_VERSION,
    vnodes,
    replicationFactor,
    sorted.map((member) => [member.id, member.zone ?? null]),
  ]);
  return hash.text(canonical).toString(16).padStart(16, '0');
}
