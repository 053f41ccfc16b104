// A file system in memory that can lose power (ADR 0125). It keeps, for every file, the
// bytes as of the last datasync/sync of that file and, for every directory, its
// entries as of the last sync of that directory; `powerCut()` throws everything else
// away, as a machine that loses power does: unsynced writes, unsynced creates, renames
// and removes. A crash test runs the storage engine on it, cuts the power at any step,
// and sees exactly what the code's syncs made durable (test/storage/power-cut.test.ts).
//
// The model is the strict one POSIX promises and ext4/xfs come close to: a synced file
// whose name was never synced in its directory is gone; a rename not followed by a sync
// of the directory may come back as the old name. Files are inodes, so a renamed file
// keeps its synced bytes. Unsynced bytes are all dropped (a real disk may keep some,
// which this model shows only when asked: the `tornWriteBytes` fault keeps the first
// bytes of the write the power goes at, so a crash test sees the torn tail a real cut
// in the middle of a write can leave; test/storage/wal-damage.test.ts has more).
//
// A handle opened to write through (O_DSYNC, ADR 0262) makes each write's own bytes and
// the file's new length durable when the write returns, and nothing else: bytes written
// before it without a sync stay unsynced, and read back as zeros after a cut if they lie
// below its end. A write through counts as a file sync for the fault knobs, so a test can
// make the disk drop one.
//
// Each `fileSystem()` view belongs to one power cycle: after a cut the old view and its
// open handles refuse every call, like the processes of a dead machine, so a writer that
// is still running cannot touch the disk the next start reads. Fault knobs make the disk
// lie about syncs, so a test can prove the checker catches a missing one.
import assert from 'node:assert/strict';
import { basename, dirname, resolve } from 'node:path';
import type { FileHandle, FileSystem, OpenForWriteOptions } from './file-system.js';

interface FileNode {
  readonly kind: 'file';
  /** What a read sees now. */
  content: Buffer;
  /** What survives a power cut: the content at the last sync. */
  synced: Buffer;
}

interface DirectoryNode {
  readonly kind: 'directory';
  /** What a listing sees now. */
  entries: Map<string, Node>;
  /** What survives a power cut: the entries at the last sync of this directory. */
  synced: Map<string, Node>;
}

type Node = FileNode | DirectoryNode;

export interface PowerCutFaults {
  /** Called with the number (from 0) of each file sync; true makes the disk skip it and report success. */
  readonly skipFileSync?: (syncNumber: number) => boolean;
  /** True makes the disk skip the sync of this directory and report success. */
  readonly skipDirectorySync?: (dir: string) => boolean;
  /**
   * When the power goes at a `writeAll`, how many of its first bytes (0 to its length)
   * reached the durable copy all the same: a real disk writes a write's pages back one
   * by one, an O_DSYNC write's included, and the power can go between them. Without
   * this knob such a write leaves nothing, and the model never shows a torn tail.
   */
  readonly tornWriteBytes?: (writeBytes: number) => number;
}

export interface PowerCutDiskOptions {
  /** Directories that exist, durably, before anything runs (the data directory's parents). */
  readonly directories: readonly string[];
  /** Cuts the power by itself at the step with this number (from 0), unless cut before; see `steps`. */
  readonly cutAtStep?: number;
  readonly faults?: PowerCutFaults;
}

/** What every call on a view or handle from before the last power cut throws. */
export class PowerCutError extends Error {
  readonly code = 'EIO';
  constructor() {
    super('the power was cut: this file system view and its handles are gone');
  }
}

