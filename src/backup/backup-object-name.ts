// What a backup file's name may be, the same for every store: relative, `/`-separated,
// without `.` or `..` segments, empty segments or control characters, and bounded. A
// name is a key in an object store and a path below the directory store's root, so this
// keeps a name from leaving its store in either.

import { InvalidArgumentError } from '../errors/errors.js';
import { BACKUP_OBJECT_NAME_BYTES_MAX } from '../limits.js';

/** Throws INVALID_ARGUMENT, naming the rule, for a name no store may hold. */
export function checkBackupObjectName(name: string): void {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`backup file name ${JSON.stringify(name.slice(0, 80))}: ${why}`);
  };
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) fail('is empty');
  if (bytes > BACKUP_OBJECT_NAME_BYTES_MAX) fail(`is ${bytes} bytes; the limit is ${BACKUP_OBJECT_NAME_BYTES_MAX}`);
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u001f\u007f\\]/.test(name)) fail('contains a control character or a backslash');
  for (const segment of name.split('/')) {
    if (segment === '') fail('has an empty segment (a leading, trailing or double /)');
    if (segment === '.' || segment === '..') fail('has a . or .. segment');
  }
}

/** A list prefix is a name's beginning: '' or anything a name could start with. */
export function checkBackupListPrefix(prefix: string): void {
  if (prefix === '') return;
  // A prefix ending in '/' is the beginning of a longer name; check it with a stand-in end.
  checkBackupObjectName(prefix.endsWith('/') ? `${prefix}x` : prefix);
}
