// Damage tests for WAL recovery: each kind of damage gets exactly the behaviour the
// recovery rules define (src/storage/wal/wal-recovery.ts): torn tails in the last
// segment are cut after a `.broken` copy; everything else refuses to start with the
// file and offset, unless skip-corrupt is set, which logs what it skipped.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, truncate, writeFile, appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { QkvError, WalCorruptError } from '../../src/errors/errors.js';
import type { KvRecord } from '../../src/storage/record.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { nodeFileSystem, type FileSystem } from '../../src/fs/file-system.js';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, segmentFileName } from '../../src/storage/wal/wal-format.js';
import { readSegment } from '../../src/storage/wal/segment-reader.js';
import { noWalMetrics } from '../../src/storage/storage-metrics.js';
import { openWriteAheadLog, type WalRecoveryReport } from '../../src/storage/wal/wal-recovery.js';
import type { WalWriterOptions } from '../../src/storage/wal/write-ahead-log.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';

function recordNumber(n: number): KvRecord {
  return { key: Buffer.from(`key-${n}`), value: Buffer.alloc(50, n), version: { stamp: BigInt(n), nodeId: 'node-a' }, expiresAtMs: 0 };
}

/** Bytes one frame holding recordNumber(n) occupies. */
function frameBytesOf(n: number): number {
  return FRAME_HEADER_BYTES + encodeBatch([recordNumber(n)]).length;
}

function writerOptions(dir: string, logger = new RecordingLogger(), fileSystem: FileSystem = nodeFileSystem, segmentBytesMax = 1 << 20): WalWriterOptions {
  return { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax, fileSystem, logger, metrics: noWalMetrics };
}

/** Writes `count` single-record frames and closes the log; returns the segment files. */
async function writeLog(dir: string, count: number, segmentBytesMax = 1 << 20): Promise<string[]> {
  const { wal } = await openWriteAheadLog(writerOptions(dir, undefined, undefined, segmentBytesMax), { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} });
  for (let n = 1; n <= count; n++) await wal.append(encodeBatch([recordNumber(n)]), 1);
  await wal.close();
  return (await readdir(dir)).filter((name) => name.endsWith('.log')).sort().map((name) => join(dir, name));
}

async function recover(dir: string, skipCorrupt = false, logger = new RecordingLogger()): Promise<{ records: KvRecord[]; report: WalRecoveryReport; logger: RecordingLogger }> {
  const records: KvRecord[] = [];
  const { wal, report } = await openWriteAheadLog(writerOptions(dir, logger), { fromSegment: 0n, skipCorrupt, onBatch: (batch) => void records.push(...batch), onDiscard: () => {} });
  await wal.close();
  return { records, report, logger };
}

async function expectCorrupt(dir: string, file: string, offset: number): Promise<void> {
  await assert.rejects(recover(dir), (error: unknown) => {
    assert.ok(error instanceof WalCorruptError, `expected WalCorruptError, got ${String(error)}`);
    assert.equal(error.code, 'WAL_CORRUPT');
    assert.equal(error.file, file);
    assert.equal(error.offset, offset);
    assert.match(error.message, new RegExp(`${segmentFileName(0n)}|${file.split('/').at(-1)}`));
    return true;
  });
}

async function flipBit(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[offset]! ^= 0x10;
  await writeFile(file, bytes);
}

async function logDir(_t?: TestContext): Promise<string> {
  return join(await tempDir(), 'wal');
}

