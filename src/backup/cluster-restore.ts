// Restores a backup set into the running cluster through the replica path
// (docs/decisions/0141-restore-through-the-replica-path.md): every record, with its
// original version, tombstones and expiry included, is applied to the replicas that the
// cluster's rings name for its key now (natural and pending), whatever the size, N or
// tokens of the cluster that was backed up. Applying is last-writer-wins, so a record
// already there or overwritten since is a no-op: a restore is idempotent, and one that
// stopped is resumed by running it again.
//
// The set's files are merged (./snapshot-merge.ts) so that each key is applied once, in
// the newest version any member's file holds, not once per member that held it
// (docs/decisions/0246-restore-merges-member-files.md). Files are merged
// RESTORE_MERGE_FILES_MAX at a time, which bounds the frames held in memory; a key in two
// such groups is applied once per group, which last writer wins makes harmless.
//
// Every file of the set is verified first (BackupSet.verify): a damaged set is refused
// before the first record is written. A replica that does not take a batch stops the
// restore (RESTORE_FAILED): each record goes to every one of its replicas or the
// restore says it did not finish, so a finished restore needs no repair to be complete.
import { isQkvError, RestoreFailedError } from '../errors/errors.js';
import { BACKUP_PEER_CALL_TIMEOUT_MS, BACKUP_PROGRESS_INTERVAL_MS, BACKUP_SCAN_PAGE_RECORDS, RESTORE_FRAMES_IN_FLIGHT, RESTORE_MERGE_FILES_MAX, SCAN_PAGE_BYTES_MAX } from '../limits.js';
import type { PeerTransport } from '../replica/peer-transport.js';
import type { KeyPlacement } from '../ring/placement-rings.js';
import type { KvRecord } from '../storage/record.js';
import { recordBytes } from '../storage/record-codec.js';
import type { ByteThrottle } from '../streaming/byte-throttle.js';
import type { BackupSet } from './backup-set.js';
import { mergeSnapshots } from './snapshot-merge.js';

export type RestorePhase = 'verifying' | 'restoring' | 'done';

export interface RestoreProgress {
  readonly backupId: string;
  readonly phase: RestorePhase;
  readonly filesDone: number;
  readonly filesTotal: number;
  /** Records written to their replicas: each key once (per group of merged files). */
  readonly records: number;
  /** Snapshot-file bytes read. */
  readonly bytes: number;
  /** Records read from the files: a key once per member file that holds it. */
  readonly recordsRead: number;
  /** Encoded bytes of the records sent, once per replica each went to. */
  readonly bytesSent: number;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export interface ClusterRestoreOptions {
  readonly set: BackupSet;
  /** Where a key's records go now (src/ring/placement-rings.ts). */
  readonly placement: (key: Buffer) => KeyPlacement;
  /** The ring's token function, which orders the files' records (their scan order). */
  readonly tokenOf: (key: Buffer) => bigint;
  readonly transport: Pick<PeerTransport, 'apply'>;
  readonly throttle: ByteThrottle;
  readonly onProgress: (progress: RestoreProgress) => void;
  readonly signal?: AbortSignal;
  readonly nowMs?: () => number;
}

export async function runClusterRestore(options: ClusterRestoreOptions): Promise<RestoreProgress> {
  const { set, signal } = options;
  const nowMs = options.nowMs ?? Date.now;
  const startedMs = nowMs();
  const backupId = set.manifest.backupId;
  const filesTotal = set.files.length;
  let phase: RestorePhase = 'verifying';
  let filesDone = 0;
  let records = 0;
  let bytes = 0;
  let recordsRead = 0;
  let bytesSent = 0;
  let lastReportMs = 0;
  const progress = (): RestoreProgress => ({ backupId, phase, filesDone, filesTotal, records, bytes, recordsRead, bytesSent, elapsedMs: nowMs() - startedMs, done: phase === 'done' });
  const report = (force: boolean): void => {
    if (!force && nowMs() - lastReportMs < BACKUP_PROGRESS_INTERVAL_MS) return;
    lastReportMs = nowMs();
    options.onProgress(progress());
  };

  report(true);
  await set.verify((done) => {
    filesDone = done;
    report(false);
  });
  phase = 'restoring';
  filesDone = 0;
  report(true);
  for (let first = 0; first < set.files.length; first += RESTORE_MERGE_FILES_MAX) {
    const group = set.files.slice(first, first + RESTORE_MERGE_FILES_MAX);
    const merged = mergeSnapshots(
      group.map((file) => set.frames(file)),
      options.tokenOf,
      {
        onFrame: (frame) => {
          recordsRead += frame.records.length;
          bytes += frame.bytes;
        },
        onFileDone: () => {
          filesDone += 1;
          report(false);
        },
      },
    );
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const send = async (batch: KvRecord[], batchBytes: number): Promise<void> => {
      await options.throttle.take(batchBytes, signal);
      const applied = applyBatch(options, batch).then(
        (sentBytes) => {
          records += batch.length;
          bytesSent += sentBytes;
          report(false);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      const tracked = applied.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= RESTORE_FRAMES_IN_FLIGHT) await Promise.race(inFlight);
    };
    // Batches as large as a scan page, the size the replicas already take from a backup's frames.
    let batch: KvRecord[] = [];
    let batchBytes = 0;
    for await (const record of merged) {
      signal?.throwIfAborted();
      if (failure !== undefined) break;
      batch.push(record);
      batchBytes += recordBytes(record);
      if (batch.length >= BACKUP_SCAN_PAGE_RECORDS || batchBytes >= SCAN_PAGE_BYTES_MAX) {
        await send(batch, batchBytes);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0 && failure === undefined) await send(batch, batchBytes);
    await Promise.all(inFlight);
    if (failure !== undefined) {
      const names = group.map((file) => file.file).join(', ');
      throw new RestoreFailedError(`${names}: ${errorText(failure)}; ${records} records of ${backupId} were written to their replicas; run the restore again to finish it`, { cause: failure });
    }
    report(true);
  }
  phase = 'done';
  return progress();
}

/** Sends each record of the batch to every replica of its key, one batch per replica; resolves with the bytes sent. */
async function applyBatch(options: ClusterRestoreOptions, records: readonly KvRecord[]): Promise<number> {
  const batches = new Map<string, KvRecord[]>();
  let sentBytes = 0;
  for (const record of records) {
    const placement = options.placement(record.key);
    const replicas = [...placement.natural, ...placement.pending];
    sentBytes += recordBytes(record) * replicas.length;
    for (const replica of replicas) {
      let batch = batches.get(replica);
      if (batch === undefined) batches.set(replica, (batch = []));
      batch.push(record);
    }
  }
  const deadlineMs = Date.now() + BACKUP_PEER_CALL_TIMEOUT_MS;
  await Promise.all(
    [...batches].map(async ([replica, batch]) => {
      try {
        await options.transport.apply(replica, batch, { deadlineMs });
      } catch (error) {
        throw new Error(`replica ${replica} did not take ${batch.length} records (${errorText(error)})`, { cause: error });
      }
    }),
  );
  return sentBytes;
}

function errorText(error: unknown): string {
  if (isQkvError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
