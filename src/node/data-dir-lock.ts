// Keeps two node processes off one data directory: the WAL has one writer, and a
// second process appending to it would interleave frames. The lock is a file holding
// the owner's pid, created exclusively. A lock left by a process that no longer runs
// (kill -9, power loss) is taken over, so a crashed node restarts without help.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { QkvError } from '../errors/errors.js';

const LOCK_FILE = 'qkv.lock';

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dir: string): Promise<DataDirLock> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
        await handle.close();
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
          throw new QkvError('CONFIG_INVALID', `data directory ${dir} is in use by process ${owner}`);
        }
        await rm(path, { force: true });
      }
    }
    throw new QkvError('CONFIG_INVALID', `could not lock data directory ${dir}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
