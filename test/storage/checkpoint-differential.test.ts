// A differential test of checkpoints against a model: random writes, overwrites, stale
// writes, deletes and values with an expiry (past or future) go to a real engine on real
// files and to a plain map kept by last-writer-wins; checkpoints run (by the memtable
// budget, on request, and while writes and reads go on), then the engine is closed and
// opened again, and every key must read as the model says, on both checkpoint threads.
// Keys whose token is 0, 2^64-1, or shared by many keys test the edges of the
// checkpoint's token order (memtable-token-order.ts): the store must hold each key once,
// in its stored form (retention.ts: an expired value kept as a tombstone).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/bench/key-chooser.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FULL_RING, TOKEN_MAX } from '../../src/ring/token-range.js';
import { DurableStorageEngine, type CheckpointThread } from '../../src/storage/engine/durable-storage-engine.js';
import { supersedes, type KvRecord } from '../../src/storage/record.js';
import type { ScanCursor } from '../../src/storage/storage-engine.js';
import { compareTokenKey } from '../../src/storage/token-key-order.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

const NOW_MS = 10_000_000;
/** Keys of the workload; a cut checkpoint needs more than one chunk (8192) of them. */
const KEYS = 3000;
const KEYS_FOR_A_CUT = 20_000;
const SHARED_TOKEN = 1n << 63n;

/** testTokenOf, except for keys named to sit on the token space's edges or to share one token. */
function edgeTokenOf(key: Buffer): bigint {
  const name = key.toString('latin1');
  if (name.startsWith('lo-')) return 0n;
  if (name.startsWith('hi-')) return TOKEN_MAX;
  if (name.startsWith('eq-')) return SHARED_TOKEN;
  return testTokenOf(key);
}

function keyName(index: number): string {
  if (index < 10) return `lo-${index}`;
  if (index < 20) return `hi-${index}`;
  if (index < 60) return `eq-${index}`;
  return `k-${index}`;
}


class Workload {
  private readonly next: () => number;
  private stamp = 1000n;
  readonly model = new Map<string, KvRecord>();

  constructor(
    seed: number,
    readonly keys = KEYS,
  ) {
    this.next = seededRandom(seed);
  }

  /** A batch of 1 to 60 records: new versions, deletes, and now and then a stale one. */
  batch(): KvRecord[] {
    const size = 1 + Math.floor(this.next() * 60);
    const records: KvRecord[] = [];
    for (let i = 0; i < size; i++) {
      const name = keyName(Math.floor(this.next() * this.keys));
      const held = this.model.get(name);
      const stale = held !== undefined && this.next() < 0.05;
      const stamp = stale ? held.version.stamp - 1n : ++this.stamp;
      const roll = this.next();
      const value = roll < 0.15 ? null : Buffer.alloc(Math.floor(this.next() * 300), name.length + Number(stamp % 251n));
      const expiry = this.next();
      const expiresAtMs = expiry < 0.15 ? NOW_MS - 5000 : expiry < 0.3 ? NOW_MS + 1e9 : 0;
      const record: KvRecord = { key: Buffer.from(name, 'latin1'), value, version: { stamp, nodeId: this.next() < 0.5 ? 'n1' : 'n2' }, expiresAtMs };
      records.push(record);
      if (supersedes(record.version, held?.version)) this.model.set(name, record);
    }
    return records;
  }
}

/** What the engine must answer for a key once its newest record went through a checkpoint at NOW_MS. */
function storedForm(record: KvRecord): KvRecord {
  const expired = record.expiresAtMs !== 0 && record.expiresAtMs <= NOW_MS;
  return expired ? { ...record, value: null } : record;
}

function assertReads(engine: DurableStorageEngine, workload: Workload, checkpointed: boolean, when: string): void {
  const { model } = workload;
  for (let index = 0; index < workload.keys; index++) {
    const name = keyName(index);
    const expected = model.get(name);
    const held = engine.get(Buffer.from(name, 'latin1'));
    if (expected === undefined) {
      assert.equal(held, undefined, `${when}: ${name} was never written`);
      continue;
    }
    assert.ok(held !== undefined, `${when}: ${name} is missing`);
    assert.deepEqual(held.version, expected.version, `${when}: version of ${name}`);
    assert.equal(held.expiresAtMs, expected.expiresAtMs, `${when}: expiry of ${name}`);
    // Until every level went through a checkpoint, an expired value may be held as it
    // was written (memtable) or as a tombstone (store); a live one only as written.
    const expired = storedForm(expected).value === null;
    if (checkpointed || !expired || held.value !== null) {
      assert.deepEqual(held.value, checkpointed ? storedForm(expected).value : expected.value, `${when}: value of ${name}`);
    }
  }
}

/**
 * Every record a scan of the whole ring returns. The whole ring (0, 0] is scanned as
 * (0, 2^64-1] and then [0, 0], so the keys of token 0 come last; within each part the
 * order is (token, key), and no key may come twice.
 */
