// The durable engine beyond the shared contract: checkpoints and restarts, retention
// of tombstones and expired records, group commit, bounded memtable, and what happens
// when the disk fails a sync.
import assert from 'node:assert/strict';
import { readdir, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { DurableStorageEngine, type DurableStorageEngineOptions } from '../../src/storage/engine/durable-storage-engine.js';
import { prometheusStorageMetrics } from '../../src/metrics/storage-prometheus.js';
import type { KvRecord } from '../../src/storage/record.js';
import { OrderedStore } from '../../src/storage/engine/ordered-store.js';
import { open } from 'lmdb';
import { decodeBatch, encodeBatch } from '../../src/storage/record-codec.js';
import { nodeFileSystem, type FileSystem } from '../../src/fs/file-system.js';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';
import { SCAN_PAGE_BYTES_MAX } from '../../src/limits.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function put(key: string, value: string, stampMs: number, expiresAtMs = 0): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), version: { stamp: stampOf(BigInt(stampMs), 0n), nodeId: 'n1' }, expiresAtMs };
}

function tombstone(key: string, stampMs: number): KvRecord {
  return { key: Buffer.from(key), value: null, version: { stamp: stampOf(BigInt(stampMs), 0n), nodeId: 'n1' }, expiresAtMs: 0 };
}

async function openEngine(dir: string, extra: Partial<DurableStorageEngineOptions> = {}): Promise<{ engine: DurableStorageEngine; registry: Registry; logger: RecordingLogger }> {
  const registry = new Registry();
  const logger = new RecordingLogger();
  const { engine } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, metrics: prometheusStorageMetrics(registry), logger, ...extra });
  return { engine, registry, logger };
}

async function walSegments(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'wal'))).filter((name) => name.endsWith('.log'));
}

async function histogramCount(registry: Registry, name: string): Promise<{ count: number; sum: number }> {
  const metric = await registry.getSingleMetric(name)!.get();
  const values = metric.values as Array<{ metricName?: string; value: number }>;
  const count = values.find((value) => value.metricName === `${name}_count`)?.value ?? 0;
  const sum = values.find((value) => value.metricName === `${name}_sum`)?.value ?? 0;
  return { count, sum };
}

/** Faults the tests switch on and off while an engine runs on the real file system. */
interface FileFaults {
  failSyncs: boolean;
  tearWrites: boolean;
  /** close() closes the descriptor, then reports EIO (as close(2) may after a failed writeback). */
  failCloses?: boolean;
}

/**
 * node:fs, except that syncs fail with EIO or writes reach only half their bytes, on
 * demand. On a handle that writes through (ADR 0262) the write is the sync, so a failing
 * sync fails it too, after its bytes reached the file as a failed O_DSYNC write may.
 */
function faultyFileSystem(faults: FileFaults): FileSystem {
  return {
    ...nodeFileSystem,
    async openForWrite(path, create, options) {
      const handle = await nodeFileSystem.openForWrite(path, create, options);
      return {
        writesThrough: handle.writesThrough,
        truncate: (length) => handle.truncate(length),
        async close() {
          await handle.close();
          if (faults.failCloses === true) throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
        },
        sync: () => handle.sync(),
        chmod: (mode) => handle.chmod(mode),
        async datasync() {
          if (faults.failSyncs) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          return handle.datasync();
        },
        async writeAll(bytes, position) {
          if (faults.failSyncs && handle.writesThrough) {
            await handle.writeAll(bytes, position);
            throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          }
          if (!faults.tearWrites) return handle.writeAll(bytes, position);
          // Half the group reaches the file, then the "machine" fails.
          await handle.writeAll(bytes.subarray(0, Math.floor(bytes.length / 2)), position);
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
      };
    },
  };
}

/** The files under `dir` this process holds open (Linux: /proc/self/fd). */
async function openFilesUnder(dir: string): Promise<string[]> {
  const prefix = `${await realpath(dir)}/`;
  const open: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(prefix)) open.push(target.slice(prefix.length));
  }
  return open;
}

