// The WAL's group commit on real files: when an append is acknowledged (only once its
// group's write through returns under fsync=always, or after the fdatasync that follows
// the write on a file system that cannot write through; never with an earlier group's,
// ADR 0262), and that the
// group buffers frames are encoded into (group-buffers.ts, ADR 0252) are never written
// into while the file system may still read them. A gate in the file-system port holds a
// write or a sync where the test wants it; the bytes still go to a real file, and what
// the log holds is read back by recovery.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { constants } from 'node:fs';
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { nodeFileSystem, type FileSystem } from '../../src/fs/file-system.js';
import { PowerCutDisk, PowerCutError } from '../../src/fs/power-cut-file-system.js';
import type { KvRecord } from '../../src/storage/record.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { noWalMetrics } from '../../src/storage/storage-metrics.js';
import { WAL_GROUP_COMMIT_BYTES_MAX } from '../../src/limits.js';
import { GROUP_BUFFER_BYTES_INITIAL, GROUP_BUFFER_BYTES_KEPT_MAX, GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK, GroupBuffers } from '../../src/storage/wal/group-buffers.js';
import { openWriteAheadLog } from '../../src/storage/wal/wal-recovery.js';
import { segmentFileName } from '../../src/storage/wal/wal-format.js';
import type { WriteAheadLog } from '../../src/storage/wal/write-ahead-log.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';

function recordNumber(n: number, valueBytes = 50): KvRecord {
  return { key: Buffer.from(`key-${n}`), value: Buffer.alloc(valueBytes, n % 251), version: { stamp: BigInt(n), nodeId: 'node-a' }, expiresAtMs: 0 };
}

/** One gate in front of the next write or sync of a log's segment files. */
class IoGate {
  /** What reached the file system, in order: 'write' or 'datasync'. */
  readonly calls: string[] = [];
  private held: 'write' | 'datasync' | undefined;
  private waiting: Array<() => void> = [];
  private entered: Array<() => void> = [];

  /** From now on, every call of `kind` waits until `open`. */
  hold(kind: 'write' | 'datasync'): void {
    this.held = kind;
  }

  /** Resolves once a held call is waiting at the gate. */
  reached(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.entered.push(resolve));
  }

  /** Lets every waiting call through, and no longer holds any. */
  open(): void {
    this.held = undefined;
    for (const release of this.waiting.splice(0)) release();
  }

  async pass(kind: 'write' | 'datasync'): Promise<void> {
    if (this.held === kind) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        for (const notify of this.entered.splice(0)) notify();
      });
    }
    this.calls.push(kind);
  }

  /**
   * node:fs behind the gate. `writeThrough: false` opens every handle without write
   * through, whatever the log asks: a file system that cannot write through, which
   * must get a write and an fdatasync per group.
   */
  fileSystem({ writeThrough = true }: { writeThrough?: boolean } = {}): FileSystem {
    return {
      ...nodeFileSystem,
      openForWrite: async (path, create, options) => {
        const handle = await nodeFileSystem.openForWrite(path, create, { ...options, writeThrough: writeThrough && options?.writeThrough === true });
        return {
          writesThrough: handle.writesThrough,
          truncate: (length) => handle.truncate(length),
          close: () => handle.close(),
          sync: () => handle.sync(),
          chmod: (mode) => handle.chmod(mode),
          datasync: async () => {
            await this.pass('datasync');
            await handle.datasync();
          },
          writeAll: async (bytes, position) => {
            // The bytes are read only after the gate: a buffer changed meanwhile is
            // what reaches the file.
            await this.pass('write');
            await handle.writeAll(bytes, position);
          },
        };
      },
    };
  }
}

async function openLog(dir: string, fileSystem: FileSystem = nodeFileSystem): Promise<WriteAheadLog> {
  const { wal } = await openWriteAheadLog(
    { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: 64 << 20, fileSystem, logger: new RecordingLogger(), metrics: noWalMetrics },
    { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} },
  );
  return wal;
}