describe('WAL recovery', () => {
  it('replays every acknowledged frame of a clean log', async (t) => {
    const dir = await logDir(t);
    await writeLog(dir, 30);
    const { records, report } = await recover(dir);
    assert.deepEqual(records, Array.from({ length: 30 }, (_, i) => recordNumber(i + 1)));
    assert.equal(report.tornBytesDropped, 0);
  });

  it('cuts a tail cut mid-frame, keeps a .broken copy and logs the dropped bytes', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 10);
    const size = (await stat(file!)).size;
    await truncate(file!, size - 7);
    const { records, report, logger } = await recover(dir);
    assert.deepEqual(records, Array.from({ length: 9 }, (_, i) => recordNumber(i + 1)));
    assert.equal(report.tornBytesDropped, frameBytesOf(10) - 7);
    assert.equal((await stat(`${file}.broken`)).size, size - 7);
    assert.equal((await stat(file!)).size, size - frameBytesOf(10));
    const warning = logger.find(/torn tail/);
    assert.equal(warning?.fields['droppedBytes'], frameBytesOf(10) - 7);
    // The repair is durable: the next start is clean and sees the same nine records.
    const again = await recover(dir);
    assert.equal(again.records.length, 9);
    assert.equal(again.report.tornBytesDropped, 0);
  });

  it('cuts a zero-filled tail', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 5);
    await appendFile(file!, Buffer.alloc(4096));
    const { records, report } = await recover(dir);
    assert.equal(records.length, 5);
    assert.equal(report.tornBytesDropped, 4096);
  });

  it('cuts a last frame whose bytes were torn to zeros at the end of the file', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 5);
    const bytes = await readFile(file!);
    bytes.fill(0, bytes.length - 20);
    await writeFile(file!, bytes);
    const { records, report } = await recover(dir);
    assert.equal(records.length, 4);
    assert.equal(report.tornBytesDropped, frameBytesOf(5));
  });

  it('refuses to start on a flipped bit mid-log, naming the file and offset', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 10);
    const thirdFrame = SEGMENT_HEADER_BYTES + frameBytesOf(1) + frameBytesOf(2);
    await flipBit(file!, thirdFrame + FRAME_HEADER_BYTES + 3);
    await expectCorrupt(dir, file!, thirdFrame);
    // Nothing was cut by the refusal.
    assert.equal(await readdir(dir).then((names) => names.some((name) => name.endsWith('.broken'))), false);
  });

  it('skips a flipped bit mid-log only when asked, logging exactly what it skipped', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 10);
    const size = (await stat(file!)).size;
    const thirdFrame = SEGMENT_HEADER_BYTES + frameBytesOf(1) + frameBytesOf(2);
    await flipBit(file!, thirdFrame + FRAME_HEADER_BYTES + 3);
    const { records, report, logger } = await recover(dir, true);
    assert.deepEqual(records, [recordNumber(1), recordNumber(2)]);
    assert.equal(report.corruptBytesSkipped, size - thirdFrame);
    const entry = logger.find(/skipped corrupt WAL data/);
    assert.equal(entry?.level, 'error');
    assert.equal(entry?.fields['file'], file);
    assert.equal(entry?.fields['offset'], thirdFrame);
    assert.equal(entry?.fields['skippedBytes'], size - thirdFrame);
  });

  it('refuses a flipped bit in an early frame length that points past the end of the file', async () => {
    const dir = await logDir();
    const [file] = await writeLog(dir, 50);
    const thirdFrame = SEGMENT_HEADER_BYTES + frameBytesOf(1) + frameBytesOf(2);
    const bytes = await readFile(file!);
    bytes.writeUInt32BE(bytes.readUInt32BE(thirdFrame) + 65536, thirdFrame);
    await writeFile(file!, bytes);
    await expectCorrupt(dir, file!, thirdFrame);
  });

  it('refuses a zeroed header with acknowledged frames after it', async () => {
    const dir = await logDir();
    const [file] = await writeLog(dir, 20);
    const bytes = await readFile(file!);
    bytes.fill(0, 0, SEGMENT_HEADER_BYTES);
    await writeFile(file!, bytes);
    await expectCorrupt(dir, file!, 0);
  });

  it('refuses a log whose first uncovered segment is missing', async () => {
    const dir = await logDir();
    const files = await writeLog(dir, 40, 600);
    await rm(files[0]!);
    await assert.rejects(recover(dir), (error: unknown) => error instanceof QkvError && error.code === 'WAL_CORRUPT' && /missing/.test(error.message));
  });

  it('refuses a segment with the wrong magic', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 3);
    const bytes = await readFile(file!);
    bytes.write('XXXX', 0, 'ascii');
    await writeFile(file!, bytes);
    await expectCorrupt(dir, file!, 0);
  });

  it('refuses an oversized frame length even at the end of the last segment', async (t) => {
    const dir = await logDir(t);
    const [file] = await writeLog(dir, 4);
    const lastFrame = SEGMENT_HEADER_BYTES + frameBytesOf(1) + frameBytesOf(2) + frameBytesOf(3);
    const bytes = await readFile(file!);
    bytes.writeUInt32BE(0xfffffff0, lastFrame);
    await writeFile(file!, bytes);
    await expectCorrupt(dir, file!, lastFrame);
  });

  it('treats a damaged last frame of an earlier segment as corruption, not a torn tail', async (t) => {
    const dir = await logDir(t);
    const files = await writeLog(dir, 40, 600);
    assert.ok(files.length >= 3, `expected several segments, got ${files.length}`);
    const first = files[0]!;
    const intact = readSegment(await readFile(first), 0n, false);
    const lastFrame = intact.frames.at(-1)!.offset;
    await truncate(first, intact.goodBytes - 3);
    await expectCorrupt(dir, first, lastFrame);
  });

  it('refuses a missing segment in the middle of the log', async (t) => {
    const dir = await logDir(t);
    const files = await writeLog(dir, 40, 600);
    assert.ok(files.length >= 3);
    await rm(files[1]!);
    await assert.rejects(recover(dir), (error: unknown) => error instanceof QkvError && error.code === 'WAL_CORRUPT' && /missing/.test(error.message));
  });

  it('repairs a last segment whose header a crash left unwritten', async (t) => {
    const dir = await logDir(t);
    const files = await writeLog(dir, 6);
    const next = join(dir, segmentFileName(BigInt(files.length)));
    await writeFile(next, Buffer.alloc(7));
    const { records, report } = await recover(dir);
    assert.equal(records.length, 6);
    assert.equal(report.tornBytesDropped, 7);
    assert.equal((await stat(next)).size, SEGMENT_HEADER_BYTES);
  });
});