describe('durable storage engine', () => {
  it('finds writes again after a restart without a checkpoint (WAL replay)', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    await first.engine.apply([put('a', '1', 1000), put('b', '2', 1000)]);
    await first.engine.apply([tombstone('b', 2000)]);
    // Abandon without close: only the WAL holds the writes, as after a crash.
    const second = await openEngine(dir);
    try {
      assert.equal(second.engine.get(Buffer.from('a'))?.value?.toString(), '1');
      assert.equal(second.engine.get(Buffer.from('b'))?.value, null);
      assert.ok(second.logger.find(/storage engine open/)!.fields['recordsReplayed'] === 3);
    } finally {
      await second.engine.close();
    }
  });

  it('logs only the records of a call found fresh, in its order, with or without its encoding, and replays the same state', async () => {
    for (const withEncoding of [false, true]) {
      const dir = await tempDir();
      const first = await openEngine(dir);
      await first.engine.apply([put('a', '1', 2000), put('b', '1', 2000), tombstone('c', 2000)]);
      const mixed = [
        put('a', 'older', 1000), // stale against the memtable: not logged
        put('d', 'x', 3000),
        tombstone('b', 3000),
        put('c', 'older', 1500), // stale against a tombstone: not logged
        put('d', 'y', 2500), // fresh against the levels before the call, so logged; the memtable then holds d@3000
        put('e', 'z', 3000),
        put('d', 'w', 3500),
      ];
      const result = await first.engine.apply(mixed, withEncoding ? encodeBatch(mixed) : undefined);
      assert.deepEqual(result.applied, [false, true, true, false, false, true, true], `applied (encoding given: ${withEncoding})`);
      const state = (engine: DurableStorageEngine) => ['a', 'b', 'c', 'd', 'e'].map((key) => engine.get(Buffer.from(key))?.value?.toString() ?? null);
      assert.deepEqual(state(first.engine), ['1', null, null, 'w', 'z']);
      // Abandoned without close: the WAL alone holds both calls.
      const second = await openEngine(dir);
      try {
        assert.equal(second.logger.find(/storage engine open/)!.fields['recordsReplayed'], 3 + 5, 'the first call, then the five fresh records of the second');
        assert.deepEqual(state(second.engine), ['1', null, null, 'w', 'z']);
      } finally {
        await second.engine.close();
      }
    }
  });

  it("keeps an upper bound of the store's stamps, so last-writer-wins skips the store only for newer writes", async () => {
    const dir = await tempDir();
    const empty = await OrderedStore.open(join(dir, 'probe'), testTokenOf);
    try {
      assert.equal(empty.maxStamp(), -1n, 'an empty store holds no stamp');
    } finally {
      await empty.close();
    }

    const first = await openEngine(dir);
    await first.engine.apply([put('k', 'new', 2000), put('other', 'x', 1000)]);
    await first.engine.checkpoint();
    await first.engine.close();
    const store = await OrderedStore.open(join(dir, 'store'), testTokenOf);
    try {
      assert.equal(store.maxStamp(), stampOf(2000n, 0n), 'the bound is the greatest checkpointed stamp, kept across a restart');
    } finally {
      await store.close();
    }

    const second = await openEngine(dir);
    try {
      // Older than the store's record: the store must be read, and the write refused.
      assert.deepEqual((await second.engine.apply([put('k', 'old', 1500)])).applied, [false]);
      // Older than the bound but a key the store lacks; newer than the bound.
      assert.deepEqual((await second.engine.apply([put('fresh', 'f', 1200), put('k', 'newer', 3000)])).applied, [true, true]);
      assert.equal(second.engine.get(Buffer.from('k'))?.value?.toString(), 'newer');
      await second.engine.checkpoint();
    } finally {
      await second.engine.close();
    }

    // A store written before the bound was kept: its records may have any stamp.
    const raw = open({ path: join(dir, 'store'), compression: false });
    await raw.openDB({ name: 'meta', keyEncoding: 'ordered-binary', encoding: 'binary' }).remove('max-stamp');
    await raw.close();
    const old = await OrderedStore.open(join(dir, 'store'), testTokenOf);
    try {
      assert.equal(old.maxStamp(), (1n << 64n) - 1n);
    } finally {
      await old.close();
    }
    const third = await openEngine(dir);
    try {
      assert.deepEqual((await third.engine.apply([put('k', 'old', 2500)])).applied, [false]);
      assert.equal(third.engine.get(Buffer.from('k'))?.value?.toString(), 'newer');
    } finally {
      await third.engine.close();
    }
  });

  it("logs a peer's batch encoding as it is when every record is fresh, re-encodes the fresh ones otherwise", async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    const batch = [put('a', '1', 1000), put('b', '2', 1000)];
    // Views into the received bytes, as the replica service hands them over.
    const received = encodeBatch(batch);
    assert.deepEqual((await first.engine.apply(decodeBatch(received, { views: true }), received)).applied, [true, true]);
    received.fill(0); // the engine kept copies: the request buffer may be reused
    const mixed = [put('a', 'stale', 500), put('c', '3', 1000)];
    assert.deepEqual((await first.engine.apply(mixed, encodeBatch(mixed))).applied, [false, true]);
    await assert.rejects(first.engine.apply([put('d', '4', 1000)], encodeBatch([])), /batch encoding does not match/);
    assert.equal(first.engine.get(Buffer.from('a'))?.value?.toString(), '1');
    // Abandoned without close: the replay reads what the WAL holds.
    const second = await openEngine(dir);
    try {
      assert.equal(second.logger.find(/storage engine open/)!.fields['recordsReplayed'], 3, 'a, b and c, not the stale a');
      assert.equal(second.engine.get(Buffer.from('a'))?.value?.toString(), '1');
      assert.equal(second.engine.get(Buffer.from('b'))?.value?.toString(), '2');
      assert.equal(second.engine.get(Buffer.from('c'))?.value?.toString(), '3');
      assert.equal(second.engine.get(Buffer.from('d')), undefined);
    } finally {
      await second.engine.close();
    }
  });

  it('checkpoints into the store, deletes covered segments and replays only what the store lacks', async () => {
    const dir = await tempDir();
    const { engine } = await openEngine(dir, { memtableBytesMax: 4096 });
    for (let i = 0; i < 200; i++) await engine.apply([put(`key-${i}`, `value-${i}`, 1000 + i)]);
    await engine.checkpoint();
    await engine.apply([put('after', 'checkpoint', 5000)]);
    assert.equal((await walSegments(dir)).length, 1, 'covered segments are deleted');

    const reopened = await openEngine(dir);
    try {
      const opened = reopened.logger.find(/storage engine open/)!.fields;
      assert.equal(opened['recordsReplayed'], 1, 'only the write after the checkpoint is replayed');
      for (let i = 0; i < 200; i++) assert.equal(reopened.engine.get(Buffer.from(`key-${i}`))?.value?.toString(), `value-${i}`);
      assert.equal(reopened.engine.get(Buffer.from('after'))?.value?.toString(), 'checkpoint');
    } finally {
      await reopened.engine.close();
    }
  });

  it('keeps the memtable within its budget by checkpointing while writes go on', async () => {
    const dir = await tempDir();
    const { engine, registry } = await openEngine(dir, { memtableBytesMax: 16 * 1024, segmentBytesMax: 8 * 1024 });
    try {
      let peak = 0;
      for (let batch = 0; batch < 40; batch++) {
        const records = Array.from({ length: 10 }, (_, i) => put(`k-${batch}-${i}`, 'x'.repeat(100), 1000 + batch));
        await engine.apply(records);
        const bytes = (await registry.getSingleMetric('qkv_memtable_bytes')!.get()).values[0]!.value;
        peak = Math.max(peak, bytes);
      }
      assert.ok(peak < 2 * 16 * 1024, `memtable peaked at ${peak} bytes`);
      assert.ok((await histogramCount(registry, 'qkv_checkpoint_duration_seconds')).count >= 2);
      for (let batch = 0; batch < 40; batch++) assert.ok(engine.get(Buffer.from(`k-${batch}-9`)));
    } finally {
      await engine.close();
    }
  });

  it('applies last-writer-wins: an older or equal version is a no-op', async () => {
    const dir = await tempDir();
    const { engine } = await openEngine(dir);
    try {
      assert.deepEqual((await engine.apply([put('k', 'new', 2000)])).applied, [true]);
      assert.deepEqual((await engine.apply([put('k', 'old', 1000), put('k', 'new', 2000)])).applied, [false, false]);
      await engine.checkpoint();
      assert.deepEqual((await engine.apply([put('k', 'older', 1500)])).applied, [false]);
      assert.equal(engine.get(Buffer.from('k'))?.value?.toString(), 'new');
    } finally {
      await engine.close();
    }
  });

  it('purges tombstones only after the grace period', async () => {
    const dir = await tempDir();
    let nowMs = 100 * DAY_MS;
    const { engine } = await openEngine(dir, { tombstoneGraceMs: 10 * DAY_MS, nowMs: () => nowMs });
    try {
      await engine.apply([put('gone', 'v', nowMs - DAY_MS), tombstone('gone', nowMs)]);
      await engine.checkpoint();
      nowMs += 9 * DAY_MS;
      await engine.apply([put('other', 'x', nowMs)]);
      await engine.checkpoint();
      assert.equal(engine.get(Buffer.from('gone'))?.value, null, 'tombstone kept inside the grace period');
      nowMs += 2 * DAY_MS;
      await engine.apply([put('other', 'y', nowMs)]);
      await engine.checkpoint();
      assert.equal(engine.get(Buffer.from('gone')), undefined, 'tombstone purged after the grace period');
    } finally {
      await engine.close();
    }
  });

  it('drops expired values at checkpoint and purges them a grace period after expiry', async () => {
    const dir = await tempDir();
    let nowMs = 100 * DAY_MS;
    const { engine } = await openEngine(dir, { tombstoneGraceMs: DAY_MS, nowMs: () => nowMs });
    try {
      await engine.apply([put('ttl', 'short-lived', nowMs, nowMs + 1000), put('keep', 'v', nowMs)]);
      nowMs += 2000;
      await engine.checkpoint();
      const expired = engine.get(Buffer.from('ttl'));
      assert.equal(expired?.value, null, 'the value is gone after expiry');
      assert.equal(expired?.expiresAtMs, nowMs - 1000, 'the version and expiry stay as a tombstone');
      nowMs += DAY_MS;
      await engine.apply([put('keep', 'w', nowMs)]);
      await engine.checkpoint();
      assert.equal(engine.get(Buffer.from('ttl')), undefined);
      assert.equal(engine.get(Buffer.from('keep'))?.value?.toString(), 'w');
    } finally {
      await engine.close();
    }
  });

  it('commits concurrent appends in groups: many records per fsync', async () => {
    const dir = await tempDir();
    const { engine, registry } = await openEngine(dir);
    try {
      await Promise.all(Array.from({ length: 500 }, (_, i) => engine.apply([put(`g-${i}`, 'v', 1000)])));
      const syncs = (await histogramCount(registry, 'qkv_wal_fsync_duration_seconds')).count;
      const groups = await histogramCount(registry, 'qkv_wal_group_commit_records');
      assert.equal(groups.sum, 500);
      assert.ok(syncs < 100, `500 concurrent appends took ${syncs} syncs`);
      assert.ok(groups.count < 100, `500 concurrent appends took ${groups.count} groups`);
    } finally {
      await engine.close();
    }
  });

  it('stops accepting writes after a failed fsync and acknowledges nothing it could not sync', async () => {
    const dir = await tempDir();
    const faults: FileFaults = { failSyncs: false, tearWrites: false };
    const failing = faultyFileSystem(faults);
    const { engine, logger } = await openEngine(dir, { fileSystem: failing });
    await engine.apply([put('before', 'v', 1000)]);
    faults.failSyncs = true;
    await assert.rejects(engine.apply([put('during', 'v', 1000)]), /EIO/);
    faults.failSyncs = false;
    await assert.rejects(engine.apply([put('after', 'v', 1000)]), /failed earlier/);
    assert.equal(engine.get(Buffer.from('during')), undefined, 'an unsynced write is never visible');
    assert.ok(logger.find(/no further writes are accepted/));
    await engine.close();
  });

  it('never acknowledges a torn write, and recovery cuts what it left', async () => {
    const dir = await tempDir();
    const faults: FileFaults = { failSyncs: false, tearWrites: false };
    const first = await openEngine(dir, { fileSystem: faultyFileSystem(faults) });
    await first.engine.apply([put('acked', 'v', 1000)]);
    faults.tearWrites = true;
    await assert.rejects(first.engine.apply([put('torn', 'x'.repeat(200), 2000)]), /EIO/);
    await first.engine.close();

    const second = await openEngine(dir);
    try {
      assert.equal(second.engine.get(Buffer.from('acked'))?.value?.toString(), 'v');
      assert.equal(second.engine.get(Buffer.from('torn')), undefined);
      assert.ok((second.logger.find(/torn tail/)?.fields['droppedBytes'] as number) > 0);
    } finally {
      await second.engine.close();
    }
  });

  it('keeps a tombstone through a replay that flushes, so an older put in the WAL cannot return', async () => {
    const dir = await tempDir();
    let nowMs = 100 * DAY_MS;
    const first = await openEngine(dir, { tombstoneGraceMs: DAY_MS, nowMs: () => nowMs });
    // Both pass the stale-write filter before either is inserted, so both reach the WAL.
    const results = await Promise.all([first.engine.apply([tombstone('k', nowMs)]), first.engine.apply([put('k', 'old', nowMs - 1000)])]);
    assert.deepEqual(results.map((result) => result.applied), [[true], [false]]);
    // Crash, and come back after the grace period with a budget that flushes during replay.
    nowMs += 2 * DAY_MS;
    const second = await openEngine(dir, { tombstoneGraceMs: DAY_MS, nowMs: () => nowMs, memtableBytesMax: 1 });
    try {
      assert.equal(second.engine.get(Buffer.from('k'))?.value ?? null, null, 'the older put must not win');
    } finally {
      await second.engine.close();
    }
  });

  it('checkpoints when the WAL grows, even while a few hot keys keep the memtable small', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir, { segmentBytesMax: 16 * 1024, fsyncPolicy: { kind: 'never' } });
    for (let i = 0; i < 2000; i++) await first.engine.apply([put(`hot-${i % 10}`, 'x'.repeat(100), 1000 + i)]);
    // Two segments past the last checkpoint start the next one, and writes go on while it runs.
    assert.ok((await walSegments(dir)).length <= 5, `${(await walSegments(dir)).length} WAL segments kept`);
    // Crash; the reopen replays at most the segments since the last checkpoint.
    const second = await openEngine(dir);
    try {
      const replayed = second.logger.find(/storage engine open/)!.fields['recordsReplayed'] as number;
      assert.ok(replayed < 2000 / 2, `${replayed} records replayed`);
      assert.equal(second.engine.get(Buffer.from('hot-9'))?.value?.toString(), 'x'.repeat(100));
    } finally {
      await second.engine.close();
    }
  });

  it('refuses to start when the WAL directory lost the segment the checkpoint names', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    await first.engine.apply([put('a', '1', 1000)]);
    await first.engine.checkpoint();
    await first.engine.apply([put('b', '2', 1000)]);
    await first.engine.close();
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'wal'), { recursive: true });
    await assert.rejects(openEngine(dir), /WAL file .* is corrupt at offset 0: .*holds no segment/);
  });

  it('closes the checkpoint worker and the LMDB store when closing the WAL fails, then reports that error', async () => {
    const dir = await tempDir();
    const faults: FileFaults = { failSyncs: false, tearWrites: false };
    const { engine } = await openEngine(dir, { fileSystem: faultyFileSystem(faults), checkpointThread: 'worker' });
    await engine.apply([put('a', '1', 1000)]);
    assert.ok((await openFilesUnder(dir)).some((path) => path.startsWith('store/')), 'the store is open while the engine runs');
    faults.failCloses = true;
    await assert.rejects(engine.close(), /EIO: i\/o error, close/);
    assert.deepEqual(await openFilesUnder(dir), [], 'nothing of the engine is left open');
    // The store is released: it opens again, with the write the close checkpointed.
    faults.failCloses = false;
    const reopened = await openEngine(dir);
    try {
      assert.equal(reopened.engine.get(Buffer.from('a'))?.value?.toString(), '1');
    } finally {
      await reopened.engine.close();
    }
  });

  it('settles sync, checkpoint and close after a failed fsync instead of hanging', async () => {
    const dir = await tempDir();
    const faults: FileFaults = { failSyncs: false, tearWrites: false };
    const failing = faultyFileSystem(faults);
    const { engine } = await openEngine(dir, { fileSystem: failing, fsyncPolicy: { kind: 'never' } });
    await engine.apply([put('a', '1', 1000)]);
    faults.failSyncs = true;
    await assert.rejects(engine.sync(), /EIO/);
    await assert.rejects(engine.checkpoint(), /failed earlier|EIO/);
    await engine.close();
  });

  it('closes cleanly while applies are in flight: each resolves or is refused, and what resolved is kept', async () => {
    const dir = await tempDir();
    const { engine } = await openEngine(dir, { memtableBytesMax: 8 * 1024 });
    const outcomes = Array.from({ length: 300 }, (_, i) =>
      engine.apply([put(`c-${i}`, 'v'.repeat(50), 1000 + i)]).then(
        (): { i: number; ok: boolean; code?: string } => ({ i, ok: true }),
        (error: unknown) => ({ i, ok: false, code: (error as { code?: string }).code }),
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await engine.close();
    const settled = await Promise.all(outcomes);
    for (const outcome of settled) if (!outcome.ok) assert.equal(outcome.code, 'STORE_CLOSED');
    const reopened = await openEngine(dir);
    try {
      for (const outcome of settled) if (outcome.ok) assert.ok(reopened.engine.get(Buffer.from(`c-${outcome.i}`)), `acked c-${outcome.i} kept`);
    } finally {
      await reopened.engine.close();
    }
  });

  it('scans token ranges in order across memtable and store, in pages', async () => {
    const dir = await tempDir();
    const { engine } = await openEngine(dir);
    try {
      for (let i = 0; i < 60; i++) await engine.apply([put(`s-${i}`, `${i}`, 1000)]);
      await engine.checkpoint();
      for (let i = 60; i < 100; i++) await engine.apply([put(`s-${i}`, `${i}`, 1000)]);
      await engine.apply([tombstone('s-5', 2000)]);
      const seen: KvRecord[] = [];
      let page = engine.scan({ start: 0n, end: 0n }, 7);
      for (;;) {
        seen.push(...page.records);
        if (!page.resumeAfter) break;
        page = engine.scan({ start: 0n, end: 0n }, 7, page.resumeAfter);
      }
      assert.equal(seen.length, 100);
      const tokens = seen.map((record) => testTokenOf(record.key));
      assert.deepEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), tokens);
      assert.equal(seen.find((record) => record.key.toString() === 's-5')?.value, null, 'tombstones are scanned');
    } finally {
      await engine.close();
    }
  });

  it('scans match a model across writes, overwrites and checkpoints between pages (the memtable scan index)', async () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), key: fc.nat(60), size: fc.oneof(fc.nat(8), fc.constant(SCAN_PAGE_BYTES_MAX / 3)) }),
      fc.record({ kind: fc.constant('checkpoint' as const) }),
      fc.record({ kind: fc.constant('scan' as const), limit: fc.integer({ min: 1, max: 9 }), writeEvery: fc.integer({ min: 1, max: 4 }) }),
    );
    // Each run has an engine of its own, and a scan writes at most LATE_WRITES_MAX keys
    // while it runs: with one engine for all runs and a late write every page, the key
    // space roughly doubled with each scan and a run could take hours.
    const LATE_WRITES_MAX = 8;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        const { engine } = await openEngine(await tempDir(), { fsyncPolicy: { kind: 'never' } });
        try {
          const model = new Map<string, string>();
          let stamp = 1;
          for (const step of commands) {
            if (step.kind === 'put') {
              const value = `${stamp}:`.padEnd(step.size, 'x');
              await engine.apply([put(`p-${step.key}`, value, stamp++)]);
              model.set(`p-${step.key}`, value);
            } else if (step.kind === 'checkpoint') {
              await engine.checkpoint();
            } else {
              // Writes land between pages: a new key after the cursor must show up.
              const seen = new Map<string, string>();
              let pages = 0;
              let lateWrites = 0;
              let page = engine.scan({ start: 0n, end: 0n }, step.limit);
              for (;;) {
                for (const record of page.records) {
                  assert.ok(!seen.has(record.key.toString()), 'a key appears once');
                  seen.set(record.key.toString(), record.value!.toString());
                }
                if (!page.resumeAfter) break;
                assert.ok(pages <= model.size, `the scan advances: ${pages} pages for ${model.size} keys`);
                if (++pages % step.writeEvery === 0 && lateWrites < LATE_WRITES_MAX) {
                  lateWrites++;
                  const value = `${stamp}:late`;
                  await engine.apply([put(`late-${stamp}`, value, stamp++)]);
                  model.set(`late-${stamp - 1}`, value);
                }
                page = engine.scan({ start: 0n, end: 0n }, step.limit, page.resumeAfter);
              }
              // Every key written before the scan began is seen with its newest value;
              // the late ones may or may not be (they lie before or after the cursor).
              for (const [key, value] of model) if (!key.startsWith('late-') || seen.has(key)) assert.equal(seen.get(key), value, key);
              assert.ok([...seen.keys()].every((key) => model.has(key)));
            }
          }
        } finally {
          await engine.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('a page cut by its byte bound in the store leaves the memtable records after the cut for the next page', async () => {
    const dir = await tempDir();
    const { engine } = await openEngine(dir);
    try {
      // Large values in the store, small ones in the memtable, interleaved in token order;
      // some store keys are overwritten in the memtable.
      const big = 'b'.repeat(SCAN_PAGE_BYTES_MAX / 3);
      for (let i = 0; i < 30; i++) await engine.apply([put(`m-${i}`, big, 1000)]);
      await engine.checkpoint();
      for (let i = 30; i < 90; i++) await engine.apply([put(`m-${i}`, `${i}`, 1000)]);
      for (let i = 0; i < 30; i += 4) await engine.apply([put(`m-${i}`, 'newer', 2000)]);
      const seen: KvRecord[] = [];
      let pages = 0;
      let page = engine.scan({ start: 0n, end: 0n }, 1000);
      for (;;) {
        pages++;
        seen.push(...page.records);
        if (!page.resumeAfter) break;
        page = engine.scan({ start: 0n, end: 0n }, 1000, page.resumeAfter);
      }
      assert.equal(seen.length, 90, 'every key exactly once');
      assert.equal(new Set(seen.map((record) => record.key.toString())).size, 90);
      const tokens = seen.map((record) => testTokenOf(record.key));
      assert.deepEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), tokens);
      for (let i = 0; i < 30; i += 4) assert.equal(seen.find((record) => record.key.toString() === `m-${i}`)?.value?.toString(), 'newer');
      assert.ok(pages >= 7, `22 large values at a third of the budget each take at least 7 pages, took ${pages}`);
    } finally {
      await engine.close();
    }
  });
});
