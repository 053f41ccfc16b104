// The durable engine's discard (StorageEngine.discard) beyond the shared contract: the
// WAL frame it writes must keep discarded keys gone through a crash and replay, in log
// order with the writes around it; a checkpoint running beside it must not write them
// back; and a clean stop leaves no discard frame in the WAL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { DurableStorageEngine, type DurableStorageEngineOptions } from '../../src/storage/engine/durable-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import { FULL_RING } from '../../src/ring/token-range.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

function put(key: string, value: string, stampMs: number): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), version: { stamp: stampOf(BigInt(stampMs), 0n), nodeId: 'n1' }, expiresAtMs: 0 };
}

function named(key: string, stampMs: number): { key: Buffer; version: { stamp: bigint; nodeId: string } } {
  return { key: Buffer.from(key), version: { stamp: stampOf(BigInt(stampMs), 0n), nodeId: 'n1' } };
}

async function openEngine(dir: string, extra: Partial<DurableStorageEngineOptions> = {}): Promise<{ engine: DurableStorageEngine; logger: RecordingLogger }> {
  const logger = new RecordingLogger();
  const { engine } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger, ...extra });
  return { engine, logger };
}

function allKeys(engine: DurableStorageEngine): string[] {
  const keys: string[] = [];
  let page = engine.scan(FULL_RING, 1000);
  keys.push(...page.records.map((record) => record.key.toString()));
  while (page.resumeAfter !== undefined) {
    page = engine.scan(FULL_RING, 1000, page.resumeAfter);
    keys.push(...page.records.map((record) => record.key.toString()));
  }
  return keys.sort();
}