/** Every record the log in `dir` holds, by recovery from the files. */
async function recovered(dir: string): Promise<KvRecord[]> {
  const records: KvRecord[] = [];
  const { wal } = await openWriteAheadLog(
    { dir, fsyncPolicy: { kind: 'always' }, segmentBytesMax: 64 << 20, fileSystem: nodeFileSystem, logger: new RecordingLogger(), metrics: noWalMetrics },
    { fromSegment: 0n, skipCorrupt: false, onBatch: (batch) => void records.push(...batch), onDiscard: () => {} },
  );
  await wal.close();
  return records;
}

/** The open(2) flags of this process's one descriptor of `path` (Linux: /proc/self/fdinfo). */
async function openFlagsOf(path: string): Promise<number> {
  path = await realpath(path);
  const found: number[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const flagsLine = /^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
    assert.ok(flagsLine, `no flags in /proc/self/fdinfo/${fd}`);
    found.push(parseInt(flagsLine[1]!, 8));
  }
  assert.equal(found.length, 1, `${found.length} descriptors of ${path}`);
  return found[0]!;
}

/** Whether a promise has settled by now (after the pending callbacks have run). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

const append = (wal: WriteAheadLog, n: number, valueBytes?: number): Promise<bigint> => wal.append(encodeBatch([recordNumber(n, valueBytes)]), 1);

describe('WAL group commit', () => {
  it('under fsync=always writes each group through (O_DSYNC): acknowledged only once that write returns, a later group only after its own, no fdatasync', async () => {
    const dir = join(await tempDir(), 'wal');
    const gate = new IoGate();
    const wal = await openLog(dir, gate.fileSystem());
    try {
      gate.calls.length = 0;
      gate.hold('write');
      const first = append(wal, 1);
      await gate.reached();
      assert.equal(await settled(first), false, 'not acknowledged while its write through is held');

      // Appended while the first group's write runs: the next group, which that write does not cover.
      const second = append(wal, 2);
      const third = append(wal, 3);
      gate.open();
      await first;
      gate.hold('write');
      await gate.reached();
      assert.deepEqual(gate.calls, ['write'], 'the second group is written after the first write returned');
      assert.equal(await settled(second), false, 'a group prepared during a write is not acknowledged with it');
      assert.equal(await settled(third), false);
      gate.open();
      await Promise.all([second, third]);
      assert.deepEqual(gate.calls, ['write', 'write'], 'one call per group: the write is the sync');
    } finally {
      gate.open();
      await wal.close();
    }
    assert.deepEqual(await recovered(dir), [recordNumber(1), recordNumber(2), recordNumber(3)]);
  });

  it('on a file system that cannot write through, acknowledges an append only after the fdatasync that follows its write', async () => {
    const dir = join(await tempDir(), 'wal');
    const gate = new IoGate();
    const wal = await openLog(dir, gate.fileSystem({ writeThrough: false }));
    try {
      gate.calls.length = 0;
      gate.hold('datasync');
      const first = append(wal, 1);
      await gate.reached();
      assert.deepEqual(gate.calls, ['write'], 'the first group is written, its sync held');
      assert.equal(await settled(first), false, 'not acknowledged while its fdatasync is held');

      // Appended while the first group syncs: the next group, which that sync does not cover.
      const second = append(wal, 2);
      const third = append(wal, 3);
      gate.open();
      await first;
      gate.hold('datasync');
      await gate.reached();
      assert.deepEqual(gate.calls, ['write', 'datasync', 'write'], 'the second group is written after the first sync returned');
      assert.equal(await settled(second), false, 'a group prepared during a sync is not acknowledged with it');
      assert.equal(await settled(third), false);
      gate.open();
      await Promise.all([second, third]);
      assert.deepEqual(gate.calls, ['write', 'datasync', 'write', 'datasync']);
    } finally {
      gate.open();
      await wal.close();
    }
    assert.deepEqual(await recovered(dir), [recordNumber(1), recordNumber(2), recordNumber(3)]);
  });

  it('opens its segment with O_DSYNC under fsync=always and without it under the other policies', async () => {
    for (const fsyncPolicy of [{ kind: 'always' }, { kind: 'interval', intervalMs: 1000 }, { kind: 'never' }] as const) {
      const dir = join(await tempDir(), 'wal');
      const { wal } = await openWriteAheadLog(
        { dir, fsyncPolicy, segmentBytesMax: 64 << 20, fileSystem: nodeFileSystem, logger: new RecordingLogger(), metrics: noWalMetrics },
        { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} },
      );
      try {
        await append(wal, 1);
        const flags = await openFlagsOf(join(dir, segmentFileName(wal.currentSegment)));
        assert.equal((flags & constants.O_DSYNC) !== 0, fsyncPolicy.kind === 'always', `fsync=${fsyncPolicy.kind}: flags 0${flags.toString(8)}`);
        // The segment a rotation creates is opened the same way.
        assert.equal(await wal.rollover(), 1n);
        await append(wal, 2);
        const rotatedFlags = await openFlagsOf(join(dir, segmentFileName(1n)));
        assert.equal((rotatedFlags & constants.O_DSYNC) !== 0, fsyncPolicy.kind === 'always', `fsync=${fsyncPolicy.kind} after a rotation: flags 0${rotatedFlags.toString(8)}`);
      } finally {
        await wal.close();
      }
    }
  });

  it('under fsync=interval and fsync=never acknowledges after the write alone; the interval timer still fdatasyncs, never only on sync()', async () => {
    for (const fsyncPolicy of [{ kind: 'interval', intervalMs: 20 }, { kind: 'never' }] as const) {
      const gate = new IoGate();
      const dir = join(await tempDir(), 'wal');
      const { wal } = await openWriteAheadLog(
        { dir, fsyncPolicy, segmentBytesMax: 64 << 20, fileSystem: gate.fileSystem(), logger: new RecordingLogger(), metrics: noWalMetrics },
        { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} },
      );
      try {
        const opened = gate.calls.length; // the new segment's header: a write and an fdatasync
        for (let n = 1; n <= 3; n++) await append(wal, n);
        assert.deepEqual(gate.calls.slice(opened), ['write', 'write', 'write'], `fsync=${fsyncPolicy.kind}: no fdatasync before an acknowledgement`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const synced = gate.calls.slice(opened + 3);
        if (fsyncPolicy.kind === 'interval') assert.ok(synced.includes('datasync'), 'the interval timer fdatasyncs the written groups by itself');
        else assert.deepEqual(synced, [], 'fsync=never: nothing syncs by itself');
        await wal.sync();
        if (fsyncPolicy.kind === 'never') assert.deepEqual(gate.calls.slice(opened + 3), ['datasync'], 'sync() makes the writes durable');
      } finally {
        await wal.close();
      }
    }
  });

  it('never encodes a group into a buffer whose write has not completed', async () => {
    const dir = join(await tempDir(), 'wal');
    const gate = new IoGate();
    const wal = await openLog(dir, gate.fileSystem());
    const expected: KvRecord[] = [];
    const appended: Array<Promise<bigint>> = [];
    try {
      // One group written whole: its buffer becomes the spare.
      for (let n = 1; n <= 10; n++) appended.push(append(wal, n));
      await Promise.all(appended);
      // The next group takes the spare; its write is held...
      gate.hold('write');
      for (let n = 11; n <= 20; n++) appended.push(append(wal, n));
      await gate.reached();
      // ...while the group after it is encoded: into a buffer of its own, not the one
      // the held write will read.
      for (let n = 21; n <= 30; n++) appended.push(append(wal, n));
      gate.open();
      await Promise.all(appended);
      for (let n = 1; n <= 30; n++) expected.push(recordNumber(n));
    } finally {
      gate.open();
      await wal.close();
    }
    assert.deepEqual(await recovered(dir), expected);
  });

  it('leaves a group as it was when a payload writer throws or writes another length than announced', async () => {
    const dir = join(await tempDir(), 'wal');
    const wal = await openLog(dir);
    try {
      const good = append(wal, 1);
      const throwing = wal.appendEncoded(40, (target, offset) => {
        target.fill(0xee, offset, offset + 20);
        throw new Error('encoder failed');
      }, 1);
      const short = wal.appendEncoded(40, (target, offset) => {
        target.fill(0xee, offset, offset + 20);
        return offset + 20;
      }, 1);
      const alsoGood = append(wal, 2);
      await assert.rejects(throwing, /encoder failed/);
      await assert.rejects(short, /different length than announced/);
      await Promise.all([good, alsoGood]);
      // A failed append alone in a new group leaves no empty group behind.
      await assert.rejects(
        wal.appendEncoded(10, () => {
          throw new Error('alone');
        }, 1),
        /alone/,
      );
      await append(wal, 3);
    } finally {
      await wal.close();
    }
    assert.deepEqual(await recovered(dir), [recordNumber(1), recordNumber(2), recordNumber(3)]);
  });

  it('grows a group past its first buffer and takes frames larger than the buffer it keeps', async () => {
    const dir = join(await tempDir(), 'wal');
    const wal = await openLog(dir);
    const expected: KvRecord[] = [];
    try {
      const appended: Array<Promise<bigint>> = [];
      // One turn of appends: a group of ~3 × GROUP_BUFFER_BYTES_INITIAL.
      const frames = Math.ceil((3 * GROUP_BUFFER_BYTES_INITIAL) / 1000);
      for (let n = 1; n <= frames; n++) {
        appended.push(append(wal, n, 1000));
        expected.push(recordNumber(n, 1000));
      }
      await Promise.all(appended);
      const large = frames + 1;
      await append(wal, large, GROUP_BUFFER_BYTES_KEPT_MAX + 1);
      expected.push(recordNumber(large, GROUP_BUFFER_BYTES_KEPT_MAX + 1));
      await append(wal, large + 1);
      expected.push(recordNumber(large + 1));
    } finally {
      await wal.close();
    }
    assert.deepEqual(await recovered(dir), expected);
  });

  it("relies on the file-system port's writeAll not reading the buffer after it resolves, which both adapters keep", async () => {
    // The WAL refills a written group's buffer at once (FileHandle.writeAll): what the
    // file holds must be the bytes as they were when the write resolved.
    const written = Buffer.alloc(4096, 0xab);
    const dir = await tempDir();
    const path = join(dir, 'file');
    const onDisk = await nodeFileSystem.openForWrite(path, true);
    await onDisk.writeAll(written, 0);
    written.fill(0xcd);
    await onDisk.close();
    assert.ok((await readFile(path)).equals(Buffer.alloc(4096, 0xab)), 'node:fs');

    written.fill(0xab);
    const disk = new PowerCutDisk({ directories: [dir] });
    const beforeCut = disk.fileSystem();
    const inMemory = await beforeCut.openForWrite(path, true);
    await inMemory.writeAll(written, 0);
    written.fill(0xcd);
    assert.ok((await beforeCut.readFile(path)).equals(Buffer.alloc(4096, 0xab)), 'the power-cut file system, before a sync');
    await inMemory.datasync();
    await beforeCut.syncDirectory(dir);
    written.fill(0xef);
    disk.powerCut();
    assert.ok((await disk.fileSystem().readFile(path)).equals(Buffer.alloc(4096, 0xab)), 'the power-cut file system, what survives a cut');
  });

  it('grows a group buffer by doubling, keeping its frames, but never past the bytes of a group', () => {
    const buffers = new GroupBuffers();
    const small = buffers.take(100);
    assert.equal(small.length, GROUP_BUFFER_BYTES_INITIAL);
    small.fill(1, 0, 100);
    const doubled = buffers.grow(small, 100, GROUP_BUFFER_BYTES_INITIAL + 1);
    assert.equal(doubled.length, 2 * GROUP_BUFFER_BYTES_INITIAL);
    assert.deepEqual(doubled.subarray(0, 100), Buffer.alloc(100, 1));

    // A group opened by one large frame gets a buffer of that frame's size; the next
    // small frame must not double it past what any group of several frames can hold.
    const large = Math.floor(WAL_GROUP_COMMIT_BYTES_MAX * 0.75);
    const first = buffers.take(large);
    assert.equal(first.length, large);
    first.fill(2, 0, large);
    const grown = buffers.grow(first, large, large + 100);
    assert.ok(grown.length >= large + 100, 'room for the new frame');
    assert.ok(grown.length <= WAL_GROUP_COMMIT_BYTES_MAX, `${grown.length} bytes for a group of at most ${WAL_GROUP_COMMIT_BYTES_MAX}`);
    assert.ok(grown.subarray(0, large).equals(Buffer.alloc(large, 2)), 'the frames so far are kept');

    // A single frame larger than a group still gets the room it needs.
    const huge = buffers.grow(grown, large, WAL_GROUP_COMMIT_BYTES_MAX + 1);
    assert.equal(huge.length, WAL_GROUP_COMMIT_BYTES_MAX + 1);
  });

  it('allocates no buffer per group under a steady load of groups alternating just above and below a small one', () => {
    const buffers = new GroupBuffers();
    const distinct = new Set<Buffer>();
    for (let group = 0; group < 1000; group++) {
      // Every other group needs one byte more than a small group's buffer holds.
      const usedBytes = group % 2 === 0 ? GROUP_BUFFER_BYTES_INITIAL + 1 : GROUP_BUFFER_BYTES_INITIAL;
      let buffer = buffers.take(100);
      distinct.add(buffer);
      if (usedBytes > buffer.length) {
        buffer = buffers.grow(buffer, 100, usedBytes);
        distinct.add(buffer);
      }
      buffers.release(buffer, usedBytes);
    }
    assert.ok(distinct.size <= 2, `${distinct.size} buffers allocated for 1000 groups`);
  });

  it('keeps a large spare while groups stay large or mixed, and drops it once small groups ran for a while', () => {
    const buffers = new GroupBuffers();
    const largeBytes = GROUP_BUFFER_BYTES_KEPT_MAX;
    const large = buffers.take(largeBytes);
    buffers.release(large, largeBytes);
    assert.equal(buffers.take(largeBytes), large, 'a large group after a large one reuses its buffer');
    buffers.release(large, largeBytes);

    // Small groups complete in buffers of their own: the large spare is kept until
    // GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK of them in a row...
    const smallGroups = (count: number): void => {
      for (let n = 0; n < count; n++) buffers.release(Buffer.allocUnsafeSlow(GROUP_BUFFER_BYTES_INITIAL), 100);
    };
    smallGroups(GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK - 1);
    assert.equal(buffers.take(GROUP_BUFFER_BYTES_INITIAL + 1), large, 'kept while the small groups were few');
    buffers.release(large, largeBytes); // a large group starts the count again
    smallGroups(GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK - 1);
    assert.equal(buffers.take(GROUP_BUFFER_BYTES_INITIAL + 1), large, 'a large group in between starts the count again');
    buffers.release(large, largeBytes);
    smallGroups(GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK);
    // ...after which no buffer larger than a small group's is held: the next group that
    // needs more than one gets a new buffer, and a small one gets at most the small size.
    const next = buffers.take(GROUP_BUFFER_BYTES_INITIAL + 1);
    assert.notEqual(next, large, 'the large spare was dropped');
    assert.ok(buffers.take(100).length <= GROUP_BUFFER_BYTES_INITIAL);

    // Once small groups rule, a small group that was encoded into a large buffer does not
    // keep that buffer either.
    const reused = buffers.take(largeBytes);
    buffers.release(reused, 100);
    assert.notEqual(buffers.take(GROUP_BUFFER_BYTES_INITIAL + 1), reused, 'a large buffer written for a small group is dropped');
  });
});

/**
 * One turn of the power-cut script: appends issued at once (the numbers are their value
 * sizes), with a sync or a rollover queued between some of them, so several groups wait
 * in the queue together, each in a buffer of its own.
 */
