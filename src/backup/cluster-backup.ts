// One backup set of the whole cluster (docs/operations/backup.md): for each member of
// the rings, in turn, the member's snapshot (docs/decisions/0140-logical-node-snapshots.md)
// is read over the replica port's Scan, page by page over the whole token ring, and
// written as one snapshot file; then the manifest, which makes the set exist. Writes go
// on meanwhile, nothing pauses: a record acknowledged before the backup started is in
// the set (in the version it had, or a later one), a record written meanwhile is there
// or not, and every record in the set is one that was written.
//
// The pace is bounded (a ByteThrottle over the snapshot bytes, like range streaming), and
// progress is reported per page.
//
// A member that cannot be read (down, unreachable, its scan fails midway) is left out
// when every token range still has a replica that was read
// (docs/decisions/0245-backup-with-members-missing.md): its partial file is removed, the
// manifest names it in missingMembers, and progress and the report name it. The other
// replicas' files hold every record acknowledged at W by at least one replica that was
// read. When some range has no replica left, or the store fails, or the caller asked for
// every member (requireAllMembers), the backup fails (BACKUP_FAILED): the files written
// so far are removed and no manifest is written.
import { createHash } from 'node:crypto';
import { BackupFailedError, isQkvError } from '../errors/errors.js';
import { BACKUP_MISSING_REASON_CHARS_MAX, BACKUP_PEER_CALL_TIMEOUT_MS, BACKUP_PROGRESS_INTERVAL_MS, BACKUP_SCAN_PAGE_RECORDS } from '../limits.js';
import type { PeerTransport } from '../replica/peer-transport.js';
import type { OwnedRange } from '../ring/hash-ring.js';
import { FULL_RING } from '../ring/token-range.js';
import type { ScanCursor } from '../storage/storage-engine.js';
import type { ByteThrottle } from '../streaming/byte-throttle.js';
import { encodeManifest, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, MANIFEST_NAME, type MemberSnapshot, type MissingMember } from './backup-manifest.js';
import type { BackupStore } from './backup-store.js';
import { describeUncovered, rangesWithoutReplica } from './replica-coverage.js';
import { encodeSnapshotFrame, snapshotHeader, SNAPSHOT_FORMAT_VERSION } from './snapshot-file.js';

