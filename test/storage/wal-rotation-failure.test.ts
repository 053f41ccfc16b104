// A WAL rotation that cannot create its next segment (a full disk refuses the new
// segment's header, its sync fails): the group that needed the rotation is rejected,
// the log is poisoned as after any failed write, and close() still releases every file
// descriptor exactly once: the old segment's (already closed by the rotation, so it must
// not be closed again: its number may belong to another file by then) and the new
// segment's, which was opened before its header failed. The file system is node:fs with
// a fault on the header write of a segment created after the first; each handle counts
// its closes. A write that fails on a full disk after half its bytes (ENOSPC) poisons
// the log before any caller hears of it, and leaves a torn tail recovery cuts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeFileSystem, type FileSystem } from '../../src/fs/file-system.js';
import type { KvRecord } from '../../src/storage/record.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { noWalMetrics } from '../../src/storage/storage-metrics.js';
import { segmentFileName } from '../../src/storage/wal/wal-format.js';
import { openWriteAheadLog } from '../../src/storage/wal/wal-recovery.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';

const SEGMENT_BYTES_MAX = 4096;

function recordNumber(n: number): KvRecord {
  // About 3 KB: two of them do not fit one segment, so the second append rotates.
  return { key: Buffer.from(`key-${n}`), value: Buffer.alloc(3000, n), version: { stamp: BigInt(n), nodeId: 'node-a' }, expiresAtMs: 0 };
}

/** node:fs, with closes counted per opened file and the header write of new segments failing on demand. */
class CountingFileSystem {
  /** Path of every handle opened, with how often it was closed. */
  readonly handles: Array<{ path: string; closes: number }> = [];
  failNewSegmentHeaders = false;
  /** Every write into a segment past its header reaches half its bytes, then fails with ENOSPC. */
  failAppends = false;

  fileSystem(): FileSystem {
    return {
      ...nodeFileSystem,
      openForWrite: async (path, create, options) => {
        const handle = await nodeFileSystem.openForWrite(path, create, options);
        const counted = { path, closes: 0 };
        this.handles.push(counted);
        return {
          writesThrough: handle.writesThrough,
          truncate: (length) => handle.truncate(length),
          sync: () => handle.sync(),
          chmod: (mode) => handle.chmod(mode),
          datasync: () => handle.datasync(),
          writeAll: async (bytes, position) => {
            if (create && position === 0 && this.failNewSegmentHeaders) {
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            }
            if (position > 0 && this.failAppends) {
              await handle.writeAll(bytes.subarray(0, Math.floor(bytes.length / 2)), position);
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            }
            await handle.writeAll(bytes, position);
          },
          close: async () => {
            counted.closes++;
            // The real descriptor is closed once only: a second close(2) of its number
            // would close whatever file has it by then, which is the defect looked for.
            if (counted.closes === 1) await handle.close();
          },
        };
      },
    };
  }
}

describe('WAL rotation that cannot create the next segment', () => {
  it('rejects the group, poisons the log, and closes every segment handle exactly once', async () => {
    const dir = join(await tempDir(), 'wal');
    const counting = new CountingFileSystem();
    const { wal } = await openWriteAheadLog(
      { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: SEGMENT_BYTES_MAX, fileSystem: counting.fileSystem(), logger: new RecordingLogger(), metrics: noWalMetrics },
      { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} },
    );
    await wal.append(encodeBatch([recordNumber(1)]), 1);
    counting.failNewSegmentHeaders = true;
    await assert.rejects(wal.append(encodeBatch([recordNumber(2)]), 1), /ENOSPC/);
    assert.match(wal.failed?.message ?? '', /ENOSPC/, 'the log is poisoned');
    await assert.rejects(wal.append(encodeBatch([recordNumber(3)]), 1), /failed earlier/);
    await wal.close();

    const segments = counting.handles.filter((handle) => handle.path.startsWith(dir));
    assert.deepEqual(
      segments.map((handle) => handle.path),
      [join(dir, segmentFileName(0n)), join(dir, segmentFileName(1n))],
      'the first segment, and the one the rotation began',
    );
    for (const handle of segments) assert.equal(handle.closes, 1, `${handle.path} closed exactly once`);

    // The acknowledged record is what a restart finds; the half-made segment is repaired.
    const records: KvRecord[] = [];
    const reopened = await openWriteAheadLog(
      { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: SEGMENT_BYTES_MAX, fileSystem: nodeFileSystem, logger: new RecordingLogger(), metrics: noWalMetrics },
      { fromSegment: 0n, skipCorrupt: false, onBatch: (batch) => void records.push(...batch), onDiscard: () => {} },
    );
    await reopened.wal.close();
    assert.deepEqual(records, [recordNumber(1)]);
  });
});

describe('WAL write that fails on a full disk', () => {
  it('is poisoned by the time a caller learns its group failed: an append issued right then is refused as such', async () => {
    const dir = join(await tempDir(), 'wal');
    const counting = new CountingFileSystem();
    const { wal } = await openWriteAheadLog(
      { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: 1 << 20, fileSystem: counting.fileSystem(), logger: new RecordingLogger(), metrics: noWalMetrics },
      { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} },
    );
    await wal.append(encodeBatch([recordNumber(1)]), 1);
    counting.failAppends = true;
    let failedWhenRejected: Error | undefined;
    let appendedThen: Promise<bigint> | undefined;
    const rejection = wal.append(encodeBatch([recordNumber(2)]), 1).then(
      () => assert.fail('a group whose write failed was acknowledged'),
      (error: unknown) => {
        // The caller's first chance to act on the failure: a coordinator retrying, a
        // checkpoint starting. The log must already say it failed.
        failedWhenRejected = wal.failed;
        appendedThen = wal.append(encodeBatch([recordNumber(3)]), 1);
        return error;
      },
    );
    assert.match(String(await rejection), /ENOSPC/);
    assert.match(failedWhenRejected?.message ?? '(not failed)', /ENOSPC/, 'the log is poisoned when the group is rejected');
    await assert.rejects(appendedThen!, /the WAL failed earlier and accepts no writes until restart: ENOSPC/);
    await wal.close();

    const records: KvRecord[] = [];
    const reopened = await openWriteAheadLog(
      { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: 1 << 20, fileSystem: nodeFileSystem, logger: new RecordingLogger(), metrics: noWalMetrics },
      { fromSegment: 0n, skipCorrupt: false, onBatch: (batch) => void records.push(...batch), onDiscard: () => {} },
    );
    await reopened.wal.close();
    assert.deepEqual(records, [recordNumber(1)], 'the half-written group is cut as a torn tail');
    assert.equal(reopened.report.tornBytesDropped > 0, true);
  });
});
