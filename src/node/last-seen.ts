// The node's "last seen alive" time, for tombstone safety (README "Tombstones and long
// outages"). A tombstone is purged a grace period after the delete; a replica that was
// down for longer than that may still hold the deleted value, and once its peers have
// purged the tombstone nothing would tell it the value is dead — repair would copy the
// value back. So the node writes the time to `<data dir>/last-seen` every minute and at
// shutdown, and at start refuses (or, when the operator allows it, warns and repairs at
// once) when the file is older than the grace period.
import { readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';

const FILE_NAME = 'last-seen';

/** The recorded time (ms since the epoch), or undefined for a new data directory. */
export async function readLastSeenMs(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE_NAME), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = Number(text.trim());
  // A damaged file says nothing; treat it as unknown rather than refuse to start.
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Records `nowMs` durably: a temporary file, fsync, then rename over the old one. */
export async function writeLastSeenMs(dataDir: string, nowMs: number): Promise<void> {
  const path = join(dataDir, FILE_NAME);
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${nowMs}\n`);
  const handle = await open(temporary, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}