export interface BackupProgress {
  readonly backupId: string;
  /** The member being read; '' once all are. */
  readonly member: string;
  readonly membersDone: number;
  readonly membersTotal: number;
  /** Members that could not be read and are left out, in the order they were tried. */
  readonly missingMembers: readonly MissingMember[];
  readonly records: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export interface ClusterBackupOptions {
  readonly store: BackupStore;
  /** The node running the backup. */
  readonly coordinator: string;
  /** Every member to back up: the members of the read and write rings. */
  readonly members: readonly string[];
  /** Every range of the read ring with its replicas: whom a missing member's ranges still have. */
  readonly ranges: readonly OwnedRange[];
  readonly ringDigest: string;
  readonly replicationFactor: number;
  readonly vnodes: number;
  /** Fail instead of leaving out a member that cannot be read (`qkv backup --require-all-members`). */
  readonly requireAllMembers?: boolean;
  /** Scan of a member's records; the node's transport (its own records without a hop). */
  readonly transport: Pick<PeerTransport, 'scan'>;
  /** The coordinator's hybrid logical clock. */
  readonly stamp: () => bigint;
  readonly throttle: ByteThrottle;
  readonly onProgress: (progress: BackupProgress) => void;
  readonly signal?: AbortSignal;
  readonly nowMs?: () => number;
}

/** What a caller of Backup chooses (BackupRequest). */
export type BackupOptions = Pick<ClusterBackupOptions, 'requireAllMembers'>;

export interface BackupReport extends BackupProgress {
  readonly location: string;
}

/** `qkv-20261206T040102123Z`: sorts by time, names a directory anywhere. */
export function newBackupId(nowMs: number): string {
  return `qkv-${new Date(nowMs).toISOString().replace(/[-:.]/g, '')}`;
}

export async function runClusterBackup(options: ClusterBackupOptions): Promise<BackupReport> {
  const { store, members, transport, throttle, signal } = options;
  const nowMs = options.nowMs ?? Date.now;
  const startedMs = nowMs();
  const backupId = newBackupId(startedMs);
  // Taken before any member is read: every write acknowledged before this moment was
  // applied by its replicas before their scans began.
  const startStamp = options.stamp();
  let records = 0;
  let bytes = 0;
  let member = '';
  let membersDone = 0;
  let lastReportMs = 0;
  const missingMembers: MissingMember[] = [];
  const progress = (done: boolean): BackupProgress => ({ backupId, member, membersDone, membersTotal: members.length, missingMembers: [...missingMembers], records, bytes, elapsedMs: nowMs() - startedMs, done });
  const report = (force: boolean): void => {
    if (!force && nowMs() - lastReportMs < BACKUP_PROGRESS_INTERVAL_MS) return;
    lastReportMs = nowMs();
    options.onProgress(progress(false));
  };

  const snapshots: MemberSnapshot[] = [];
  const written: string[] = [];
  try {
    for (const nodeId of members) {
      member = nodeId;
      report(true);
      const file = `${backupId}/${nodeId}.snap`;
      const hash = createHash('sha256');
      let fileRecords = 0;
      let fileBytes = 0;
      // Set when the member's scan failed, so that a failure of the store (which fails
      // the backup) is told apart from the member's (which may leave it out).
      let memberFailure: unknown;
      async function* snapshotBody(): AsyncGenerator<Buffer> {
        const header = snapshotHeader();
        hash.update(header);
        fileBytes += header.length;
        yield header;
        let cursor: ScanCursor | undefined;
        do {
          signal?.throwIfAborted();
          let page;
          try {
            page = await transport.scan(nodeId, FULL_RING, BACKUP_SCAN_PAGE_RECORDS, cursor, { deadlineMs: Date.now() + BACKUP_PEER_CALL_TIMEOUT_MS });
          } catch (error) {
            memberFailure = error;
            throw error;
          }
          cursor = page.resumeAfter;
          if (page.records.length === 0) continue;
          const frame = encodeSnapshotFrame(page.records);
          await throttle.take(frame.length, signal);
          hash.update(frame);
          fileRecords += page.records.length;
          fileBytes += frame.length;
          records += page.records.length;
          bytes += frame.length;
          yield frame;
          report(false);
        } while (cursor !== undefined);
      }
      written.push(file);
      const recordsBefore = records;
      const bytesBefore = bytes;
      try {
        await store.write(file, snapshotBody());
      } catch (error) {
        if (memberFailure === undefined || signal?.aborted === true) {
          throw new BackupFailedError(`reading ${nodeId} or writing ${file} to ${store.describe()}: ${errorText(error)}`, { cause: error });
        }
        if (options.requireAllMembers === true) {
          throw new BackupFailedError(`could not read ${nodeId} (${errorText(memberFailure).slice(0, BACKUP_MISSING_REASON_CHARS_MAX)}), and every member was required`, { cause: memberFailure });
        }
        // The member could not be read: its partial file goes, its records leave the
        // totals, and the backup goes on if every range still has a replica.
        await store.remove(file).catch(() => {});
        written.pop();
        records = recordsBefore;
        bytes = bytesBefore;
        missingMembers.push({ nodeId, reason: errorText(memberFailure).slice(0, BACKUP_MISSING_REASON_CHARS_MAX) });
        member = '';
        checkCoverage(options.ranges, missingMembers);
        membersDone += 1;
        report(true);
        continue;
      }
      snapshots.push({ nodeId, file, records: fileRecords, bytes: fileBytes, sha256: hash.digest('hex'), snapshotFormatVersion: SNAPSHOT_FORMAT_VERSION });
      membersDone += 1;
    }
    member = '';
    const manifest = encodeManifest({
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_FORMAT_VERSION,
      backupId,
      coordinator: options.coordinator,
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: new Date(nowMs()).toISOString(),
      startStamp: startStamp.toString(),
      ringDigest: options.ringDigest,
      replicationFactor: options.replicationFactor,
      vnodes: options.vnodes,
      members: snapshots,
      missingMembers,
    });
    try {
      await store.write(`${backupId}/${MANIFEST_NAME}`, once(manifest));
    } catch (error) {
      throw new BackupFailedError(`writing the manifest to ${store.describe()}: ${errorText(error)}`, { cause: error });
    }
  } catch (error) {
    // No manifest: the set does not exist for restore. Its files go too, so a failed
    // backup leaves no debris to pay for (best effort: the store may be what failed).
    await Promise.all(written.map((file) => store.remove(file).catch(() => {})));
    throw error;
  }
  return { ...progress(true), location: `${store.describe()} ${backupId}` };
}

/** Fails the backup when some range has no replica left to read (BACKUP_FAILED naming them). */
function checkCoverage(ranges: readonly OwnedRange[], missingMembers: readonly MissingMember[]): void {
  const uncovered = rangesWithoutReplica(ranges, new Set(missingMembers.map((missing) => missing.nodeId)));
  if (uncovered.length === 0) return;
  const unread = missingMembers.map((missing) => `${missing.nodeId} (${missing.reason})`).join(', ');
  throw new BackupFailedError(`no member that could be read holds ${describeUncovered(uncovered, ranges.length)}; could not read: ${unread}`);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

function errorText(error: unknown): string {
  if (isQkvError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
