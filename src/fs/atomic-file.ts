// Files replaced whole and atomically: a new temporary file (exclusive, a random name so
// two writers never share one, created with its final mode) is written and synced,
// renamed over the old one, and the directory synced, so a crash leaves either the old
// or the new content and a reader never sees half of it. Used for the small state files
// of the data directory (ring states, streaming progress, held ranges) and for
// certificates and keys (src/security/certificate-files.ts). The file operations go
// through the file-system port, so a power-cut test can see which of them are synced.
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { nodeFileSystem, type FileSystem } from './file-system.js';

/** Mode of a file nobody else needs to write: readable by all, written by its owner. */
export const SHARED_FILE_MODE = 0o644;

export async function writeFileAtomic(path: string, text: string, mode: number = SHARED_FILE_MODE, fileSystem: FileSystem = nodeFileSystem): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fileSystem.openForWrite(temporary, true, { mode });
  try {
    try {
      await handle.writeAll(Buffer.from(text, 'utf8'), 0);
      // The umask may have narrowed the mode; the file must end up with exactly `mode`.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fileSystem.rename(temporary, path);
  } catch (error) {
    await fileSystem.remove(temporary).catch(() => undefined);
    throw error;
  }
  // Without this the rename is not durable: a power cut could bring back the old file.
  await fileSystem.syncDirectory(dirname(path));
}

/** The file's text, or undefined when it does not exist. */
export async function readFileIfExists(path: string, fileSystem: FileSystem = nodeFileSystem): Promise<string | undefined> {
  try {
    return (await fileSystem.readFile(path)).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