function scanAll(engine: DurableStorageEngine): KvRecord[] {
  const records: KvRecord[] = [];
  let cursor: ScanCursor | undefined;
  do {
    const page = engine.scan(FULL_RING, 500, cursor);
    records.push(...page.records);
    cursor = page.resumeAfter;
  } while (cursor !== undefined);
  const tokenZeroFrom = records.findIndex((record) => edgeTokenOf(record.key) === 0n);
  for (let index = 1; index < records.length; index++) {
    if (index === tokenZeroFrom) continue;
    const [a, b] = [records[index - 1]!, records[index]!];
    assert.ok(compareTokenKey(edgeTokenOf(a.key), a.key, edgeTokenOf(b.key), b.key) < 0, `scan out of order or twice at ${b.key.toString('latin1')}`);
  }
  return records;
}

async function runDifferential(checkpointThread: CheckpointThread, seed: number): Promise<void> {
  const dir = await tempDir();
  // A small budget: checkpoints also start on their own between the workload's batches.
  const options = { dir, tokenOf: edgeTokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' } as const, nowMs: () => NOW_MS, memtableBytesMax: 512 * 1024, checkpointThread };
  const workload = new Workload(seed);
  let { engine } = await DurableStorageEngine.open(options);
  try {
    for (let round = 0; round < 6; round++) {
      for (let batch = 0; batch < 60; batch++) await engine.apply(workload.batch());
      // A checkpoint with writes and reads beside it: the frozen memtable must read the
      // same while its chunks are written, and the writes land in the next memtable.
      const checkpoint = engine.checkpoint();
      for (let step = 0; step < 5; step++) {
        await engine.apply(workload.batch());
        assertReads(engine, workload, false, `round ${round}, during the checkpoint`);
      }
      await checkpoint;
      assertReads(engine, workload, false, `round ${round}, after the checkpoint`);
    }
    await engine.close();
    ({ engine } = await DurableStorageEngine.open(options));
    assertReads(engine, workload, true, 'after a reopen');
    const scanned = scanAll(engine);
    assert.equal(scanned.length, workload.model.size, 'the store holds each written key once');
    for (const record of scanned) assert.deepEqual(record, storedForm(workload.model.get(record.key.toString('latin1'))!), 'a scanned record');
  } finally {
    await engine.close();
  }
}

/**
 * A checkpoint cut short after its first chunk is committed, as a crash would leave it:
 * part of the memtable in the store, no checkpoint marker. The engine is closed (a
 * failed checkpoint stops it), opened again from the same files, and must read as the
 * model says: the WAL replay applies again what the store lacks, and none of the older
 * versions in the WAL may win over a newer one the cut checkpoint already stored.
 */
async function runCutCheckpoint(checkpointThread: CheckpointThread, seed: number): Promise<void> {
  const dir = await tempDir();
  const options = { dir, tokenOf: edgeTokenOf, logger: silentLogger, fsyncPolicy: { kind: 'never' } as const, nowMs: () => NOW_MS, checkpointThread };
  const workload = new Workload(seed, KEYS_FOR_A_CUT);
  let { engine } = await DurableStorageEngine.open(options);
  try {
    // Enough batches for every key to be written, overwritten and deleted several times:
    // the memtable holds more than one chunk's worth of keys.
    for (let batch = 0; batch < 2000; batch++) await engine.apply(workload.batch());
    const writer = engine['checkpointWriter'];
    const writeChunk = writer.writeChunk.bind(writer);
    let chunks = 0;
    writer.writeChunk = async (chunk: Buffer): Promise<void> => {
      if (chunks++ > 0) throw new Error('cut after the first chunk');
      await writeChunk(chunk);
    };
    await assert.rejects(engine.checkpoint(), /cut after the first chunk/);
    assert.equal(chunks, 2, 'the first chunk was written, the second cut');
    await engine.close();
    ({ engine } = await DurableStorageEngine.open(options));
    assertReads(engine, workload, false, 'after the cut checkpoint and a reopen');
    await engine.checkpoint();
    await engine.close();
    ({ engine } = await DurableStorageEngine.open(options));
    assertReads(engine, workload, true, 'after the next checkpoint and a reopen');
  } finally {
    await engine.close();
  }
}

describe('checkpoints against a model', () => {
  for (const checkpointThread of ['main', 'worker'] as const) {
    it(`keep every key as last-writer-wins says, tokens 0 and 2^64-1 and shared tokens included (${checkpointThread} thread)`, async () => {
      for (const seed of [1, 2]) await runDifferential(checkpointThread, seed);
    });

    it(`keep every key as last-writer-wins says after a checkpoint cut after its first chunk (${checkpointThread} thread)`, async () => {
      await runCutCheckpoint(checkpointThread, 3);
    });
  }
});
