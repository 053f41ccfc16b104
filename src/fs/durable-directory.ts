// Creating a directory durably. mkdir puts the new name in the parent directory, and
// that name survives a power cut only once the parent is synced; a WAL segment synced
// in a directory whose own name was lost is lost with it. The parent is synced even
// when the directory already exists: an earlier start may have created it and lost
// power before its sync, and nothing else would ever sync that name (ADR 0125).
import { dirname, resolve } from 'node:path';
import type { FileSystem } from './file-system.js';

/** Creates `dir` and its missing parents, and syncs the parent of each of them. */
export async function makeDirectoryDurable(fileSystem: FileSystem, dir: string): Promise<void> {
  // The highest directory this call may create: its parent exists already.
  let top = resolve(dir);
  while (!(await fileSystem.exists(dirname(top)))) top = dirname(top);
  await fileSystem.makeDirectory(dir);
  for (let at = resolve(dir); ; at = dirname(at)) {
    await fileSystem.syncDirectory(dirname(at));
    if (at === top) break;
  }
}
