// The write-ahead log: the commit log of one replica. Appends are queued and written
// by a single flush loop; every append that arrives while a group's write is in
// flight joins the next group, which goes out as one durable write (group commit).
// Under fsync=always a segment is opened to write through (O_DSYNC), so that write
// returns only once the group is durable: one thread-pool round trip per group instead
// of a write and an fdatasync (ADR 0262). A file system that cannot write through gets
// the write and the fdatasync, as before. The callers of one group share one promise,
// settled once when the group is durable or failed: at concurrency 64 that is one
// promise and one resolve per sync instead of 64 (ADR 0196). Each append encodes its frame straight into its
// group's buffer, which goes to the file as it is (group-buffers.ts, ADR 0252). The
// format is described in wal-format.ts and recovery in wal-recovery.ts.
//
// After a failed write or sync the log is poisoned: the kernel may have dropped the
// dirty pages ("fsyncgate"), so no later append can be acknowledged honestly. Every
// pending and future append is rejected and the node must restart and recover.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OverloadedError, StoreClosedError, WalRecordTooLargeError } from '../../errors/errors.js';
import { FSYNC_SLOW_MS, WAL_FRAME_PAYLOAD_BYTES_MAX, WAL_GROUP_COMMIT_BYTES_MAX, WAL_PENDING_APPENDS_MAX } from '../../limits.js';
import type { Logger } from '../../logging/logger.js';
import type { FsyncPolicy } from './fsync-policy.js';
import type { FileHandle, FileSystem } from '../../fs/file-system.js';
import { encodeSegmentHeader, FRAME_HEADER_BYTES, FrameType, parseSegmentFileName, SEGMENT_HEADER_BYTES, segmentFileName, sealFrame } from './wal-format.js';
import type { WalMetrics } from '../storage-metrics.js';
import { GroupBuffers } from './group-buffers.js';

export interface WalWriterOptions {
  readonly dir: string;
  readonly fsyncPolicy: FsyncPolicy;
  readonly segmentBytesMax: number;
  readonly fileSystem: FileSystem;
  readonly logger: Logger;
  readonly metrics: WalMetrics;
}

/**
 * Frames that go out in one write and one sync, encoded one after the other into
 * `buffer` (its first `bytes` bytes), and the one promise their callers share (it
 * resolves with the segment that holds them all).
 */
interface CommitGroup {
  readonly kind: 'group';
  buffer: Buffer;
  bytes: number;
  frames: number;
  records: number;
  readonly durable: Promise<bigint>;
  readonly resolve: (segment: bigint) => void;
  readonly reject: (error: Error) => void;
}

type Pending =
  | CommitGroup
  | { kind: 'rotate'; resolve: (segment: bigint) => void; reject: (error: Error) => void }
  | { kind: 'sync'; resolve: () => void; reject: (error: Error) => void };

function newCommitGroup(buffer: Buffer): CommitGroup {
  let resolve!: (segment: bigint) => void;
  let reject!: (error: Error) => void;
  const durable = new Promise<bigint>((resolveGroup, rejectGroup) => {
    resolve = resolveGroup;
    reject = rejectGroup;
  });
  return { kind: 'group', buffer, bytes: 0, frames: 0, records: 0, durable, resolve, reject };
}

/** Writes a frame payload at `offset` of `target`; returns the offset after it. */
export type PayloadWriter = (target: Buffer, offset: number) => number;

