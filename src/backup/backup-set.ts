// A complete backup set in a store, for restore: found by its manifest (the newest one
// or the one named), verified whole before anything is written (every snapshot file's
// length, SHA-256, format version and frames against the manifest), then read frame by
// frame. Damage is reported as BACKUP_CORRUPT naming the file and the reason.
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
      const hash = createHash('sha256');
      let bytes = 0;
      const hashed = async function* (chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
        for await (const chunk of chunks) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      };
      let records = 0;
      for await (const frame of readSnapshotFrames(hashed(this.store.read(member.file)), member.file)) records += frame.records.length;
      if (bytes !== member.bytes) throw new BackupCorruptError(member.file, `${bytes} bytes; the manifest says ${member.bytes} (truncated or appended to)`);
      const sha256 = hash.digest('hex');
      if (sha256 !== member.sha256) throw new BackupCorruptError(member.file, `SHA-256 ${sha256} does not match the manifest's ${member.sha256}`);
      if (records !== member.records) throw new BackupCorruptError(member.file, `${records} records; the manifest says ${member.records}`);
      done += 1;
      onFile(done, bytes);
    }
  }

  /** The frames of one file, checked again as they are read (the store may change under us). */
  frames(member: MemberSnapshot): AsyncGenerator<SnapshotFrame> {
    return readSnapshotFrames(this.store.read(member.file), member.file);
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
