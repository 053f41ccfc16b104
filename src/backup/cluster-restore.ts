// Restores a backup set into the running cluster through the replica path
// (docs/decisions/0141-restore-through-the-replica-path.md): every record, with its
// original version, tombstones and expiry included, is applied to the replicas that the
// cluster's rings name for its key now (natural and pending), whatever the size, N or
// tokens of the cluster that was backed up. Applying is last-writer-wins, so a record
// already there or overwritten since is a no-op: a restore is idempotent, and one that
// stopped is resumed by running it again.
//
// Every file of the set is verified first (BackupSet.verify): a damaged set is refused
// before the first record is written. A replica that does not take a batch stops the
// restore (RESTORE_FAILED): each record goes to every one of its replicas or the
// restore says it did not finish, so a finished restore needs no repair to be complete.
import { isQkvError, RestoreFailedError } from '../errors/errors.js';
import { BACKUP_PEER_CALL_TIMEOUT_MS, BACKUP_PROGRESS_INTERVAL_MS, RESTORE_FRAMES_IN_FLIGHT } from '../limits.js';
import type { PeerTransport } from '../replica/peer-transport.js';
import type { KeyPlacement } from '../ring/placement-rings.js';
import type { KvRecord } from '../storage/record.js';
import type { ByteThrottle } from '../streaming/byte-throttle.js';
import type { BackupSet } from './backup-set.js';
import type { SnapshotFrame } from './snapshot-file.js';

export type RestorePhase = 'verifying' | 'restoring' | 'done';

export interface RestoreProgress {
  readonly backupId: string;
  readonly phase: RestorePhase;
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly records: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly done: boolean;
}

export interface ClusterRestoreOptions {
  readonly set: BackupSet;
  /** Where a key's records go now (src/ring/placement-rings.ts). */
  readonly placement: (key: Buffer) => KeyPlacement;
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
  let lastReportMs = 0;
  const progress = (): RestoreProgress => ({ backupId, phase, filesDone, filesTotal, records, bytes, elapsedMs: nowMs() - startedMs, done: phase === 'done' });
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
  for (const file of set.files) {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    for await (const frame of set.frames(file)) {
      signal?.throwIfAborted();
      if (failure !== undefined) break;
      await options.throttle.take(frame.bytes, signal);
      const applied = applyFrame(options, frame).then(
        () => {
          records += frame.records.length;
          bytes += frame.bytes;
          report(false);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      const tracked = applied.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= RESTORE_FRAMES_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) {
      throw new RestoreFailedError(`${file.file}: ${errorText(failure)}; ${records} records of ${backupId} were written to their replicas; run the restore again to finish it`, { cause: failure });
    }
    filesDone += 1;
    report(true);
  }
  phase = 'done';
  return progress();
}

/** Sends each record of the frame to every replica of its key, one batch per replica. */
async function applyFrame(options: ClusterRestoreOptions, frame: SnapshotFrame): Promise<void> {
  const batches = new Map<string, KvRecord[]>();
  for (const record of frame.records) {
    const placement = options.placement(record.key);
    for (const replica of [...placement.natural, ...placement.pending]) {
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
}

function errorText(error: unknown): string {
  if (isQkvError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
