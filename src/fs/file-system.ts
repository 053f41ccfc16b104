// The file-system port: every file the node writes for durability (the WAL, the hint
// logs, the small state files written whole by atomic-file.ts) goes through it. The
// default adapter is node:fs. Tests pass adapters that tear writes, fail syncs, or
// forget on a simulated power cut everything that was not synced
// (power-cut-file-system.ts); docs/style.md point 13, ADR 0125.
//
// What is durable is what a sync made durable, and nothing else: a file's bytes after
// `datasync`/`sync` on its handle, or after a `writeAll` that resolved on a handle that
// `writesThrough`; a created, renamed or removed name after `syncDirectory` on the
// directory holding it (a new directory's own name included, which lives in its parent).
// LMDB does its own I/O and is outside this port (ADR 0126).
import * as fs from 'node:fs';

export interface OpenForWriteOptions {
  /** The mode a created file is made with (the umask applies); 0o666 when absent. */
  readonly mode?: number;
  /**
   * Asks for a handle that writes through: see `FileHandle.writesThrough`. An adapter
   * that cannot may give a plain handle; the caller reads `writesThrough` to know.
   */
  readonly writeThrough?: boolean;
}

export interface FileHandle {
  /**
   * True when every `writeAll` on this handle resolves only once the bytes it wrote and
   * the file's length are durable, exactly as that `writeAll` followed by `datasync`
   * would leave them (node:fs: the descriptor is opened with O_DSYNC; ADR 0262). Bytes
   * written before, by another handle, are not covered. A caller that needs durability
   * and finds it false must call `datasync` itself.
   */
  readonly writesThrough: boolean;
  /**
   * Writes the whole buffer at `position`, looping over short writes. Once the promise
   * settles (resolved or rejected) nothing reads `bytes` any more: the WAL refills the
   * buffer of a written group with the next group's frames (ADR 0252), so an adapter
   * that writes later (a queue, a deferred copy) must copy the bytes first. On a handle
   * that `writesThrough`, a resolved write is durable; a rejected one may have left any
   * part of its bytes, durable or not.
   */
  writeAll(bytes: Buffer, position: number): Promise<void>;
  /** fdatasync: the file's bytes and length survive a crash. */
  datasync(): Promise<void>;
  /** fsync: as datasync, with the rest of the file's metadata (its mode). */
  sync(): Promise<void>;
  /** Sets the mode exactly (the umask may have narrowed the one given at creation). */
  chmod(mode: number): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  /**
   * Opens for writing. With `create` the file must not exist yet (O_EXCL) and is made
   * with `options.mode`; without, it must exist.
   */
  openForWrite(path: string, create: boolean, options?: OpenForWriteOptions): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  listDirectory(dir: string): Promise<string[]>;
  /** Creates the directory and any missing parents; their names are not yet durable. */
  makeDirectory(dir: string): Promise<void>;
  /** Removes a file; a missing one is no error. */
  remove(path: string): Promise<void>;
  /** Replaces `to` with `from` in one step (rename(2)). */
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** fsync on the directory, so that created, renamed and removed names survive a crash. */
  syncDirectory(dir: string): Promise<void>;
}

/**
 * A file descriptor with node:fs's callback calls rather than a `fs.promises` FileHandle:
 * the promise API's machinery around each call (request objects, promise bookkeeping)
 * cost 20–40 µs of CPU per WAL group on the development machine beside the thread-pool
 * round trips themselves. A descriptor opened with O_DSYNC writes through: one round trip
 * per WAL group under fsync=always instead of a write and an fdatasync (ADR 0262).
 */
class NodeFileHandle implements FileHandle {
  constructor(
    private readonly fd: number,
    readonly writesThrough: boolean,
  ) {}

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

  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.fsync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  chmod(mode: number): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.fchmod(this.fd, mode, (error) => (error ? reject(error) : resolve())));
  }

  truncate(length: number): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.ftruncate(this.fd, length, (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return new Promise<void>((resolve, reject) => fs.close(this.fd, (error) => (error ? reject(error) : resolve())));
  }
}

const { O_CREAT, O_DSYNC, O_EXCL, O_RDWR, O_WRONLY } = fs.constants;

export const nodeFileSystem: FileSystem = {
  openForWrite(path, create, options = {}) {
    const writeThrough = options.writeThrough === true;
    // The flags 'wx' and 'r+' stood for before write-through existed, plus O_DSYNC.
    const flags = (create ? O_WRONLY | O_CREAT | O_EXCL : O_RDWR) | (writeThrough ? O_DSYNC : 0);
    return new Promise<FileHandle>((resolve, reject) =>
      fs.open(path, flags, options.mode ?? 0o666, (error, fd) => (error ? reject(error) : resolve(new NodeFileHandle(fd, writeThrough)))),
    );
  },
  readFile: (path) => fs.promises.readFile(path),
  listDirectory: (dir) => fs.promises.readdir(dir),
  async makeDirectory(dir) {
    await fs.promises.mkdir(dir, { recursive: true });
  },
  remove: (path) => fs.promises.rm(path, { force: true }),
  rename: (from, to) => fs.promises.rename(from, to),
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