function fileSystemError(code: 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR', path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

export class PowerCutDisk {
  private root: DirectoryNode = { kind: 'directory', entries: new Map(), synced: new Map() };
  private cycle = 0;
  private stepCount = 0;
  private fileSyncCount = 0;
  private cutCount = 0;
  /** The automatic cut of `cutAtStep` is still to come; any cut disarms it. */
  private cutArmed: boolean;

  constructor(private readonly options: PowerCutDiskOptions) {
    this.cutArmed = options.cutAtStep !== undefined;
    for (const dir of options.directories) {
      let node = this.root;
      for (const name of resolve(dir).split('/').filter((part) => part !== '')) {
        let child = node.entries.get(name);
        if (child === undefined) {
          child = { kind: 'directory', entries: new Map(), synced: new Map() };
          node.entries.set(name, child);
          node.synced.set(name, child);
        }
        assert.equal(child.kind, 'directory', `${dir} crosses a file`);
        node = child;
      }
    }
  }

  /** Mutating and syncing calls made so far, over every power cycle (reads do not count). */
  get steps(): number {
    return this.stepCount;
  }

  /** Power cuts so far, the automatic one of `cutAtStep` included. */
  get cuts(): number {
    return this.cutCount;
  }

  /** A file system on the disk for the current power cycle. */
  fileSystem(): FileSystem {
    return new PowerCutView(this, this.cycle);
  }

  /** Loses everything not synced; every view and handle made before stops working. */
  powerCut(): void {
    const rebuilt = new Map<Node, Node>();
    const survive = (node: Node): Node => {
      const known = rebuilt.get(node);
      if (known !== undefined) return known;
      if (node.kind === 'file') {
        const file: FileNode = { kind: 'file', content: Buffer.from(node.synced), synced: Buffer.from(node.synced) };
        rebuilt.set(node, file);
        return file;
      }
      const directory: DirectoryNode = { kind: 'directory', entries: new Map(), synced: new Map() };
      rebuilt.set(node, directory);
      for (const [name, child] of node.synced) {
        const kept = survive(child);
        directory.entries.set(name, kept);
        directory.synced.set(name, kept);
      }
      return directory;
    };
    this.root = survive(this.root) as DirectoryNode;
    this.cutArmed = false;
    this.cycle++;
    this.cutCount++;
  }

  /**
   * Counts a step of `cycle`'s view, cutting the power first when it is the chosen one;
   * `beforeCut` runs just before such a cut (what part of a write got out).
   */
  step(cycle: number, beforeCut?: () => void): void {
    this.checkPowered(cycle);
    const number = this.stepCount++;
    if (this.cutArmed && number === this.options.cutAtStep) {
      beforeCut?.();
      this.powerCut();
      throw new PowerCutError();
    }
  }

  /**
   * The power goes in the middle of writing `bytes` at `position`: the first bytes the
   * `tornWriteBytes` fault names reach the durable copy (zeros fill any gap up to them).
   */
  tearWrite(file: FileNode, bytes: Buffer, position: number): void {
    const kept = this.options.faults?.tornWriteBytes?.(bytes.length) ?? 0;
    assert.ok(Number.isInteger(kept) && kept >= 0 && kept <= bytes.length, `a torn write keeps 0 to ${bytes.length} bytes, not ${kept}`);
    if (kept === 0) return;
    const end = position + kept;
    if (end > file.synced.length) {
      const grown = Buffer.alloc(end);
      file.synced.copy(grown);
      file.synced = grown;
    }
    bytes.copy(file.synced, position, 0, kept);
  }

  checkPowered(cycle: number): void {
    if (cycle !== this.cycle) throw new PowerCutError();
  }

  syncFile(file: FileNode): void {
    const number = this.fileSyncCount++;
    if (this.options.faults?.skipFileSync?.(number) === true) return;
    file.synced = Buffer.from(file.content);
  }

  /**
   * A write through: the bytes from `position` to `end` and the length `end` reach the
   * durable copy, what lies between its old end and `position` stays as the durable copy
   * had it (zeros past its end). A later sync of the whole file still wins.
   */
  syncFileRange(file: FileNode, position: number, end: number): void {
    const number = this.fileSyncCount++;
    if (this.options.faults?.skipFileSync?.(number) === true) return;
    if (end > file.synced.length) {
      const grown = Buffer.alloc(end);
      file.synced.copy(grown);
      file.synced = grown;
    }
    file.content.copy(file.synced, position, position, end);
  }

  syncDirectory(dir: string, node: DirectoryNode): void {
    if (this.options.faults?.skipDirectorySync?.(dir) === true) return;
    node.synced = new Map(node.entries);
  }

  /** The node at `path`, or undefined. */
  lookup(path: string): Node | undefined {
    let node: Node = this.root;
    for (const name of resolve(path).split('/').filter((part) => part !== '')) {
      if (node.kind !== 'directory') return undefined;
      const child: Node | undefined = node.entries.get(name);
      if (child === undefined) return undefined;
      node = child;
    }
    return node;
  }

  directory(path: string): DirectoryNode {
    const node = this.lookup(path);
    if (node === undefined) throw fileSystemError('ENOENT', path);
    if (node.kind !== 'directory') throw fileSystemError('ENOTDIR', path);
    return node;
  }

  file(path: string): FileNode {
    const node = this.lookup(path);
    if (node === undefined) throw fileSystemError('ENOENT', path);
    if (node.kind !== 'file') throw fileSystemError('EISDIR', path);
    return node;
  }
}

class PowerCutHandle implements FileHandle {
  private closed = false;

  constructor(
    private readonly disk: PowerCutDisk,
    private readonly cycle: number,
    private readonly file: FileNode,
    readonly writesThrough: boolean,
  ) {}

  async writeAll(bytes: Buffer, position: number): Promise<void> {
    this.use(() => this.disk.tearWrite(this.file, bytes, position));
    const end = position + bytes.length;
    if (end > this.file.content.length) {
      const grown = Buffer.alloc(end);
      this.file.content.copy(grown);
      this.file.content = grown;
    }
    bytes.copy(this.file.content, position);
    if (this.writesThrough) this.disk.syncFileRange(this.file, position, end);
  }

  async datasync(): Promise<void> {
    this.use();
    this.disk.syncFile(this.file);
  }

  async sync(): Promise<void> {
    this.use();
    this.disk.syncFile(this.file);
  }

  async chmod(): Promise<void> {
    // Modes are not modelled: nothing the crash tests check depends on them.
    this.use();
  }

  async truncate(length: number): Promise<void> {
    this.use();
    const cut = Buffer.alloc(length);
    this.file.content.copy(cut, 0, 0, Math.min(length, this.file.content.length));
    this.file.content = cut;
  }

  async close(): Promise<void> {
    // Closing a descriptor of a machine that lost power is moot, and must not stop a
    // test from closing the rest (the LMDB store) after a cut.
    this.closed = true;
  }

  private use(beforeCut?: () => void): void {
    assert.ok(!this.closed, 'file handle used after close');
    this.disk.step(this.cycle, beforeCut);
  }
}

class PowerCutView implements FileSystem {
  constructor(
    private readonly disk: PowerCutDisk,
    private readonly cycle: number,
  ) {}

  async openForWrite(path: string, create: boolean, options: OpenForWriteOptions = {}): Promise<FileHandle> {
    this.disk.step(this.cycle);
    const writesThrough = options.writeThrough === true;
    if (!create) return new PowerCutHandle(this.disk, this.cycle, this.disk.file(path), writesThrough);
    const parent = this.disk.directory(dirname(path));
    if (parent.entries.has(basename(path))) throw fileSystemError('EEXIST', path);
    const file: FileNode = { kind: 'file', content: Buffer.alloc(0), synced: Buffer.alloc(0) };
    parent.entries.set(basename(path), file);
    return new PowerCutHandle(this.disk, this.cycle, file, writesThrough);
  }

  async readFile(path: string): Promise<Buffer> {
    this.disk.checkPowered(this.cycle);
    return Buffer.from(this.disk.file(path).content);
  }

  async listDirectory(dir: string): Promise<string[]> {
    this.disk.checkPowered(this.cycle);
    return [...this.disk.directory(dir).entries.keys()];
  }

  async makeDirectory(dir: string): Promise<void> {
    this.disk.step(this.cycle);
    const missing: string[] = [];
    let at = resolve(dir);
    while (this.disk.lookup(at) === undefined) {
      missing.unshift(at);
      at = dirname(at);
    }
    this.disk.directory(at);
    for (const path of missing) {
      this.disk.directory(dirname(path)).entries.set(basename(path), { kind: 'directory', entries: new Map(), synced: new Map() });
    }
  }

  async remove(path: string): Promise<void> {
    this.disk.step(this.cycle);
    const node = this.disk.lookup(path);
    if (node === undefined) return;
    if (node.kind !== 'file') throw fileSystemError('EISDIR', path);
    this.disk.directory(dirname(path)).entries.delete(basename(path));
  }

  async rename(from: string, to: string): Promise<void> {
    this.disk.step(this.cycle);
    const file = this.disk.file(from);
    const target = this.disk.directory(dirname(to));
    if (target.entries.get(basename(to))?.kind === 'directory') throw fileSystemError('EISDIR', to);
    this.disk.directory(dirname(from)).entries.delete(basename(from));
    target.entries.set(basename(to), file);
  }

  async copyFile(from: string, to: string): Promise<void> {
    this.disk.step(this.cycle);
    const content = Buffer.from(this.disk.file(from).content);
    const target = this.disk.directory(dirname(to));
    if (target.entries.get(basename(to))?.kind === 'directory') throw fileSystemError('EISDIR', to);
    target.entries.set(basename(to), { kind: 'file', content, synced: Buffer.alloc(0) });
  }

  async exists(path: string): Promise<boolean> {
    this.disk.checkPowered(this.cycle);
    return this.disk.lookup(path) !== undefined;
  }

  async syncDirectory(dir: string): Promise<void> {
    this.disk.step(this.cycle);
    this.disk.syncDirectory(resolve(dir), this.disk.directory(dir));
  }
}
