// The durable storage engine of one replica: WAL + memtable + ordered store.
//
//   apply:      LWW filter -> WAL append (group commit, durable per fsync policy)
//               -> memtable insert (LWW again, against every level)
//   get:        active memtable -> checkpointing memtable -> ordered store
//   checkpoint: when the active memtable holds half its byte budget or the WAL grew two
//               segments: roll the WAL to a new segment S, freeze the memtable, write it
//               to LMDB in token order (expired values dropped, retention.ts), then the marker
//               "checkpoint-segment = S", flush, delete the WAL segments below S, and
//               sweep a slice of the store for tombstones past their grace period. The
//               LMDB writes can run on a worker thread instead (checkpointThread,
//               checkpoint-worker.ts); ADR 0195 says why they do not by default.
//   discard:    (cleanup) a discard frame naming each key and version in the WAL, then
//               the keys removed from the store and the memtable; never while a
//               checkpoint runs (see `exclusively`), so no checkpoint writes them back
//   open:       replay the WAL from the store's checkpoint segment (wal-recovery.ts);
//               a discard frame removes, at its place in the log, each key whose newest
//               version is the one it names, from the memtable and the store
//
// Invariant: for any key, a level nearer the top holds a version newer than every
// level below it (the insert re-checks against all levels), so `get` may stop at the
// first level that has the key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StoreClosedError } from '../../errors/errors.js';
import {
  DISCARD_ENTRIES_MAX,
  KEY_BYTES_MAX_CEILING,
  MEMTABLE_BYTES_DEFAULT,
  SCAN_PAGE_BYTES_MAX,
  TOMBSTONE_GRACE_MS_DEFAULT,
  WAL_FRAME_PAYLOAD_BYTES_MAX,
  WAL_SEGMENT_BYTES_DEFAULT,
} from '../../limits.js';
import type { Logger } from '../../logging/logger.js';
import { rangeIntervals, type TokenFunction, type TokenRange } from '../../ring/token-range.js';
import type { KvRecord, Version } from '../record.js';
import { compareVersions, recordPayloadBytes, supersedes } from '../record.js';
import { recordBytes, writeBatch } from '../record-codec.js';
import type { ApplyResult, DiscardEntry, ScanCursor, ScanPage, StorageEngine } from '../storage-engine.js';
import type { FsyncPolicy } from '../wal/fsync-policy.js';
import { FrameType } from '../wal/wal-format.js';
import { nodeFileSystem, type FileSystem } from '../../fs/file-system.js';
import { openWriteAheadLog, type WalRecoveryReport } from '../wal/wal-recovery.js';
import type { WriteAheadLog } from '../wal/write-ahead-log.js';
import { noStorageMetrics, type EngineMetrics, type StorageMetrics } from '../storage-metrics.js';
import { indexAfter, mapKeyOf, Memtable } from './memtable.js';
import { compareTokenKey } from '../token-key-order.js';
import { OrderedStore, storeKeyOf } from './ordered-store.js';
import { isPurgeableByFields } from '../retention.js';
import { CHECKPOINT_CHUNK_RECORDS, encodeCheckpointChunk } from './checkpoint-chunk.js';
import { InlineCheckpointWriter, type CheckpointWriter } from './checkpoint-writer.js';
import { WorkerCheckpointWriter } from './checkpoint-worker.js';

/** WAL segments written since the last checkpoint that start a checkpoint by themselves. */
const WAL_SEGMENTS_BEFORE_CHECKPOINT = 2n;
/** Store entries a checkpoint examines for purging, so one checkpoint stays short. */
const PURGE_SWEEP_ENTRIES_MAX = 10_000;

