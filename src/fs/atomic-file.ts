// Files replaced whole and atomically: a new temporary file (exclusive, a random name so
// two writers never share one, created with its final mode) is written and synced,
// renamed over the old one, and the directory synced, so a crash leaves either the old
// or the new content and a reader never sees half of it. Used for the small state files
// of the data directory (ring states, streaming progress, held ranges) and for
// certificates and keys (src/security/certificate-files.ts).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Mode of a file nobody else needs to write: readable by all, written by its owner. */
export const SHARED_FILE_MODE = 0o644;

export async function writeFileAtomic(path: string, text: string, mode: number = SHARED_FILE_MODE): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      await handle.writeFile(text);
      // The umask may have narrowed the mode; the file must end up with exactly `mode`.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncPath(dirname(path));
}

/** The file's text, or undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
