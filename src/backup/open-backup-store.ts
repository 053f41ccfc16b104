// Turns a backup destination, as a caller names it, into a BackupStore. On a node the
// caller is remote, so a directory destination is confined to the node's backup root
// (--backup-dir): a relative path under it, or `file:` followed by one; with no root
// configured it is refused (BACKUP_DIR_NOT_CONFIGURED). `s3://bucket/prefix` opens an
// S3-compatible object store with the node's AWS credentials (s3-destination.ts); any
// other scheme is refused with BACKUP_DESTINATION_UNSUPPORTED.
import { resolve, join } from 'node:path';
import { BackupDestinationInvalidError, BackupDestinationUnsupportedError, BackupDirNotConfiguredError } from '../errors/errors.js';
import { checkBackupPath } from './backup-path.js';
import type { BackupStore } from './backup-store.js';
import { DirectoryBackupStore } from './directory-backup-store.js';
import { S3BackupStore } from './s3-backup-store.js';
import { isS3Destination, parseS3Destination } from './s3-destination.js';

export interface BackupStoreSettings {
  /** The operator's root for directory destinations; '' refuses them. */
  readonly backupDir: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

export function openBackupStore(destination: string, settings: BackupStoreSettings): BackupStore {
  if (isS3Destination(destination)) return new S3BackupStore(parseS3Destination(destination));
  const scheme = SCHEME.exec(destination)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'file') throw new BackupDestinationUnsupportedError(destination, scheme);
  let relative = scheme === 'file' ? destination.slice('file:'.length) : destination;
  // file://relative/path and file:relative/path name the same directory; file:/// would
  // name an absolute one, which checkBackupPath refuses.
  if (relative.startsWith('//')) relative = relative.slice(2);
  if (relative.endsWith('/')) relative = relative.slice(0, -1);
  const segments = checkBackupPath(relative, destination);
  if (settings.backupDir === '') throw new BackupDirNotConfiguredError();
  const root = resolve(settings.backupDir);
  const directory = join(root, ...segments);
  // checkBackupPath already refuses every way out; this is the positive check (style point 6).
  if (directory !== root && !directory.startsWith(`${root}/`)) throw new BackupDestinationInvalidError(destination, 'outside the backup directory');
  return new DirectoryBackupStore(directory);
}