export class WriteAheadLog {
  private readonly queue: Pending[] = [];
  private queuedFrames = 0;
  private readonly groupBuffers = new GroupBuffers();
  private flushing = false;
  private dirty = false;
  private failure: Error | undefined;
  private closed = false;
  /** Set when close() begins: nothing new is accepted while the final sync runs. */
  private closing = false;
  private readonly intervalTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: WalWriterOptions,
    private handle: FileHandle,
    private segment: bigint,
    private segmentBytes: number,
  ) {
    const policy = options.fsyncPolicy;
    if (policy.kind === 'interval') {
      this.intervalTimer = setInterval(() => {
        if (this.dirty && !this.closed && this.failure === undefined) this.sync().catch(() => {});
      }, policy.intervalMs);
      this.intervalTimer.unref();
    }
  }

  /** Starts a fresh segment numbered `segment` and returns the log writing into it. */
  static async create(options: WalWriterOptions, segment: bigint): Promise<WriteAheadLog> {
    const handle = await WriteAheadLog.createSegment(options, segment);
    return new WriteAheadLog(options, handle, segment, SEGMENT_HEADER_BYTES);
  }

  /** Creates a segment with its header, synced; on failure its handle is closed again. */
  private static async createSegment(options: WalWriterOptions, segment: bigint): Promise<FileHandle> {
    const path = join(options.dir, segmentFileName(segment));
    const handle = await options.fileSystem.openForWrite(path, true, { writeThrough: options.fsyncPolicy.kind === 'always' });
    try {
      await handle.writeAll(encodeSegmentHeader(segment), 0);
      // Synced even when the handle writes through: once per segment, and the header is
      // then durable on any file system.
      await handle.datasync();
      await options.fileSystem.syncDirectory(options.dir);
    } catch (error) {
      // The half-made segment is the last one; recovery repairs its header (wal-recovery.ts).
      await handle.close().catch(() => {});
      throw error;
    }
    return handle;
  }

  /** The error that poisoned the log, if one did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** The segment new appends go to. */
  get currentSegment(): bigint {
    return this.segment;
  }

  /**
   * Appends one record-batch frame; resolves, with the number of the segment that holds
   * it, when the fsync policy calls it durable.
   */
  append(payload: Buffer, records: number): Promise<bigint> {
    return this.appendEncoded(payload.length, (target, offset) => offset + payload.copy(target, offset), records);
  }

  /**
   * Like `append`, for a payload of `payloadBytes` that `writePayload` writes straight
   * into the frame, so the payload needs no buffer and no copy of its own. `type` is a
   * record batch unless given (a discard, see wal-format.ts).
   */
  appendEncoded(payloadBytes: number, writePayload: PayloadWriter, records: number, type = FrameType.RecordBatch): Promise<bigint> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    if (this.queuedFrames >= WAL_PENDING_APPENDS_MAX) {
      return Promise.reject(new OverloadedError('WAL appends', WAL_PENDING_APPENDS_MAX));
    }
    if (payloadBytes > WAL_FRAME_PAYLOAD_BYTES_MAX) return Promise.reject(new WalRecordTooLargeError(payloadBytes, WAL_FRAME_PAYLOAD_BYTES_MAX));
    const group = this.openGroup(FRAME_HEADER_BYTES + payloadBytes);
    try {
      this.writeFrame(group, type, payloadBytes, writePayload, records);
    } catch (error) {
      // The frame is not part of the group (its bytes lie past `group.bytes`); a group
      // made for it alone leaves the queue again.
      if (group.frames === 0 && this.queue.at(-1) === group) {
        this.queue.pop();
        this.groupBuffers.release(group.buffer, 0);
      }
      return Promise.reject(error);
    }
    this.queuedFrames++;
    this.startFlush();
    return group.durable;
  }

  /**
   * Encodes one frame at the end of the group's buffer, growing it when needed. The
   * group counts the frame only once it is whole and sealed, so a payload writer that
   * throws, or writes another length than it announced, leaves the group as it was.
   */
  private writeFrame(group: CommitGroup, type: FrameType, payloadBytes: number, writePayload: PayloadWriter, records: number): void {
    assert.ok(payloadBytes > 0, 'empty WAL payload');
    const start = group.bytes;
    const end = start + FRAME_HEADER_BYTES + payloadBytes;
    if (end > group.buffer.length) group.buffer = this.groupBuffers.grow(group.buffer, start, end);
    const payloadEnd = writePayload(group.buffer, start + FRAME_HEADER_BYTES);
    // Checked before the frame is sealed: a payload writer that wrote more or less than
    // it announced would leave a frame whose checksum covers the wrong bytes.
    assert.equal(payloadEnd, end, 'WAL payload writer wrote a different length than announced');
    sealFrame(type, group.buffer, start, payloadBytes);
    group.bytes = end;
    group.frames++;
    group.records += records;
  }

  /**
   * The group a new frame of `frameBytes` joins: the last one queued, unless a rotate or
   * sync was queued after it (order is kept) or the frame would take it past
   * WAL_GROUP_COMMIT_BYTES_MAX. A group leaves the queue when its write begins, so
   * frames appended during a write and sync form the next group.
   */
  private openGroup(frameBytes: number): CommitGroup {
    const last = this.queue.at(-1);
    if (last?.kind === 'group' && last.bytes + frameBytes <= WAL_GROUP_COMMIT_BYTES_MAX) return last;
    const group = newCommitGroup(this.groupBuffers.take(frameBytes));
    this.queue.push(group);
    return group;
  }

  /**
   * Closes the current segment (synced) and starts the next one. Everything appended
   * before this call lies in segments below the returned number, which is what a
   * checkpoint needs to know which segments it covers.
   */
  rollover(): Promise<bigint> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return new Promise<bigint>((resolve, reject) => {
      this.queue.push({ kind: 'rotate', resolve, reject });
      this.startFlush();
    });
  }

  /** Makes everything appended so far durable, whatever the policy. */
  sync(): Promise<void> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'sync', resolve, reject });
      this.startFlush();
    });
  }

  /** Deletes the segments numbered below `segment`; returns how many it deleted. */
  async removeSegmentsBefore(segment: bigint): Promise<number> {
    assert.ok(segment <= this.segment, 'cannot remove the segment being written');
    const { fileSystem, dir } = this.options;
    let removed = 0;
    for (const name of await fileSystem.listDirectory(dir)) {
      const number = parseSegmentFileName(name);
      if (number !== undefined && number < segment) {
        await fileSystem.remove(join(dir, name));
        removed++;
      }
    }
    if (removed > 0) await fileSystem.syncDirectory(dir);
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    const finalSync = this.failure === undefined ? this.sync() : undefined;
    this.closing = true;
    if (finalSync) {
      try {
        await finalSync;
      } catch {
        // The failure is already logged and kept; closing goes on.
      }
    }
    this.closed = true;
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    await this.handle.close();
  }

  private refusal(): Error | undefined {
    if (this.closed || this.closing) return new StoreClosedError();
    if (this.failure) return new Error(`the WAL failed earlier and accepts no writes until restart: ${this.failure.message}`, { cause: this.failure });
    return undefined;
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // A microtask lets appends issued in the same turn join the first group.
    queueMicrotask(() => {
      this.flushLoop().catch((error: unknown) => {
        // A failed write or sync has poisoned the log already (see `fail`).
        if (this.failure === undefined) this.fail(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      // Every entry leaves the queue before it runs, so fail() cannot reach it: it is
      // settled here either way.
      const head = this.queue.shift()!;
      if (head.kind === 'group') {
        await this.writeGroup(head);
        continue;
      }
      try {
        if (head.kind === 'rotate') {
          await this.rotate();
          head.resolve(this.segment);
        } else {
          await this.datasync();
          head.resolve();
        }
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.fail(failure, head);
        throw failure;
      }
    }
    this.flushing = false;
  }

  /**
   * Writes a group's frames with one write; under fsync=always that write goes through
   * to the disk (the segment's handle `writesThrough`), else it is followed by one
   * fdatasync. Either way the group resolves only once its bytes are durable.
   */
  private async writeGroup(group: CommitGroup): Promise<void> {
    this.queuedFrames -= group.frames;
    try {
      if (this.segmentBytes > SEGMENT_HEADER_BYTES && this.segmentBytes + group.bytes > this.options.segmentBytesMax) {
        await this.rotate();
      }
      const always = this.options.fsyncPolicy.kind === 'always';
      if (always && this.handle.writesThrough) {
        await this.timedSync(() => this.handle.writeAll(group.buffer.subarray(0, group.bytes), this.segmentBytes));
      } else {
        await this.handle.writeAll(group.buffer.subarray(0, group.bytes), this.segmentBytes);
        this.dirty = true;
      }
      // A completed write has taken its bytes (FileHandle.writeAll): the next group may
      // encode into this buffer while this one's fdatasync, if any, runs.
      this.groupBuffers.release(group.buffer, group.bytes);
      this.segmentBytes += group.bytes;
      if (always) await this.datasync();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.fail(failure, group);
      throw failure;
    }

    const { metrics } = this.options;
    metrics.bytesWritten.inc(group.bytes);
    metrics.recordsWritten.inc(group.records);
    metrics.groupCommitRecords.observe(group.records);
    group.resolve(this.segment);
  }

  private async datasync(): Promise<void> {
    if (!this.dirty) return;
    await this.timedSync(() => this.handle.datasync());
    this.dirty = false;
  }

  /**
   * Runs what makes bytes durable (an fdatasync, or a write through) and reports how long
   * it took: the fsync duration metric and the slow-fsync warning cover both, since under
   * fsync=always the write through is where the disk's sync time is spent.
   */
  private async timedSync(makeDurable: () => Promise<void>): Promise<void> {
    const started = performance.now();
    await makeDurable();
    const elapsedMs = performance.now() - started;
    this.options.metrics.fsyncDuration.observe(elapsedMs / 1000);
    if (elapsedMs > FSYNC_SLOW_MS) {
      this.options.logger.warn({ segment: this.segment.toString(), elapsedMs: Math.round(elapsedMs) }, 'slow WAL fsync');
    }
  }

  private async rotate(): Promise<void> {
    // The old segment is synced whatever the policy, so only the last segment can
    // ever hold a torn tail; recovery depends on that.
    this.dirty = true;
    await this.datasync();
    // The next segment exists before the old handle is closed, so `handle` always names
    // an open file: a rotation that cannot create its segment leaves the old one for
    // close() to close, once. Closing it here and failing after would have left close()
    // a second close(2) of a number that may belong to another file by then.
    const next = await WriteAheadLog.createSegment(this.options, this.segment + 1n);
    const old = this.handle;
    this.handle = next;
    this.segment += 1n;
    this.segmentBytes = SEGMENT_HEADER_BYTES;
    await old.close();
    this.options.logger.debug({ segment: this.segment.toString() }, 'WAL segment started');
  }

  /**
   * Poisons the log, then rejects `failed` (the entry whose write or sync failed, which
   * has left the queue) and everything queued. The poison comes first: a caller acting
   * on its rejection (a retry, a checkpoint) must find the log refusing, not accept an
   * append that only a later step would reject with another error.
   */
  private fail(error: Error, failed?: Pending): void {
    this.failure = error;
    this.options.logger.error({ err: error, segment: this.segment.toString() }, 'WAL write or sync failed; no further writes are accepted');
    failed?.reject(error);
    for (const item of this.queue.splice(0)) item.reject(error);
    this.queuedFrames = 0;
    this.flushing = false;
  }
}
