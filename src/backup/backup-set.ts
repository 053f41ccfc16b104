// A complete backup set in a store, for restore: found by its manifest (the newest one
// or the one named), verified whole before anything is written (every snapshot file's
// length, SHA-256, format version and frames against the manifest), then read frame by
// frame, each file checked whole against the manifest again at its end (the store may
// have changed since). Damage is reported as BACKUP_CORRUPT naming the file and the reason.
import { createHash } from 'node:crypto';
import { BackupCorruptError, BackupNotFoundError } from '../errors/errors.js';
import { BACKUP_MANIFEST_BYTES_MAX } from '../limits.js';
import { checkBackupPath } from './backup-path.js';
import { MANIFEST_NAME, parseManifest, type BackupManifest, type MemberSnapshot } from './backup-manifest.js';
import type { BackupStore } from './backup-store.js';
import { readSnapshotFrames, type SnapshotFrame } from './snapshot-file.js';

export class BackupSet {
  private constructor(
    private readonly store: BackupStore,
    readonly manifest: BackupManifest,
  ) {}

  /** The set `backupId`, or the newest complete one when it is ''. */
  static async open(store: BackupStore, backupId: string): Promise<BackupSet> {
    if (backupId !== '') checkBackupPath(backupId);
    const manifests = (await store.list(backupId === '' ? '' : `${backupId}/`)).filter((name) => name.endsWith(`/${MANIFEST_NAME}`) && name.split('/').length === 2);
    const name = manifests.at(-1);
    if (name === undefined) {
      throw new BackupNotFoundError(backupId === '' ? `${store.describe()} holds no complete backup set (no <backup id>/${MANIFEST_NAME})` : `${store.describe()} holds no complete backup set ${backupId}`);
    }
    const bytes = await readAll(store.read(name), BACKUP_MANIFEST_BYTES_MAX, name);
    const manifest = parseManifest(bytes, name);
    if (`${manifest.backupId}/${MANIFEST_NAME}` !== name) throw new BackupCorruptError(name, `it names the set ${manifest.backupId}, not the one it is in`);
    return new BackupSet(store, manifest);
  }

  get files(): readonly MemberSnapshot[] {
    return this.manifest.members;
  }

  /**
   * Reads every file whole and checks it against the manifest; `onFile` after each.
   * Throws BACKUP_CORRUPT for the first damaged file.
   */
  async verify(onFile: (done: number, bytes: number) => void): Promise<void> {
    let done = 0;
    for (const member of this.files) {
      const read = new CheckedRead(member);
      for await (const frame of read.frames(this.store)) void frame;
      read.checkEnd(false);
      done += 1;
      onFile(done, member.bytes);
    }
  }

  /**
   * The frames of one file, checked again as they are read: each frame's CRC, and at its
   * end its length, record count and SHA-256 against the manifest. The store may change
   * between verify and this read (another writer, a bucket's lifecycle rule): a file cut
   * at a frame boundary, or replaced by other whole frames, must fail the restore rather
   * than leave its missing or altered records out while the restore reports success.
   */
  async *frames(member: MemberSnapshot): AsyncGenerator<SnapshotFrame> {
    const read = new CheckedRead(member);
    try {
      yield* read.frames(this.store);
    } catch (error) {
      // A frame damaged since verification: the frames before it may be applied already.
      if (error instanceof BackupCorruptError) throw new BackupCorruptError(error.file, error.reason, { partlyRestored: true });
      throw error;
    }
    read.checkEnd(true);
  }
}

/** One read of a member's file: its frames, and what the manifest says of the whole. */
class CheckedRead {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private records = 0;

  constructor(private readonly member: MemberSnapshot) {}

  async *frames(store: BackupStore): AsyncGenerator<SnapshotFrame> {
    for await (const frame of readSnapshotFrames(this.hashed(store.read(this.member.file)), this.member.file)) {
      this.records += frame.records.length;
      yield frame;
    }
  }

  /** Throws BACKUP_CORRUPT when the file read is not the one the manifest describes. */
  checkEnd(restoring: boolean): void {
    const { file } = this.member;
    // Found during a restore, the records before the damage may have been written already.
    const when = restoring ? ' (found while restoring: it changed since it was verified)' : '';
    if (this.bytes !== this.member.bytes) throw new BackupCorruptError(file, `${this.bytes} bytes; the manifest says ${this.member.bytes} (truncated or appended to)${when}`, { partlyRestored: restoring });
    const sha256 = this.hash.digest('hex');
    if (sha256 !== this.member.sha256) throw new BackupCorruptError(file, `SHA-256 ${sha256} does not match the manifest's ${this.member.sha256}${when}`, { partlyRestored: restoring });
    if (this.records !== this.member.records) throw new BackupCorruptError(file, `${this.records} records; the manifest says ${this.member.records}${when}`, { partlyRestored: restoring });
  }

  private async *hashed(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      yield chunk;
    }
  }
}

async function readAll(chunks: AsyncIterable<Uint8Array>, bytesMax: number, name: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (bytes > bytesMax) throw new BackupCorruptError(name, `larger than ${bytesMax} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
