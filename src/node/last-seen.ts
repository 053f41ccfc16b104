// The node's "last seen alive" time, for tombstone safety
// (docs/operations/reliability.md, "Tombstones and long outages"). A tombstone is purged
// a grace period after the delete; a replica that was down for longer than that may
// still hold the deleted value, and once its peers have purged the tombstone nothing
// would tell it the value is dead — repair would copy the value back. So the node writes
// the time to `<data dir>/last-seen` every minute and at shutdown, and at start refuses
// (or, when the operator allows it, warns and repairs at once) when the file is older
// than the grace period.
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.js';

const FILE_NAME = 'last-seen';

/** The recorded time (ms since the epoch), or undefined for a new data directory. */
export async function readLastSeenMs(dataDir: string): Promise<number | undefined> {
  const text = await readFileIfExists(join(dataDir, FILE_NAME));
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  // A damaged file says nothing; treat it as unknown rather than refuse to start.
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Records `nowMs` durably and atomically (src/fs/atomic-file.ts). */
export async function writeLastSeenMs(dataDir: string, nowMs: number): Promise<void> {
  await writeFileAtomic(join(dataDir, FILE_NAME), `${nowMs}\n`);
}
