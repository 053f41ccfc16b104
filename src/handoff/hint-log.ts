// The durable hints for ONE peer: writes that peer missed, kept until it can take them.
//
// Format: a directory of WAL segments (src/storage/wal/wal-format.ts, same header, same
// CRC-32C frames) whose frames are record batches (src/storage/record-codec.ts) —
// exactly the records the peer missed. No other field is needed: the age of a hint is
// the wall time in its records' HLC stamps, which is what the hint window is about.
//
// Delivery takes whole segments: roll the log over to a fresh segment S, read every
// segment below S, send their records, delete them. A crash mid-delivery sends them
// again later, which last-writer-wins makes harmless. Damage is not fatal here: a torn
// or corrupt frame ends its segment, the rest of that segment is dropped and counted,
// and anti-entropy repairs what the hint would have carried.
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { HINT_SEGMENT_BYTES } from '../limits.js';
import type { KvRecord } from '../storage/record.js';
import { decodeBatch, encodeBatch } from '../storage/record-codec.js';
import { frameBytes, parseSegmentFileName, SEGMENT_HEADER_BYTES, segmentFileName } from '../storage/wal/wal-format.js';
import { makeDirectoryDurable } from '../fs/durable-directory.js';
import type { FileSystem } from '../fs/file-system.js';
import { noWalMetrics } from '../storage/storage-metrics.js';
import { readSegment } from '../storage/wal/segment-reader.js';
import { WriteAheadLog } from '../storage/wal/write-ahead-log.js';

export interface HintBatch {
  readonly records: KvRecord[];
  /** Bytes of the frames the records came from. */
  readonly bytes: number;
}

export interface SealedHints {
  /** Segments below this number are the ones read; `discard` deletes them. */
  readonly before: bigint;
  readonly batches: HintBatch[];
  /** Bytes lost to damage (torn or corrupt frames). */
  readonly damagedBytes: number;
  /** Bytes of every sealed segment, headers excluded. */
  readonly bytes: number;
  /** Sealed segment files, empty ones included. */
  readonly segments: number;
}

export class HintLog {
  private appendedSinceSeal = 0;
  private pending = 0;

  private constructor(
    private readonly dir: string,
    private readonly fileSystem: FileSystem,
    private readonly logger: Logger,
    private readonly wal: WriteAheadLog,
    pendingBytes: number,
  ) {
    this.pending = pendingBytes;
    this.appendedSinceSeal = pendingBytes > 0 ? 1 : 0;
  }

  /** Opens (creating) the hint directory of one peer; writing starts in a fresh segment. */
  static async open(dir: string, fileSystem: FileSystem, logger: Logger): Promise<HintLog> {
    // Durably: the peer's directory name must outlive a power cut with the hints in it.
    await makeDirectoryDurable(fileSystem, dir);
    let highest = 0n;
    let pendingBytes = 0;
    for (const name of await fileSystem.listDirectory(dir)) {
      const segment = parseSegmentFileName(name);
      if (segment === undefined) continue;
      if (segment > highest) highest = segment;
      const bytes = (await fileSystem.readFile(join(dir, name))).length;
      pendingBytes += Math.max(0, bytes - SEGMENT_HEADER_BYTES);
    }
    const wal = await WriteAheadLog.create(
      {
        dir,
        fsyncPolicy: { kind: 'always' },
        segmentBytesMax: HINT_SEGMENT_BYTES,
        fileSystem,
        logger,
        // Hint writes are not WAL writes: their metrics stay out of the node's WAL series.
        metrics: noWalMetrics,
      },
      highest + 1n,
    );
    return new HintLog(dir, fileSystem, logger, wal, pendingBytes);
  }

  /** Bytes of hints held (frames, headers excluded). */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Appends records; resolves once they are durable. Returns the bytes added. */
  async append(records: readonly KvRecord[]): Promise<number> {
    const payload = encodeBatch(records);
    const bytes = frameBytes(payload.length);
    this.pending += bytes;
    this.appendedSinceSeal++;
    try {
      await this.wal.append(payload, records.length);
    } catch (error) {
      this.pending -= bytes;
      throw error;
    }
    return bytes;
  }

  /**
   * Closes the segment being written and reads every hint written so far. Appends made
   * meanwhile go to the new segment and wait for the next delivery.
   */
  async seal(): Promise<SealedHints> {
    let before: bigint;
    if (this.appendedSinceSeal > 0) {
      before = await this.wal.rollover();
      this.appendedSinceSeal = 0;
    } else {
      before = this.wal.currentSegment;
    }
    const batches: HintBatch[] = [];
    let damagedBytes = 0;
    let totalBytes = 0;
    const segments = (await this.fileSystem.listDirectory(this.dir))
      .map((name) => parseSegmentFileName(name))
      .filter((segment): segment is bigint => segment !== undefined && segment < before)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const segment of segments) {
      const path = join(this.dir, segmentFileName(segment));
      const bytes = await this.fileSystem.readFile(path);
      totalBytes += Math.max(0, bytes.length - SEGMENT_HEADER_BYTES);
      const contents = readSegment(bytes, segment, true);
      for (const frame of contents.frames) {
        try {
          batches.push({ records: decodeBatch(frame.payload), bytes: frameBytes(frame.payload.length) });
        } catch (error) {
          damagedBytes += frameBytes(frame.payload.length);
          this.logger.warn({ file: path, offset: frame.offset, err: error }, 'undecodable hint frame dropped');
        }
      }
      if (contents.end.kind !== 'clean') {
        damagedBytes += bytes.length - contents.goodBytes;
        this.logger.warn({ file: path, ...contents.end }, 'damaged hint segment: its rest is dropped');
      }
    }
    return { before, batches, damagedBytes, bytes: totalBytes, segments: segments.length };
  }

  /** Deletes the segments a delivery has sent (or given up on). */
  async discard(sealed: SealedHints): Promise<void> {
    if (sealed.segments === 0) return;
    await this.wal.removeSegmentsBefore(sealed.before);
    this.pending = Math.max(0, this.pending - sealed.bytes);
  }

  async close(): Promise<void> {
    await this.wal.close();
  }
}
