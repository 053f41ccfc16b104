// Opens a WAL directory after a clean stop or a crash: replays the segments a
// checkpoint has not covered, repairs a torn tail, refuses to start on corruption
// (or skips it when the operator asked), and returns a writer on a fresh segment.
//
// What recovery does, in the words docs/operations/storage.md repeats:
//   - segments below `fromSegment` are covered by the store's checkpoint and deleted;
//   - a torn tail in the last segment is copied to `<file>.broken`, cut off, and the
//     number of dropped bytes logged; those bytes were never acknowledged;
//   - a checksum mismatch or impossible length anywhere else, a bad header, or a
//     missing segment (including the first one the checkpoint names) stops start-up with a WalCorruptError naming the file and
//     offset, because acknowledged writes lie there; with `skipCorrupt` the damaged
//     rest of that segment is copied to `.broken`, cut off, and logged exactly.
import { join } from 'node:path';
import { WalCorruptError } from '../../errors/errors.js';
import type { Logger } from '../../logging/logger.js';
import type { KvRecord } from '../record.js';
import { decodeBatch } from '../record-codec.js';
import { encodeSegmentHeader, FrameType, parseSegmentFileName, SEGMENT_HEADER_BYTES, segmentFileName } from './wal-format.js';
import { makeDirectoryDurable } from '../../fs/durable-directory.js';
import type { FileSystem } from '../../fs/file-system.js';
import { readSegment } from './segment-reader.js';
import { WriteAheadLog, type WalWriterOptions } from './write-ahead-log.js';

export interface WalRecoveryOptions {
  /** The first segment the store has not checkpointed; older segments are deleted. */
  readonly fromSegment: bigint;
  /** Skip corrupt data instead of refusing to start (an explicit operator decision). */
  readonly skipCorrupt: boolean;
  /** Receives every recovered record batch in log order. */
  readonly onBatch: (records: KvRecord[]) => Promise<void> | void;
  /** Receives every recovered discard frame, in log order among the batches (wal-format.ts). */
  readonly onDiscard: (entries: KvRecord[]) => Promise<void> | void;
}

export interface WalRecoveryReport {
  readonly segmentsReplayed: number;
  readonly batchesReplayed: number;
  readonly recordsReplayed: number;
  /** Keys named by the discard frames replayed. */
  readonly discardsReplayed: number;
  readonly tornBytesDropped: number;
  readonly corruptBytesSkipped: number;
}

