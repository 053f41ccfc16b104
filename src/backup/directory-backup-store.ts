// A BackupStore in a directory (a mounted volume, a PVC): each object is one file under
// the store's directory. A write goes to a temporary file (a random name, so two writers
// never share one), is synced, renamed into place and the directory synced: a reader
// sees the whole object or none, and a crash leaves at most a `.partial-*` file, which
// `list` never shows. Names are checked (backup-path.ts) before any path is built.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupNotFoundError } from '../errors/errors.js';
import { checkBackupPath } from './backup-path.js';
import type { BackupStore } from './backup-store.js';

const PARTIAL_PREFIX = '.partial-';

export class DirectoryBackupStore implements BackupStore {
  /** `directory` is trusted (the operator's root, or a checked path under it). */
  constructor(private readonly directory: string) {}

  async write(name: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const path = this.pathOf(name);
    await mkdir(dirname(path), { recursive: true });
    const partial = join(dirname(path), `${PARTIAL_PREFIX}${randomBytes(6).toString('hex')}`);
    const file = await open(partial, 'wx');
    try {
      for await (const chunk of body) await file.write(chunk);
      await file.sync();
    } catch (error) {
      await file.close();
      await rm(partial, { force: true });
      throw error;
    }
    await file.close();
    await rename(partial, path);
    await syncDirectory(dirname(path));
  }

  async *read(name: string): AsyncIterable<Uint8Array> {
    const path = this.pathOf(name);
    const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupNotFoundError(`${this.describe()} has no ${name}`);
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    await this.walk('', names);
    return names.filter((name) => name.startsWith(prefix)).sort();
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
  }

  describe(): string {
    return `directory ${this.directory}`;
  }

  private pathOf(name: string): string {
    const segments = checkBackupPath(name);
    if (segments.length === 0) throw new Error('an object name must not be empty');
    return join(this.directory, ...segments);
  }

  private async walk(relative: string, names: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.directory, relative), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(PARTIAL_PREFIX)) continue;
      const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
      // Symbolic links are not followed: a store holds what was written into it.
      if (entry.isDirectory()) await this.walk(name, names);
      else if (entry.isFile()) names.push(name);
    }
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
