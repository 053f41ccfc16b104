// Where backup files go: a directory (a PVC) or an S3-compatible object store. The backup
// and restore code writes and reads named files through this port and never learns which
// destination it has (docs/style.md point 2); test/backup/backup-store-contract.ts holds
// what every adapter agrees on.

export interface BackupStore {
  /**
   * Stores `body` under `name`, whole or not at all: a reader never sees a part of it,
   * and when the body or the store fails nothing new is left under the name (a file that
   * was there before stays as it was).
   */
  write(name: string, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** The bytes stored under `name`; BACKUP_OBJECT_MISSING when there are none. */
  read(name: string): AsyncIterable<Uint8Array>;
  /** Every stored name that starts with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Removes `name`; removing a name that is not there is not an error. */
  remove(name: string): Promise<void>;
  /** The destination for messages and logs, without credentials. */
  describe(): string;
}
