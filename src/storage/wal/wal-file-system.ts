// The file operations the WAL needs, as a port. The default adapter is node:fs; tests
// pass one that tears writes or fails syncs (docs/style.md point 13: fault
// injection through the ports, test knobs as options, never globals).
import * as fs from 'node:fs';

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

/**
 * A file descriptor with node:fs's callback calls rather than a `fs.promises` FileHandle:
 * a WAL group commit is one write and one fdatasync, and the promise API's machinery
 * around each (request objects, promise bookkeeping) cost 20–40 µs of CPU per group on
 * the development machine beside ~100 µs for the two thread-pool round trips themselves.
 */
class NodeWalFileHandle implements WalFileHandle {
  constructor(private readonly fd: number) {}

  writeAll(bytes: Buffer, position: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let written = 0;
      const next = (): void => {
        fs.write(this.fd, bytes, written, bytes.length - written, position + written, (error, bytesWritten) => {
          if (error) return reject(error);
          written += bytesWritten;
          // A short write (a signal, a full disk's last bytes) continues where it stopped.
          if (written < bytes.length) next();
          else resolve();
        });
      };
      next();
    });
  }

  datasync(): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  truncate(length: number): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.ftruncate(this.fd, length, (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.close(this.fd, (error) => (error ? reject(error) : resolve())));
  }
}

export const nodeWalFileSystem: WalFileSystem = {
  openForWrite(path, create) {
    return new Promise<WalFileHandle>((resolve, reject) =>
      fs.open(path, create ? 'wx' : 'r+', (error, fd) => (error ? reject(error) : resolve(new NodeWalFileHandle(fd)))),
    );
  },
  readFile: (path) => fs.promises.readFile(path),
  listDirectory: (dir) => fs.promises.readdir(dir),
  async makeDirectory(dir) {
    await fs.promises.mkdir(dir, { recursive: true });
  },
  remove: (path) => fs.promises.rm(path, { force: true }),
  copyFile: (from, to) => fs.promises.copyFile(from, to),
  async exists(path) {
    try {
      await fs.promises.access(path);
      return true;
    } catch {
      return false;
    }
  },
  async syncDirectory(dir) {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
