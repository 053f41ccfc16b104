// How many members a backup set read, and what a set that lacks members still holds for
// sure, in words for the CLI's lines and the controller's messages and Events
// (docs/operations/backup.md, "A member down";
// docs/decisions/0245-backup-with-members-missing.md). A write acknowledged at W before
// the backup began is on W replicas; with m members missing, W > m of them include one
// that was read. So the bound is W >= m + 1, not W >= 2: with two of three members of an
// N=3 cluster down, a majority (W=2) write that only those two took is not in the set.

/** `every write acknowledged at W >= 3; ... W <= 2 ...` for two members missing (`missingCount` >= 1). */
export function missingMembersGuarantee(missingCount: number): string {
  const by = missingCount === 1 ? 'by the missing member only' : 'by missing members only';
  return `the set holds every write acknowledged at W >= ${missingCount + 1}; a write acknowledged at W <= ${missingCount} ${by} may be absent`;
}

/** `3 members`, or `2 of 3 members (missing qkv-1)`: how many members a set holds, for the CLI and the controller. */
export function membersRead(membersTotal: number, missingIds: readonly string[]): string {
  if (missingIds.length === 0) return `${membersTotal} members`;
  return `${membersTotal - missingIds.length} of ${membersTotal} members (missing ${missingIds.join(', ')})`;
}
