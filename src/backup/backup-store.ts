// Where backup sets live: the port that cluster backup and restore write and read named
// objects through (docs/decisions/0142-backup-store-port.md). A directory
// (directory-backup-store.ts) and an S3-compatible object store implement it; names are
// relative, '/'-separated paths inside the store ("<backup id>/manifest.json").
//
// `write` is whole or nothing: a reader never sees a partial object, so the manifest,
// written last, is what makes a backup set exist.

export interface BackupStore {
  /** Writes `body` under `name`, replacing any object there; visible only once complete. */
  write(name: string, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** The bytes of `name`; rejects with BACKUP_NOT_FOUND when there is none. */
  read(name: string): AsyncIterable<Uint8Array>;
  /** Names of the objects whose names start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes `name`; removing what is not there is not an error. */
  remove(name: string): Promise<void>;
  /** The store for messages and progress, without secrets (e.g. `directory /backups/daily`). */
  describe(): string;
}