async function listSegments(fileSystem: FileSystem, dir: string): Promise<bigint[]> {
  const segments: bigint[] = [];
  for (const name of await fileSystem.listDirectory(dir)) {
    const number = parseSegmentFileName(name);
    if (number !== undefined) segments.push(number);
  }
  return segments.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function keepBrokenCopy(fileSystem: FileSystem, path: string): Promise<string> {
  let copy = `${path}.broken`;
  for (let n = 1; await fileSystem.exists(copy); n++) copy = `${path}.${n}.broken`;
  await fileSystem.copyFile(path, copy);
  return copy;
}

/**
 * Cuts a segment to its good prefix. A segment whose header itself was bad gets a
 * fresh header instead of being removed, so the numbering keeps no gap.
 */
async function cutSegment(fileSystem: FileSystem, path: string, segment: bigint, length: number): Promise<void> {
  const handle = await fileSystem.openForWrite(path, false);
  try {
    if (length < SEGMENT_HEADER_BYTES) {
      await handle.writeAll(encodeSegmentHeader(segment), 0);
      length = SEGMENT_HEADER_BYTES;
    }
    await handle.truncate(length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

export async function openWriteAheadLog(
  options: WalWriterOptions,
  recovery: WalRecoveryOptions,
): Promise<{ wal: WriteAheadLog; report: WalRecoveryReport }> {
  const { fileSystem, dir, logger } = options;
  // Durably: a first start that lost power after its first acknowledged write would
  // otherwise lose the directory's name, and every segment with it.
  await makeDirectoryDurable(fileSystem, dir);
  const all = await listSegments(fileSystem, dir);

  const covered = all.filter((segment) => segment < recovery.fromSegment);
  for (const segment of covered) await fileSystem.remove(join(dir, segmentFileName(segment)));
  if (covered.length > 0) {
    await fileSystem.syncDirectory(dir);
    logger.info({ segments: covered.length }, 'removed WAL segments already covered by the checkpoint');
  }

  const segments = all.filter((segment) => segment >= recovery.fromSegment);
  const report = { segmentsReplayed: 0, batchesReplayed: 0, recordsReplayed: 0, discardsReplayed: 0, tornBytesDropped: 0, corruptBytesSkipped: 0 };
  // The checkpoint's rollover created segment `fromSegment` before the marker named it,
  // so the log must start exactly there: anything else means acknowledged data is gone.
  if (segments.length === 0 && recovery.fromSegment > 0n) {
    const path = join(dir, segmentFileName(recovery.fromSegment));
    const missing = new WalCorruptError(path, 0, `the store's checkpoint names segment ${recovery.fromSegment} but the WAL directory holds no segment`);
    if (!recovery.skipCorrupt) throw missing;
    logger.error({ file: path }, 'the WAL is missing entirely; starting from the store alone (skip-corrupt)');
  }
  let expected = recovery.fromSegment;
  for (const [index, segment] of segments.entries()) {
    const path = join(dir, segmentFileName(segment));
    if (segment !== expected) {
      const gap = new WalCorruptError(path, 0, `segment ${expected} is missing before it`);
      if (!recovery.skipCorrupt) throw gap;
      logger.error({ file: path, missingFrom: String(expected), missingTo: String(segment - 1n) }, 'skipping missing WAL segments (skip-corrupt)');
    }
    expected = segment + 1n;
    await replaySegment(fileSystem, logger, path, segment, index === segments.length - 1, recovery, report);
    report.segmentsReplayed++;
  }

  const last = segments.at(-1);
  const next = last === undefined ? recovery.fromSegment : last + 1n;
  const wal = await WriteAheadLog.create(options, next);
  return { wal, report };
}

async function replaySegment(
  fileSystem: FileSystem,
  logger: Logger,
  path: string,
  segment: bigint,
  isLast: boolean,
  recovery: WalRecoveryOptions,
  report: { batchesReplayed: number; recordsReplayed: number; discardsReplayed: number; tornBytesDropped: number; corruptBytesSkipped: number },
): Promise<void> {
  const bytes = await fileSystem.readFile(path);
  const contents = readSegment(bytes, segment, isLast);
  let goodBytes = contents.goodBytes;
  let end = contents.end;

  for (const frame of contents.frames) {
    let records: KvRecord[];
    try {
      records = decodeBatch(frame.payload);
    } catch (error) {
      // The checksum matched but the payload does not parse: written by a different
      // format or damaged before it was checksummed. Either way it is not a torn tail.
      goodBytes = frame.offset;
      end = { kind: 'corrupt', offset: frame.offset, reason: `undecodable record batch: ${(error as Error).message}` };
      break;
    }
    if (frame.type === FrameType.Discard) {
      await recovery.onDiscard(records);
      report.discardsReplayed += records.length;
      continue;
    }
    await recovery.onBatch(records);
    report.batchesReplayed++;
    report.recordsReplayed += records.length;
  }

  if (end.kind === 'clean') return;
  const droppedBytes = bytes.length - goodBytes;
  if (end.kind === 'torn') {
    const copy = await keepBrokenCopy(fileSystem, path);
    await cutSegment(fileSystem, path, segment, goodBytes);
    report.tornBytesDropped += droppedBytes;
    logger.warn({ file: path, offset: end.offset, droppedBytes, reason: end.reason, brokenCopy: copy }, 'cut torn tail of the last WAL segment');
    return;
  }
  if (!recovery.skipCorrupt) throw new WalCorruptError(path, end.offset, end.reason);
  const copy = await keepBrokenCopy(fileSystem, path);
  await cutSegment(fileSystem, path, segment, goodBytes);
  report.corruptBytesSkipped += droppedBytes;
  logger.error(
    { file: path, offset: end.offset, skippedBytes: droppedBytes, reason: end.reason, brokenCopy: copy },
    'skipped corrupt WAL data (skip-corrupt): acknowledged writes in these bytes are lost on this replica',
  );
}
