// The port through which the backup controller has a member back up the whole cluster,
// or restore a backup set into it: Admin.Backup and Admin.Restore
// (proto/quorumkv/v1/admin.proto), which stream their progress. The production adapter
// is gRPC (./grpc-backup-admin.ts).

export interface BackupProgressView {
  readonly backupId: string;
  /** The member being read now ('' once all are). */
  readonly member: string;
  readonly membersDone: number;
  readonly membersTotal: number;
  /** Members the backup could not read and left out (their ranges came from other replicas). */
  readonly missingMembers: readonly { readonly nodeId: string; readonly reason: string }[];
  readonly records: number;
  readonly bytes: number;
  /** The store as the member describes it, without secrets. */
  readonly location: string;
  /** The set is complete: its manifest is written. */
  readonly done: boolean;
}

export interface RestoreProgressView {
  readonly backupId: string;
  /** "verifying", "restoring" or "done". */
  readonly phase: string;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly records: number;
  readonly bytes: number;
  readonly done: boolean;
}

export interface BackupAdmin {
  /**
   * Runs a cluster backup through the member at `address`; `onProgress` gets each
   * progress message. Resolves with the last (done); rejects with the member's error
   * (BACKUP_FAILED, BACKUP_BUCKET_MISSING, ...) or PEER_UNREACHABLE.
   */
  backup(address: string, destination: string, onProgress: (progress: BackupProgressView) => void): Promise<BackupProgressView>;
  /** Restores the set `backupId` ('' for the newest) through the member at `address`; as backup(). */
  restore(address: string, destination: string, backupId: string, onProgress: (progress: RestoreProgressView) => void): Promise<RestoreProgressView>;
}
