// The memory a restore's merge holds (src/backup/snapshot-merge.ts): merging
// RESTORE_MERGE_FILES_MAX member files whose frames are full scan pages
// (SCAN_PAGE_BYTES_MAX of 1 KB values, as a backup of a busy member writes them) stays
// within RESTORE_MERGE_BYTES_MAX. The files go through the real decoder
// (readSnapshotFrames) in chunks of the directory store's read size; they are held in
// memory rather than written 16 times to disk, which would measure the same decoder.
// Live memory is read after a forced garbage collection at every frame read, so the
// figure is what the merge keeps, not garbage that has yet to be collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mergeSnapshots } from '../../src/backup/snapshot-merge.js';
import { encodeSnapshotFrame, readSnapshotFrames, snapshotHeader } from '../../src/backup/snapshot-file.js';
import { RESTORE_MERGE_BYTES_MAX, RESTORE_MERGE_FILES_MAX, SCAN_PAGE_BYTES_MAX } from '../../src/limits.js';
import type { KvRecord } from '../../src/storage/record.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const VALUE_BYTES = 1000;
const FRAMES_PER_FILE = 3;
/** The directory store's read size (directory-backup-store.ts highWaterMark). */
const READ_CHUNK_BYTES = 1024 * 1024;

/** One member's file: full frames of keys whose token is their first 8 bytes, in scan order. */
function snapshotFile(): Buffer {
  const recordsPerFrame = Math.floor(SCAN_PAGE_BYTES_MAX / (VALUE_BYTES + 8));
  const parts = [snapshotHeader()];
  for (let frame = 0; frame < FRAMES_PER_FILE; frame += 1) {
    const records: KvRecord[] = [];
    for (let index = 0; index < recordsPerFrame; index += 1) {
      const key = Buffer.alloc(8);
      key.writeBigUInt64BE(BigInt(frame * recordsPerFrame + index + 1) * 1_000_003n);
      records.push({ key, value: Buffer.alloc(VALUE_BYTES, index), version: { stamp: 1n, nodeId: 'qkv-1' }, expiresAtMs: 0 });
    }
    parts.push(encodeSnapshotFrame(records));
  }
  return Buffer.concat(parts);
}

async function* readInChunks(file: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < file.length; at += READ_CHUNK_BYTES) yield Buffer.from(file.subarray(at, at + READ_CHUNK_BYTES));
}

function liveBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

test(`merging RESTORE_MERGE_FILES_MAX (${RESTORE_MERGE_FILES_MAX}) files of full frames holds at most RESTORE_MERGE_BYTES_MAX`, async () => {
  // Every member holds the same keys (each key in every file), so every file holds a frame at once.
  const file = snapshotFile();
  const files = Array.from({ length: RESTORE_MERGE_FILES_MAX }, (_, index) => readSnapshotFrames(readInChunks(file), `set/qkv-${index}.snap`));
  const baseBytes = liveBytes();
  let peakBytes = 0;
  let keys = 0;
  const events = { onFrame: () => (peakBytes = Math.max(peakBytes, liveBytes() - baseBytes)), onFileDone: () => {} };
  for await (const _ of mergeSnapshots(files, (key) => key.readBigUInt64BE(0), events)) {
    void _;
    keys += 1;
  }
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  console.log(`merged ${RESTORE_MERGE_FILES_MAX} files of ${mib(file.length)}: ${keys} keys, at most ${mib(peakBytes)} held (${mib(peakBytes / RESTORE_MERGE_FILES_MAX)} per file)`);
  assert.equal(keys, FRAMES_PER_FILE * Math.floor(SCAN_PAGE_BYTES_MAX / (VALUE_BYTES + 8)));
  assert.ok(peakBytes <= RESTORE_MERGE_BYTES_MAX, `the merge held ${mib(peakBytes)}; the limit is ${mib(RESTORE_MERGE_BYTES_MAX)}`);
});
