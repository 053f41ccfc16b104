// The names a caller may give for what lives under a backup root: a destination
// directory (`daily`, `team-a/nightly`) and the object names inside a store
// (`<backup id>/manifest.json`). Relative, '/'-separated, of a small alphabet, with no
// empty, '.' or '..' segment, so no name a caller sends can reach outside the root the
// operator configured (docs/decisions/0142-backup-store-port.md).
import { BackupDestinationInvalidError } from '../errors/errors.js';
import { BACKUP_PATH_CHARS_MAX } from '../limits.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Checks a relative path under a backup root and returns its segments; "" is the root
 * itself (no segments). Throws BACKUP_DESTINATION_INVALID naming what is wrong.
 */
export function checkBackupPath(path: string, what = path): string[] {
  if (path.length > BACKUP_PATH_CHARS_MAX) throw new BackupDestinationInvalidError(what, `longer than ${BACKUP_PATH_CHARS_MAX} characters`);
  if (path === '') return [];
  if (path.startsWith('/') || path.startsWith('\\')) throw new BackupDestinationInvalidError(what, 'an absolute path; name a directory relative to the node\'s --backup-dir');
  const segments = path.split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') throw new BackupDestinationInvalidError(what, `the segment "${segment}" would leave the backup directory`);
    if (!SEGMENT.test(segment)) throw new BackupDestinationInvalidError(what, `the segment ${JSON.stringify(segment)} must be letters, digits, '.', '_' and '-', not starting with '.' or '-'`);
  }
  return segments;
}
