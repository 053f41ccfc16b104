// Keeps two node processes off one data directory: the WAL has one writer, and a
// second process appending to it would interleave frames. The lock is a file holding
// the owner's pid and start time, created exclusively. A lock left by a process that no
// longer runs (kill -9, power loss) is taken over, so a crashed node restarts without
// help. On Linux "runs" is read from /proc/<pid>/stat: a zombie does not count, and a
// start time that differs means the pid was reused by an unrelated process. Elsewhere
// the check falls back to signal 0, which errs on the side of "in use".
import { readFileSync } from 'node:fs';
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
        await handle.writeFile(`${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
        await handle.sync();
        await handle.close();
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const [pidText = '', startTime = ''] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
        const owner = Number(pidText);
        if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner, startTime)) {
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

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

/** State and start time (clock ticks since boot) of a Linux process; undefined when unknown. */
function procStat(pid: number): ProcStat | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    try {
      readFileSync('/proc/self/stat', 'utf8');
      return 'gone'; // /proc works, so the process does not exist
    } catch {
      return undefined; // no /proc here
    }
  }
  // The command name (field 2) is in parentheses and may hold spaces; count after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

function startTimeOf(pid: number): string | undefined {
  const stat = procStat(pid);
  return typeof stat === 'object' ? stat.startTime : undefined;
}

function isRunning(pid: number, startTime: string): boolean {
  const stat = procStat(pid);
  if (stat === 'gone') return false;
  if (stat !== undefined) {
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return startTime === '' || stat.startTime === startTime;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