export interface DurableStorageEngineOptions {
  /** Data directory; the engine uses `wal/` and `store/` inside it. */
  readonly dir: string;
  readonly tokenOf: TokenFunction;
  /** Where the engine and its WAL report; nowhere when absent (src/metrics/storage-prometheus.ts for Prometheus). */
  readonly metrics?: StorageMetrics;
  readonly logger: Logger;
  readonly fsyncPolicy?: FsyncPolicy;
  readonly segmentBytesMax?: number;
  readonly memtableBytesMax?: number;
  readonly tombstoneGraceMs?: number;
  /** Start even when the WAL is corrupt, skipping (and logging) the damaged data. */
  readonly skipCorrupt?: boolean;
  readonly fileSystem?: FileSystem;
  /** Wall clock for expiry and purge decisions. */
  readonly nowMs?: () => number;
  /**
   * Where checkpoints write to LMDB: on the engine's own thread (the default: lmdb-js
   * already commits on a native thread of its own) or on a worker thread. ADR 0195 has
   * the measurements behind the default.
   */
  readonly checkpointThread?: CheckpointThread;
}

export type CheckpointThread = 'worker' | 'main';

export class DurableStorageEngine implements StorageEngine {
  private active = new Memtable();
  private frozen: Memtable | undefined;
  /** The WAL segment from which the active memtable's records were appended. */
  private activeSince: bigint;
  private checkpointing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  /** Set when close() begins; new applies are refused and no checkpoint starts. */
  private closing = false;
  private appliesInFlight = 0;
  private appliesDrained: (() => void) | undefined;
  private sweepAfter: Buffer | undefined;
  /**
   * Changes whenever a level below the active memtable changes: the active memtable is
   * frozen, the frozen one reaches the store, or a replay writes to the store. See `insert`.
   */
  private levelsGeneration = 0;
  private wal!: WriteAheadLog;
  private checkpointWriter!: CheckpointWriter;
  /** Tail of the checkpoints and discards, which run one at a time (see `exclusively`). */
  private exclusiveTail: Promise<void> = Promise.resolve();
  /**
   * Discard frames were appended since the last checkpoint: the next checkpoint runs even
   * with an empty memtable, so a clean stop leaves no discard frame in the WAL for an
   * older build to stop at (wal-format.ts).
   */
  private discardedSinceCheckpoint = false;

  private constructor(
    private readonly store: OrderedStore,
    private readonly options: Required<Omit<DurableStorageEngineOptions, 'fileSystem'>>,
    private readonly metrics: EngineMetrics,
  ) {
    this.activeSince = store.checkpointSegment();
  }

  static async open(options: DurableStorageEngineOptions): Promise<{ engine: DurableStorageEngine; recovery: WalRecoveryReport }> {
    const settings = {
      fsyncPolicy: { kind: 'always' } as FsyncPolicy,
      segmentBytesMax: WAL_SEGMENT_BYTES_DEFAULT,
      memtableBytesMax: MEMTABLE_BYTES_DEFAULT,
      tombstoneGraceMs: TOMBSTONE_GRACE_MS_DEFAULT,
      skipCorrupt: false,
      nowMs: Date.now,
      metrics: noStorageMetrics,
      checkpointThread: 'main' as CheckpointThread,
      ...options,
    };
    const started = performance.now();
    const fileSystem = options.fileSystem ?? nodeFileSystem;
    const storePath = join(options.dir, 'store');
    const store = await OrderedStore.open(storePath, options.tokenOf);
    const metrics = settings.metrics.engine;
    const engine = new DurableStorageEngine(store, settings, metrics);
    engine.checkpointWriter = settings.checkpointThread === 'worker' ? new WorkerCheckpointWriter(storePath, store) : new InlineCheckpointWriter(store);
    try {
      const { wal, report } = await openWriteAheadLog(
        {
          dir: join(options.dir, 'wal'),
          fsyncPolicy: settings.fsyncPolicy,
          segmentBytesMax: settings.segmentBytesMax,
          fileSystem,
          logger: options.logger,
          metrics: settings.metrics.wal,
        },
        {
          fromSegment: store.checkpointSegment(),
          skipCorrupt: settings.skipCorrupt,
          onBatch: (records) => engine.replay(records),
          onDiscard: (entries) => engine.replayDiscard(entries),
        },
      );
      engine.wal = wal;
      // LMDB created store/ itself and syncs its files, not the directory holding them;
      // this makes the name store/ (and wal/) durable in the data directory (ADR 0126).
      await fileSystem.syncDirectory(options.dir);
      // A long replay is made durable in the store at once, so the next start does not
      // replay the same segments again.
      if (report.segmentsReplayed > 1) await engine.checkpoint();
      metrics.bind({
        memtableBytes: () => engine.active.bytes + (engine.frozen?.bytes ?? 0),
        memtableRecords: () => engine.active.size + (engine.frozen?.size ?? 0),
      });
      options.logger.info(
        { ...report, elapsedMs: Math.round(performance.now() - started), memtableRecords: engine.active.size },
        'storage engine open',
      );
      return { engine, recovery: report };
    } catch (error) {
      // Opened but not handed out: release the segment handle too (its error, if any,
      // matters less than the one being thrown).
      if ((engine.wal as WriteAheadLog | undefined) !== undefined) await engine.wal.close().catch(() => {});
      await engine.checkpointWriter.close().catch(() => {});
      await store.close();
      throw error;
    }
  }