describe('durable engine discard', () => {
  it('keeps discarded keys gone after a crash, in the store and in the memtable, and replays later writes after them', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    await first.engine.apply([put('stored', 'old', 1000), put('stored-kept', 'x', 1000)]);
    await first.engine.checkpoint();
    await first.engine.apply([put('memtable', 'm', 2000), put('both', 'in-store', 1000)]);
    await first.engine.checkpoint();
    // `both` has a newer version in the memtable over an older one in the store: both must go.
    await first.engine.apply([put('both', 'in-memtable', 3000), put('memtable-kept', 'y', 2000)]);
    assert.equal(await first.engine.discard([named('stored', 1000), named('memtable', 2000), named('both', 3000)]), 3);
    // Written after the discard, older than the version it named: the discard must not take it on replay.
    await first.engine.apply([put('memtable', 'came-back-older', 1500)]);
    assert.equal(first.engine.get(Buffer.from('both')), undefined, 'no older version shows through');

    // Abandon without close, as after a crash: only the WAL holds the discard.
    const second = await openEngine(dir);
    try {
      assert.equal(second.engine.get(Buffer.from('stored')), undefined);
      assert.equal(second.engine.get(Buffer.from('both')), undefined);
      assert.equal(second.engine.get(Buffer.from('memtable'))?.value?.toString(), 'came-back-older');
      assert.deepEqual(allKeys(second.engine), ['memtable', 'memtable-kept', 'stored-kept']);
      assert.equal(second.logger.find(/storage engine open/)!.fields['discardsReplayed'], 3);
    } finally {
      await second.engine.close();
    }
  });

  it('replays a discard against a store it was already applied to without harm', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    await first.engine.apply([put('a', '1', 1000), put('b', '2', 1000)]);
    await first.engine.checkpoint();
    assert.equal(await first.engine.discard([named('a', 1000)]), 1);
    await first.engine.apply([put('a', 'again', 500)]);
    // Abandoned: the store no longer holds `a` and the WAL names it, then the write
    // after it. The replay finds the key missing when it meets the discard.
    const second = await openEngine(dir);
    try {
      assert.equal(second.engine.get(Buffer.from('a'))?.value?.toString(), 'again');
      assert.equal(second.engine.get(Buffer.from('b'))?.value?.toString(), '2');
    } finally {
      await second.engine.close();
    }
  });

  it('lets no checkpoint write a discarded key back, even one running at the same moment', async () => {
    const dir = await tempDir();
    // No fsync: the discard's WAL append returns at once, while the checkpoint's writes to
    // the store take a while.
    const { engine } = await openEngine(dir, { memtableBytesMax: 256 * 1024 * 1024, fsyncPolicy: { kind: 'never' } });
    const keys = Array.from({ length: 60_000 }, (_, i) => `key-${String(i).padStart(5, '0')}`);
    for (let at = 0; at < keys.length; at += 1000) await engine.apply(keys.slice(at, at + 1000).map((key) => put(key, 'v', 1000)));
    // The checkpoint writes 60k records in chunks it awaits; the discards, all issued
    // at once, wait for it and for each other.
    const checkpoint = engine.checkpoint();
    const discarded = keys.filter((_, i) => i % 2 === 0);
    const calls: Array<Promise<number>> = [];
    for (let at = 0; at < discarded.length; at += 4096) calls.push(engine.discard(discarded.slice(at, at + 4096).map((key) => named(key, 1000))));
    const removed = await Promise.all(calls);
    await checkpoint;
    assert.equal(removed.reduce((a, b) => a + b, 0), discarded.length);
    await engine.apply([put('after', 'v', 5000)]);
    await engine.checkpoint();
    assert.equal(allKeys(engine).length, keys.length / 2 + 1);
    await engine.close();

    const reopened = await openEngine(dir);
    try {
      const held = allKeys(reopened.engine);
      assert.equal(held.length, keys.length / 2 + 1);
      assert.ok(discarded.every((key) => reopened.engine.get(Buffer.from(key)) === undefined));
      assert.equal(reopened.logger.find(/storage engine open/)!.fields['discardsReplayed'], 0, 'a clean stop leaves no discard frame to replay');
    } finally {
      await reopened.engine.close();
    }
  });

  it('checkpoints at close after a discard that emptied the memtable, so the WAL holds no discard frame', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    await first.engine.apply([put('only', 'v', 1000)]);
    assert.equal(await first.engine.discard([named('only', 1000)]), 1);
    await first.engine.close();
    const second = await openEngine(dir);
    try {
      const opened = second.logger.find(/storage engine open/)!.fields;
      assert.equal(opened['discardsReplayed'], 0);
      assert.equal(opened['recordsReplayed'], 0);
      assert.equal(second.engine.get(Buffer.from('only')), undefined);
    } finally {
      await second.engine.close();
    }
  });

  it('splits a discard of large keys across WAL frames', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir);
    // 4096 keys of 1900 bytes name about 8 MiB, more than one frame holds.
    const keys = Array.from({ length: 4096 }, (_, i) => `${String(i).padStart(6, '0')}${'k'.repeat(1894)}`);
    for (let at = 0; at < keys.length; at += 512) await first.engine.apply(keys.slice(at, at + 512).map((key) => put(key, '', 1000)));
    assert.equal(await first.engine.discard(keys.map((key) => named(key, 1000))), keys.length);
    const second = await openEngine(dir);
    try {
      assert.equal(allKeys(second.engine).length, 0);
      assert.equal(second.logger.find(/storage engine open/)!.fields['discardsReplayed'], keys.length);
    } finally {
      await second.engine.close();
    }
  });
});

describe('durable engine discard on an idle node', () => {
  it('checkpoints as discards grow the WAL, so a crash during a long cleanup replays little', async () => {
    const dir = await tempDir();
    const first = await openEngine(dir, { segmentBytesMax: 64 * 1024 });
    const KEYS = 20_000;
    for (let at = 0; at < KEYS; at += 1000) {
      await first.engine.apply(Array.from({ length: 1000 }, (_, i) => put(`k-${at + i}`, 'v', 1000)));
    }
    await first.engine.checkpoint();
    // Nothing but discards from here on, as on a node that takes no writes while it cleans up.
    for (let at = 0; at < KEYS; at += 1000) {
      assert.equal(await first.engine.discard(Array.from({ length: 1000 }, (_, i) => named(`k-${at + i}`, 1000))), 1000);
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // a checkpoint started by the last discard
    // Abandon without close: the replay shows how much of the cleanup the WAL still held.
    const second = await openEngine(dir, { segmentBytesMax: 64 * 1024 });
    try {
      const replayed = Number(second.logger.find(/storage engine open/)!.fields['discardsReplayed']);
      assert.ok(replayed < KEYS / 2, `${replayed} of ${KEYS} discards replayed: checkpoints kept up with the discards`);
      assert.deepEqual(allKeys(second.engine), []);
    } finally {
      await second.engine.close();
    }
  });
});
