// Checkpoints on a worker thread (the engine's checkpointThread 'worker', ADR 0195): the chunk format between the threads, what
// the main thread reads once a checkpoint written by the worker finishes, what a dead
// worker does to the engine; and the WAL's group commit, whose callers share one promise.
import assert from 'node:assert/strict';
import { stat } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { CHECKPOINT_CHUNK_RECORDS, decodeCheckpointChunk, encodeCheckpointChunk } from '../../src/storage/engine/checkpoint-chunk.js';
import { WorkerCheckpointWriter } from '../../src/storage/engine/checkpoint-worker.js';
import { Memtable } from '../../src/storage/engine/memtable.js';
import { OrderedStore, storeKeyOf } from '../../src/storage/engine/ordered-store.js';
import { decodeBody } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { silentLogger } from '../../src/logging/logger.js';
import { nodeFileSystem } from '../../src/fs/file-system.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { noWalMetrics } from '../../src/storage/storage-metrics.js';
import { openWriteAheadLog } from '../../src/storage/wal/wal-recovery.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

function put(key: string, value: string, stamp: bigint, expiresAtMs = 0): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), version: { stamp, nodeId: 'n1' }, expiresAtMs };
}

/** Runs `work` in a callback of the event loop's poll phase, as a network or file callback runs. */
function inPollPhase<T>(work: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    stat('.', () => {
      try {
        resolve(work());
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/** One chunk of every record, in token order, as a checkpoint at wall time `nowMs` encodes it. */
async function chunkOf(records: readonly KvRecord[], nowMs: number): Promise<Buffer> {
  const memtable = new Memtable();
  for (const record of records) assert.ok(memtable.put(record));
  const ordered = await memtable.inTokenOrder(testTokenOf);
  const [range, ...rest] = [...ordered.sortedRanges(CHECKPOINT_CHUNK_RECORDS)];
  assert.ok(range !== undefined && rest.length === 0, 'one chunk');
  return encodeCheckpointChunk(ordered, range.from, range.to, nowMs);
}

describe('checkpoint chunks', () => {
  it('carry each record as the store keeps it, expired values turned into tombstones', async () => {
    const records = [put('a', 'live', 5n), put('b', 'expired', 6n, 1000), put('c', 'later', 7n, 9000)];
    const chunk = await chunkOf(records, 2000);
    assert.equal(chunk.byteOffset, 0, 'the chunk owns its ArrayBuffer, so it can be transferred');
    assert.equal(chunk.buffer.byteLength, chunk.length);
    const entries = decodeCheckpointChunk(chunk);
    assert.equal(entries.length, 3);
    const byKey = new Map(entries.map((entry) => [entry.storeKey.subarray(8).toString(), entry]));
    for (const record of records) {
      const entry = byKey.get(record.key.toString())!;
      assert.deepEqual(entry.storeKey, storeKeyOf(testTokenOf(record.key), record.key));
      const stored = decodeBody(record.key, entry.body);
      assert.deepEqual(stored.version, record.version);
      assert.equal(stored.expiresAtMs, record.expiresAtMs);
    }
    assert.equal(decodeBody(Buffer.from('a'), byKey.get('a')!.body).value?.toString(), 'live');
    assert.equal(decodeBody(Buffer.from('b'), byKey.get('b')!.body).value, null);
    assert.equal(decodeBody(Buffer.from('c'), byKey.get('c')!.body).value?.toString(), 'later');
  });

  it('refuse more records than a chunk holds, entries not yet sorted, and a damaged chunk', async () => {
    const memtable = new Memtable();
    for (let index = 0; index <= CHECKPOINT_CHUNK_RECORDS; index++) memtable.put(put(`k${index}`, 'v', BigInt(index + 1)));
    const ordered = await memtable.inTokenOrder(testTokenOf);
    assert.throws(() => encodeCheckpointChunk(ordered, 0, 1, 0), /not yet sorted/);
    for (const range of ordered.sortedRanges(CHECKPOINT_CHUNK_RECORDS)) assert.ok(range.to - range.from <= CHECKPOINT_CHUNK_RECORDS);
    assert.throws(() => encodeCheckpointChunk(ordered, 0, CHECKPOINT_CHUNK_RECORDS + 1, 0), /too many records/);
    const chunk = await chunkOf([put('a', 'v', 1n)], 0);
    assert.throws(() => decodeCheckpointChunk(chunk.subarray(0, chunk.length - 1)), /past its end/);
    assert.throws(() => decodeCheckpointChunk(Buffer.concat([chunk, Buffer.from([0])])), /after its last entry/);
  });
});

describe('checkpoint worker', () => {
  it("lets the main thread read the worker's checkpoint in the same turn as its answer", async () => {
    // lmdb-js keeps one read transaction per thread until a setTimeout(0) renews it. A
    // read in a poll-phase callback (a request arriving) starts a transaction; if the
    // worker commits and answers before any timer runs, a read right after the answer
    // must still see the commit, since the engine drops the frozen memtable then.
    const dir = await tempDir();
    const path = join(dir, 'store');
    const store = await OrderedStore.open(path, testTokenOf);
    const writer = new WorkerCheckpointWriter(path, store);
    try {
      const key = Buffer.from('key');
      for (let round = 1n; round <= 5n; round++) {
        const chunk = await chunkOf([put('key', `v${round}`, round)], 0);
        const seenAfterFinish = await inPollPhase(() => {
          // A read transaction from before the commit...
          store.get(Buffer.from('absent'));
          const steps = [writer.begin(round), writer.writeChunk(chunk), writer.finish(round)];
          const seen = Promise.all(steps).then(() => store.get(key)?.version.stamp);
          // ...and the thread held while the worker commits and answers; the answers are
          // taken up later in this same phase, before the timer that would renew it.
          const until = performance.now() + 300;
          while (performance.now() < until) {
            // Busy on purpose.
          }
          return seen;
        });
        assert.equal(await seenAfterFinish, round, `round ${round}: a read right after finish saw an older version`);
      }
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('fails the checkpoint when the worker dies, and the engine then refuses writes', async () => {
    const dir = await tempDir();
    const { engine } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' }, checkpointThread: 'worker' });
    await engine.apply([put('a', 'v', 1n)]);
    // The only way in from outside: terminate the worker the engine started.
    const writer = (engine as unknown as { checkpointWriter: { worker: { terminate(): Promise<number> } } }).checkpointWriter;
    await writer.worker.terminate();
    await assert.rejects(engine.checkpoint(), /checkpoint worker exited/);
    await assert.rejects(engine.apply([put('b', 'v', 2n)]), /storage engine failed earlier/);
    assert.equal(engine.get(Buffer.from('a'))?.value?.toString(), 'v', 'what was written is still readable');
    await engine.close();
  });

  it('keeps every record of a checkpoint readable across a reopen', async () => {
    const dir = await tempDir();
    const records = Array.from({ length: CHECKPOINT_CHUNK_RECORDS * 2 + 17 }, (_, index) => put(`key-${index}`, `value-${index}`, BigInt(index + 1)));
    const first = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' }, checkpointThread: 'worker' });
    await first.engine.apply(records);
    await first.engine.checkpoint();
    for (const record of records) assert.equal(first.engine.get(record.key)?.value?.toString(), record.value!.toString());
    await first.engine.close();
    const second = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger: silentLogger, checkpointThread: 'main' });
    assert.equal(second.recovery.recordsReplayed, 0, 'the checkpoint marker covered every record');
    for (const record of records) assert.equal(second.engine.get(record.key)?.value?.toString(), record.value!.toString());
    await second.engine.close();
  });
});

describe('group commit', () => {
  it('hands the callers of one WAL group one shared promise, and starts a new group after a sync or once a write began', async () => {
    const dir = await tempDir();
    const options = { dir, fsyncPolicy: { kind: 'always' } as const, segmentBytesMax: 1 << 20, fileSystem: nodeFileSystem, logger: silentLogger, metrics: noWalMetrics };
    const { wal } = await openWriteAheadLog(options, { fromSegment: 0n, skipCorrupt: false, onBatch: () => {}, onDiscard: () => {} });
    const payload = encodeBatch([put('k', 'v', 1n)]);
    const first = wal.append(payload, 1);
    const second = wal.append(payload, 1);
    assert.equal(first, second, 'appends of the same turn share their group and its promise');
    const synced = wal.sync();
    const afterSync = wal.append(payload, 1);
    assert.notEqual(afterSync, first, 'a sync queued between appends ends the group');
    assert.equal(await first, 0n);
    await synced;
    await afterSync;
    const later = wal.append(payload, 1);
    assert.notEqual(later, first, 'a group that was written takes no more appends');
    await later;
    await wal.close();
  });
});
