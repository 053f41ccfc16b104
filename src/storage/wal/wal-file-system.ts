// The file operations the WAL needs, as a port. The default adapter is node:fs; tests
// pass one that tears writes or fails syncs (../shared/STYLE.md point 13: fault
// injection through the ports, test knobs as options, never globals).
import { promises as fs } from 'node:fs';

export interface WalFileHandle {
  /** Writes the whole buffer at `position`, looping over short writes. */
  writeAll(bytes: Buffer, position: number): Promise<void>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface WalFileSystem {
  /** Opens for writing, creating the file when `create` is set. */
  openForWrite(path: string, create: boolean): Promise<WalFileHandle>;
  readFile(path: string): Promise<Buffer>;
  listDirectory(dir: string): Promise<string[]>;
  makeDirectory(dir: string): Promise<void>;
  remove(path: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** fsync on the directory, so that created and removed names survive a crash. */
  syncDirectory(dir: string): Promise<void>;
}

class NodeWalFileHandle implements WalFileHandle {
  constructor(private readonly handle: fs.FileHandle) {}

  async writeAll(bytes: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, position + written);
      written += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const nodeWalFileSystem: WalFileSystem = {
  async openForWrite(path, create) {
    return new NodeWalFileHandle(await fs.open(path, create ? 'wx' : 'r+'));
  },
  readFile: (path) => fs.readFile(path),
  listDirectory: (dir) => fs.readdir(dir),
  async makeDirectory(dir) {
    await fs.mkdir(dir, { recursive: true });
  },
  remove: (path) => fs.rm(path, { force: true }),
  copyFile: (from, to) => fs.copyFile(from, to),
  async exists(path) {
    try {
      await fs.access(path);
      return true;
    } catch {
      return false;
    }
  },
  async syncDirectory(dir) {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
