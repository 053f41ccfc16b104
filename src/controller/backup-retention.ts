// Which succeeded scheduled backups retention deletes (docs/decisions/0147-backup-schedule.md).
// The newest `retention` stay. So does the newest complete set (one that read every
// member) when it is older than those: since a backup goes on without a member that
// cannot be read (docs/decisions/0245-backup-with-members-missing.md), a member down for
// longer than `retention` schedule periods would otherwise leave only sets that lack it,
// and a set that lacks a member may lack writes acknowledged at a low W.

export interface RetainedBackup {
  /** When the schedule made it, in ms; larger is newer. */
  readonly scheduledAtMs: number;
  /** Members the set lacks; empty for a complete set. */
  readonly missingMembers: readonly string[];
}

/** The backups to delete, oldest last; `succeeded` in any order. */
export function backupsBeyondRetention<T extends RetainedBackup>(succeeded: readonly T[], retention: number): T[] {
  const newestFirst = [...succeeded].sort((a, b) => b.scheduledAtMs - a.scheduledAtMs);
  const kept = new Set(newestFirst.slice(0, retention));
  const newestComplete = newestFirst.find((backup) => backup.missingMembers.length === 0);
  if (newestComplete !== undefined) kept.add(newestComplete);
  return newestFirst.filter((backup) => !kept.has(backup));
}