type Turn = ReadonlyArray<number | 'sync' | 'rollover'>;
const small = (count: number, valueBytes = 50): number[] => new Array<number>(count).fill(valueBytes);
const POWER_CUT_SCRIPT: readonly Turn[] = [
  small(10), // one group in a new 64 KiB buffer
  small(80, 1000), // ~80 KB: the group outgrows the spare and doubles
  [...small(5), 'sync', ...small(5), 'rollover', ...small(5)], // three groups queued at once
  [GROUP_BUFFER_BYTES_KEPT_MAX + 1, ...small(3)], // a frame larger than the kept spare, then grown from its size
  small(10), // the spare again, after the large buffer was not kept
  [...small(3, 3000), 'sync', ...small(3, 3000)],
];
/** Segments of 512 KiB: the large frame and the groups around it rotate mid-script. */
const POWER_CUT_SEGMENT_BYTES = 512 * 1024;

/**
 * Runs the script on a power-cut disk that loses power at `cutAtStep` (never when
 * undefined: then the power goes after the script), opens the log again and returns
 * what recovery found beside what was issued and acknowledged, in issue order.
 */
async function runPowerCutScript(
  cutAtStep: number | undefined,
  tornWriteBytes?: (writeBytes: number) => number,
): Promise<{ issued: KvRecord[]; acknowledged: boolean[]; recovered: KvRecord[]; tornBytesDropped: number; steps: number }> {
  const dir = join(await tempDir(), 'wal');
  const disk = new PowerCutDisk({ directories: [dirname(dir)], cutAtStep, faults: tornWriteBytes ? { tornWriteBytes } : {} });
  const options = (fileSystem: FileSystem) => ({
    dir,
    fsyncPolicy: { kind: 'always' } as const,
    segmentBytesMax: POWER_CUT_SEGMENT_BYTES,
    fileSystem,
    logger: new RecordingLogger(),
    metrics: noWalMetrics,
  });
  const issued: KvRecord[] = [];
  const acknowledged: boolean[] = [];
  const wal = await openWriteAheadLog(options(disk.fileSystem()), { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} }).then(
    ({ wal }) => wal,
    (error: unknown) => {
      assert.ok(error instanceof PowerCutError, `only the power cut may stop the first open: ${String(error)}`);
      return undefined;
    },
  );
  for (const turn of POWER_CUT_SCRIPT) {
    if (wal === undefined || disk.cuts > 0) break;
    const pending: Array<Promise<unknown>> = [];
    for (const item of turn) {
      if (item === 'sync') pending.push(wal.sync());
      else if (item === 'rollover') pending.push(wal.rollover());
      else {
        const index = issued.length;
        const record = recordNumber(index + 1, item);
        issued.push(record);
        acknowledged.push(false);
        pending.push(wal.append(encodeBatch([record]), 1).then(() => (acknowledged[index] = true)));
      }
    }
    await Promise.allSettled(pending);
  }
  const steps = disk.steps;
  if (disk.cuts === 0) disk.powerCut();
  await wal?.close().catch(() => {});

  const recovered: KvRecord[] = [];
  const after = await openWriteAheadLog(options(disk.fileSystem()), { fromSegment: 0n, skipCorrupt: false, onBatch: (batch) => void recovered.push(...batch), onDiscard: () => {} });
  // The restarted log takes an append and loses power again: recovery's cut of a torn
  // tail must itself have been durable, or the torn segment, no longer the last, would
  // be refused as corrupt at the next start.
  const afterRestart = recordNumber(issued.length + 1);
  await after.wal.append(encodeBatch([afterRestart]), 1);
  await after.wal.close();
  disk.powerCut();
  const recoveredAgain: KvRecord[] = [];
  const again = await openWriteAheadLog(options(disk.fileSystem()), { fromSegment: 0n, skipCorrupt: false, onBatch: (batch) => void recoveredAgain.push(...batch), onDiscard: () => {} });
  await again.wal.close();
  assert.deepEqual(recoveredAgain, [...recovered, afterRestart], 'a second start finds the first one\'s recovery and its append');
  return { issued, acknowledged, recovered, tornBytesDropped: after.report.tornBytesDropped, steps };
}