  get(key: Buffer, mapKey = mapKeyOf(key)): KvRecord | undefined {
    return this.active.get(key, mapKey) ?? this.frozen?.get(key, mapKey) ?? this.store.get(key);
  }

  /**
   * Not an async function itself, so a call costs one async frame (applyNow's), which
   * awaits the promise every caller of the same WAL group shares (ADR 0196).
   */
  apply(records: readonly KvRecord[], encoding?: Buffer): Promise<ApplyResult> {
    const refusal = this.unusable();
    if (refusal) return Promise.reject(refusal);
    return this.applyNow(records, encoding);
  }

  /** Counted in appliesInFlight from start to end: close waits for it. */
  private async applyNow(records: readonly KvRecord[], encoding: Buffer | undefined): Promise<ApplyResult> {
    this.appliesInFlight++;
    try {
      for (const record of records) {
        assert.ok(record.key.length > 0, 'empty key reached the engine');
        assert.ok(record.key.length <= KEY_BYTES_MAX_CEILING, 'oversized key reached the engine');
      }
      if (this.active.bytes >= this.checkpointThresholdBytes()) await this.waitForRoom();

      // Stale records (repairs, replays from peers) are dropped before they cost WAL space.
      // `applied` first says which records are fresh, then which the memtable took.
      const applied = new Array<boolean>(records.length);
      const mapKeys = new Array<string>(records.length);
      let freshCount = 0;
      for (let index = 0; index < records.length; index++) {
        const record = records[index]!;
        const mapKey = mapKeyOf(record.key);
        mapKeys[index] = mapKey;
        const fresh = supersedes(record.version, this.newestVersion(record, mapKey));
        applied[index] = fresh;
        if (fresh) freshCount++;
      }
      if (freshCount === 0) return { applied };

      const generation = this.levelsGeneration;
      // The usual case, every record fresh, logs `records` itself: no second list.
      const fresh = freshCount === records.length ? records : records.filter((_, index) => applied[index]);
      let segment: bigint;
      if (encoding !== undefined && fresh === records) {
        // Every record is fresh: the caller's encoding of them is the WAL payload as it is.
        assert.ok(encoding.length >= 4 && encoding.readUInt32BE(0) === records.length, 'batch encoding does not match its records');
        segment = await this.wal.appendEncoded(encoding.length, (target, offset) => offset + encoding.copy(target, offset), fresh.length);
      } else {
        // The batch is encoded straight into its WAL group's buffer: no buffer of its own.
        let payloadBytes = 4;
        for (const record of fresh) payloadBytes += recordBytes(record);
        segment = await this.wal.appendEncoded(payloadBytes, (target, offset) => writeBatch(fresh, target, offset), fresh.length);
      }
      // A checkpoint rolls the WAL only after every earlier append has reached this
      // point, so a record can never land in a memtable younger than its segment.
      assert.ok(segment >= this.activeSince, 'record inserted into a memtable newer than its WAL segment');
      const levelsUnchanged = generation === this.levelsGeneration;
      for (let index = 0; index < records.length; index++) {
        if (applied[index]) applied[index] = this.insert(records[index]!, mapKeys[index]!, levelsUnchanged);
      }

      if (this.needsCheckpoint()) void this.checkpoint().catch(() => {});
      return { applied };
    } finally {
      this.appliesInFlight--;
      if (this.appliesInFlight === 0) this.appliesDrained?.();
    }
  }

  scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): ScanPage {
    this.throwIfUnusable();
    assert.ok(limit > 0, 'scan limit must be positive');
    const { tokenOf } = this.options;
    const after = resumeAfter ? storeKeyOf(resumeAfter.token, resumeAfter.key) : undefined;
    const intervals = rangeIntervals(range);
    let first = 0;
    if (resumeAfter) {
      first = intervals.findIndex((interval) => resumeAfter.token >= interval.low && resumeAfter.token <= interval.high);
      assert.ok(first >= 0, 'scan cursor outside the range');
    }

    const page: Array<{ token: bigint; record: KvRecord }> = [];
    let bytes = 0;
    // Set when SCAN_PAGE_BYTES_MAX ended the page before `limit` did.
    let cutByBytes = false;
    for (let index = first; index < intervals.length && page.length < limit && !cutByBytes; index++) {
      const { low, high } = intervals[index]!;
      const from = index === first ? after : undefined;
      const stored = this.store.range(low, high, limit - page.length, from, SCAN_PAGE_BYTES_MAX - bytes);
      const merged = new Map<string, { token: bigint; record: KvRecord }>();
      for (const entry of stored.entries) merged.set(mapKeyOf(entry.record.key), entry);
      // When the byte bound cut the store's list short, the store may hold unread keys
      // after its last entry; memtable records beyond that point wait for the next page.
      const lastStored = stored.truncated ? stored.entries.at(-1)! : undefined;
      // Each memtable contributes at most the records the page still has room for, in
      // order from its index: a binary search, then a walk (memtable.ts).
      for (const memtable of [this.frozen, this.active]) {
        if (!memtable) continue;
        const ordered = memtable.ordered(tokenOf);
        let at = index === first && resumeAfter ? indexAfter(ordered, resumeAfter.token, resumeAfter.key) : indexAfter(ordered, low);
        for (let taken = 0; at < ordered.length && taken < limit - page.length; at++, taken++) {
          const { token, key, mapKey } = ordered[at]!;
          if (token > high) break;
          if (lastStored && compareTokenKey(token, key, lastStored.token, lastStored.record.key) > 0) break;
          const record = memtable.get(key, mapKey);
          // A stale index entry: the key was discarded (memtable.ts).
          if (record === undefined) {
            taken--;
            continue;
          }
          merged.set(mapKey, { token, record });
        }
      }
      const sorted = [...merged.values()].sort((a, b) => compareTokenKey(a.token, a.record.key, b.token, b.record.key));
      for (const entry of sorted) {
        if (page.length === limit) break;
        const size = recordPayloadBytes(entry.record);
        if (page.length > 0 && bytes + size > SCAN_PAGE_BYTES_MAX) {
          cutByBytes = true;
          break;
        }
        page.push(entry);
        bytes += size;
      }
      if (stored.truncated) cutByBytes = true;
    }

    const last = page.at(-1);
    const records = page.map((entry) => entry.record);
    if ((page.length < limit && !cutByBytes) || !last) return { records };
    return { records, resumeAfter: { token: last.token, key: last.record.key } };
  }

  async discard(entries: readonly DiscardEntry[], confirm?: () => void): Promise<number> {
    this.throwIfUnusable();
    assert.ok(entries.length <= DISCARD_ENTRIES_MAX, 'too many entries in one discard');
    this.appliesInFlight++;
    try {
      return await this.exclusively(() => {
        confirm?.();
        return this.discardNow(entries);
      });
    } finally {
      this.appliesInFlight--;
      if (this.appliesInFlight === 0) this.appliesDrained?.();
      // A cleanup on a node that takes no writes would otherwise grow the WAL (and the
      // replay after a crash) by every discard frame until the next write.
      if (this.needsCheckpoint()) void this.checkpoint().catch(() => {});
    }
  }

  /**
   * Logs the discard, then removes the keys. The WAL frame is synced before anything is
   * removed, so a crash at any point after it replays the discard; a crash before it
   * removed nothing. A key is removed only while its newest version is the one named: a
   * write that lands meanwhile is newer (last writer wins refuses older ones while the
   * key is held) and stays, in the log after the discard as in the engine. The store is
   * cleared before the memtable so that no older version in the store shows through
   * while the store's removal is awaited.
   */
  private async discardNow(entries: readonly DiscardEntry[]): Promise<number> {
    this.throwIfUnusable();
    // Checkpoints run exclusively too: there is no frozen memtable to write keys back.
    assert.equal(this.frozen, undefined, 'a discard ran beside a checkpoint');
    const heldAsNamed = (entry: DiscardEntry, mapKey: string): boolean => {
      const held = this.get(entry.key, mapKey);
      return held !== undefined && compareVersions(held.version, entry.version) === 0;
    };
    const named: Array<{ record: KvRecord; mapKey: string }> = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      assert.ok(entry.key.length > 0 && entry.key.length <= KEY_BYTES_MAX_CEILING, 'discard of a key no write could have stored');
      const mapKey = mapKeyOf(entry.key);
      if (seen.has(mapKey) || !heldAsNamed(entry, mapKey)) continue;
      seen.add(mapKey);
      named.push({ record: { key: entry.key, value: null, version: entry.version, expiresAtMs: 0 }, mapKey });
    }
    if (named.length === 0) return 0;

    for (const frame of framesOf(named.map((item) => item.record))) {
      await this.wal.appendEncoded(frame.payloadBytes, (target, offset) => writeBatch(frame.records, target, offset), frame.records.length, FrameType.Discard);
    }
    // Synced whatever the fsync policy: the store's removal below is durable at once, and
    // a replay without the frame could put a memtable version back over it. One sync per
    // discard call (a page of cleanup) costs little; with fsync=always it is a no-op.
    await this.wal.sync();
    this.discardedSinceCheckpoint = true;

    const { tokenOf } = this.options;
    const still = named.filter(({ record, mapKey }) => heldAsNamed(record, mapKey));
    await this.store.remove(still.filter(({ record }) => this.store.versionOf(record.key) !== undefined).map(({ record }) => storeKeyOf(tokenOf(record.key), record.key)));
    let removed = 0;
    for (const { record, mapKey } of still) {
      // Checked again: a newer write may have reached the memtable while the store was
      // cleared; the older versions under it are gone either way, as after a replay.
      const held = this.active.get(record.key, mapKey);
      if (held !== undefined && compareVersions(held.version, record.version) !== 0) continue;
      if (held !== undefined) this.active.remove(mapKey, this.active.isIndexed(tokenOf(record.key), record.key));
      removed++;
    }
    return removed;
  }

  /** A discard frame met during recovery: the same removal at the same place in the log. */
  private async replayDiscard(entries: readonly KvRecord[]): Promise<void> {
    const { tokenOf } = this.options;
    const storeKeys: Buffer[] = [];
    for (const entry of entries) {
      const mapKey = mapKeyOf(entry.key);
      const held = this.get(entry.key, mapKey);
      if (held === undefined || compareVersions(held.version, entry.version) !== 0) continue;
      this.active.remove(mapKey, this.active.isIndexed(tokenOf(entry.key), entry.key));
      if (this.store.versionOf(entry.key) !== undefined) storeKeys.push(storeKeyOf(tokenOf(entry.key), entry.key));
    }
    await this.store.remove(storeKeys);
    // The segment holding the frame stays until the next checkpoint; that checkpoint
    // must run even if the memtable ends up empty (see discardedSinceCheckpoint).
    if (entries.length > 0) this.discardedSinceCheckpoint = true;
  }

  /**
   * Runs checkpoints and discards one at a time. A checkpoint writes a frozen memtable to
   * the store in chunks it awaits; a discard clearing the store meanwhile could be undone
   * by a later chunk, and a discard's WAL frame must lie in a segment the checkpoint
   * marker has not passed until its removal from the store is complete.
   */
  private async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.exclusiveTail;
    let release!: () => void;
    this.exclusiveTail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }

  async sync(): Promise<void> {
    this.throwIfUnusable();
    await this.wal.sync();
  }

  /**
   * A checkpoint is due when the active memtable holds half the budget, or when the
   * WAL has grown WAL_SEGMENTS_BEFORE_CHECKPOINT segments past the last checkpoint: a
   * few hot keys overwritten forever keep the memtable small but not the log.
   */
  private needsCheckpoint(): boolean {
    if (this.closing || this.checkpointing) return false;
    return this.active.bytes >= this.checkpointThresholdBytes() || this.wal.currentSegment - this.activeSince >= WAL_SEGMENTS_BEFORE_CHECKPOINT;
  }

  /** Moves the memtable into the ordered store; concurrent calls share one checkpoint. */
  checkpoint(): Promise<void> {
    this.checkpointing ??= this.runCheckpoint().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    let failure: { error: unknown } | undefined;
    try {
      if (this.appliesInFlight > 0) await new Promise<void>((resolve) => (this.appliesDrained = resolve));
      await this.checkpointing?.catch(() => {});
      if (this.failed() === undefined && (this.active.size > 0 || this.discardedSinceCheckpoint)) await this.runCheckpoint();
    } catch (error) {
      failure = { error };
    }
    this.closed = true;
    // Each part is closed even when one before it fails: a WAL whose disk has gone must
    // not leave LMDB's environment or the checkpoint worker open. The first error is the
    // one reported.
    for (const closePart of [() => this.wal.close(), () => this.checkpointWriter.close(), () => this.store.close()]) {
      try {
        await closePart();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  /**
   * Inserts a record into the active memtable when it supersedes every version the
   * engine holds for its key. `levelsUnchanged`: the record superseded every level when
   * it was looked up before the WAL append, and no level below the active memtable has
   * changed since (levelsGeneration), so only the active memtable can hold a newer
   * version now, and `put` checks that one. Otherwise every level is consulted again.
   * The memtable copies the record's bytes into its slabs (memtable.ts), so the caller
   * may reuse its buffers.
   */
  private insert(record: KvRecord, mapKey: string, levelsUnchanged: boolean): boolean {
    if (!levelsUnchanged && !supersedes(record.version, this.newestVersion(record, mapKey))) return false;
    return this.active.put(record, mapKey);
  }

  /**
   * The newest version of `record`'s key at any level, as far as last-writer-wins against
   * `record` needs it: a record whose stamp exceeds every stamp in the store supersedes
   * whatever the store holds, so the store is not read for it (the usual case for a
   * fresh write of a key that is not in the memtables).
   */
  private newestVersion(record: KvRecord, mapKey: string): Version | undefined {
    const held = this.active.versionOf(mapKey) ?? this.frozen?.versionOf(mapKey);
    if (held !== undefined) return held;
    if (record.version.stamp > this.store.maxStamp()) return undefined;
    return this.store.versionOf(record.key);
  }

  /** Recovery applies replayed batches here; past the budget they go to the store. */
  private async replay(records: KvRecord[]): Promise<void> {
    for (const record of records) this.insert(record, mapKeyOf(record.key), false);
    if (this.active.bytes >= this.checkpointThresholdBytes()) {
      // The WAL writer does not exist yet, so the checkpoint marker stays where it is:
      // the same segments are replayed again after a crash, which LWW makes harmless.
      await this.writeToStore(this.active, this.store.checkpointSegment());
      this.active = new Memtable();
      this.levelsGeneration++;
    }
  }

  /**
   * The budget covers the active and the checkpointing memtable together, so a
   * checkpoint starts when the active one holds half of it.
   */
  private checkpointThresholdBytes(): number {
    return this.options.memtableBytesMax / 2;
  }

  /** Applies wait while a full memtable is still being checkpointed: memory stays bounded. */
  private async waitForRoom(): Promise<void> {
    while (this.active.bytes >= this.checkpointThresholdBytes()) {
      await this.checkpoint();
      this.throwIfUnusable();
    }
  }

  private runCheckpoint(): Promise<void> {
    return this.exclusively(() => this.checkpointNow());
  }

  private async checkpointNow(): Promise<void> {
    if (this.active.size === 0 && !this.discardedSinceCheckpoint) return;
    const started = performance.now();
    try {
      const boundary = await this.wal.rollover();
      // Every discard frame so far lies below the boundary, and its removal is complete
      // (discards and checkpoints run one at a time).
      this.discardedSinceCheckpoint = false;
      this.frozen = this.active;
      this.active = new Memtable();
      this.levelsGeneration++;
      this.activeSince = boundary;
      const written = await this.writeToStore(this.frozen, boundary);
      this.frozen = undefined;
      this.levelsGeneration++;
      const removedSegments = await this.wal.removeSegmentsBefore(boundary);
      const purged = await this.sweepForPurge();
      const elapsedMs = performance.now() - started;
      this.metrics.checkpointDuration.observe(elapsedMs / 1000);
      this.options.logger.info(
        { records: written, purged, removedSegments, checkpointSegment: boundary.toString(), elapsedMs: Math.round(elapsedMs) },
        'checkpoint done',
      );
    } catch (error) {
      // The frozen memtable and its WAL segments are intact, but the engine can no
      // longer promise bounded memory; it stops taking writes and a restart recovers.
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.options.logger.error({ err: this.failure }, 'checkpoint failed; the engine accepts no more writes until restart');
      throw this.failure;
    }
  }

  /**
   * Writes a memtable to the store through the checkpoint writer: the stamp bound, the
   * records in token order (the store's key order, so each chunk dirties one stretch of
   * LMDB's pages: memtable-token-order.ts) in chunks, each encoded here and awaited before
   * the next, which bounds the memory a checkpoint adds to one chunk, then the marker.
   * The memtable does not change meanwhile: it is frozen, or it is the replay's, which
   * waits for this.
   */
  private async writeToStore(memtable: Memtable, checkpointSegment: bigint): Promise<number> {
    const nowMs = this.options.nowMs();
    const writer = this.checkpointWriter;
    await writer.begin(memtable.maxStamp);
    const ordered = await memtable.inTokenOrder(this.options.tokenOf);
    for (const { from, to } of ordered.sortedRanges(CHECKPOINT_CHUNK_RECORDS)) await writer.writeChunk(encodeCheckpointChunk(ordered, from, to, nowMs));
    await writer.finish(checkpointSegment);
    this.metrics.checkpointRecords.inc(ordered.size);
    return ordered.size;
  }

  /** Purges a bounded slice of the store per checkpoint, resuming where the last stopped. */
  private async sweepForPurge(): Promise<number> {
    const nowMs = this.options.nowMs();
    const entries = this.store.sweep(PURGE_SWEEP_ENTRIES_MAX, this.sweepAfter);
    this.sweepAfter = entries.length < PURGE_SWEEP_ENTRIES_MAX ? undefined : entries.at(-1)?.storeKey;
    const purgeable = entries
      .filter(({ fields }) => isPurgeableByFields(fields, nowMs, this.options.tombstoneGraceMs))
      .map(({ storeKey }) => storeKey);
    await this.store.remove(purgeable);
    this.metrics.purgedRecords.inc(purgeable.length);
    return purgeable.length;
  }

  private failed(): Error | undefined {
    return this.failure ?? this.wal.failed;
  }

  private unusable(): Error | undefined {
    if (this.closed || this.closing) return new StoreClosedError();
    const failure = this.failed();
    if (failure) return new Error(`storage engine failed earlier: ${failure.message}`, { cause: failure });
    return undefined;
  }

  private throwIfUnusable(): void {
    const error = this.unusable();
    if (error) throw error;
  }
}

/** Records split into WAL frames of at most WAL_FRAME_PAYLOAD_BYTES_MAX each. */
function framesOf(records: readonly KvRecord[]): Array<{ records: KvRecord[]; payloadBytes: number }> {
  const frames: Array<{ records: KvRecord[]; payloadBytes: number }> = [];
  let current: KvRecord[] = [];
  let bytes = 4;
  for (const record of records) {
    const size = recordBytes(record);
    if (current.length > 0 && bytes + size > WAL_FRAME_PAYLOAD_BYTES_MAX) {
      frames.push({ records: current, payloadBytes: bytes });
      current = [];
      bytes = 4;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) frames.push({ records: current, payloadBytes: bytes });
  return frames;
}

export async function openStorageEngine(options: DurableStorageEngineOptions): Promise<DurableStorageEngine> {
  return (await DurableStorageEngine.open(options)).engine;
}