/**
 * Cuts the power at every step of the script and checks what recovery finds. With
 * `tornWriteBytes`, the write the power goes at leaves that many of its first bytes on
 * the disk: a group's write through torn mid-frame, a segment header half written.
 */
async function checkEveryCut(tornWriteBytes?: (writeBytes: number) => number): Promise<void> {
  const uncut = await runPowerCutScript(undefined);
  assert.deepEqual(uncut.recovered, uncut.issued, 'without a cut every append comes back');
  assert.ok(uncut.acknowledged.every(Boolean));
  let cutsWithAcknowledged = 0;
  let cutsWithTornTail = 0;
  for (let cutAtStep = 0; cutAtStep < uncut.steps; cutAtStep++) {
    const { issued, acknowledged, recovered, tornBytesDropped } = await runPowerCutScript(cutAtStep, tornWriteBytes);
    if (acknowledged.some(Boolean)) cutsWithAcknowledged++;
    if (tornBytesDropped > 0) cutsWithTornTail++;
    const at = `cut at step ${cutAtStep} of ${uncut.steps}`;
    // Groups reach the file in order, so what survives is a prefix of the appends...
    assert.deepEqual(recovered, issued.slice(0, recovered.length), `${at}: recovery holds only appends, in order, none changed`);
    // ...and it holds every acknowledged one.
    const lastAcknowledged = acknowledged.lastIndexOf(true);
    assert.ok(recovered.length > lastAcknowledged, `${at}: ${lastAcknowledged + 1} acknowledged, ${recovered.length} recovered`);
  }
  // The cuts must fall all through the script, not only before its first acknowledgement.
  assert.ok(cutsWithAcknowledged >= uncut.steps / 2, `only ${cutsWithAcknowledged} of ${uncut.steps} cuts came after an acknowledged append`);
  if (tornWriteBytes === undefined) assert.equal(cutsWithTornTail, 0, 'a cut without the fault tears nothing');
  // A group's write is one step in five or so (the rest: opens, syncs, headers,
  // rotations), and a cut at one must leave a torn tail for recovery to cut.
  else assert.ok(cutsWithTornTail >= uncut.steps / 6, `only ${cutsWithTornTail} of ${uncut.steps} cuts left a torn tail`);
  const torn = tornWriteBytes === undefined ? '' : `, the write at the cut torn (${cutsWithTornTail} torn tails cut)`;
  process.stderr.write(`WAL power cut: ${uncut.steps} cut points over ${uncut.issued.length} appends${torn}, ${cutsWithAcknowledged} after an acknowledgement, none lost\n`);
}

describe('WAL group buffers across a power cut at every step', () => {
  it('recovers exactly a prefix of the appends, holding every acknowledged one, wherever the power goes', async () => {
    await checkEveryCut();
  });

  it('cuts the torn tail a power cut in the middle of a write through leaves, and keeps every acknowledged append', async () => {
    // Half a write: a group torn mid-frame (or between frames), half a segment header.
    await checkEveryCut((writeBytes) => Math.floor(writeBytes / 2));
    // All but the last byte: every frame of the group whole but the last one's final byte.
    await checkEveryCut((writeBytes) => writeBytes - 1);
  });
});
