// Hinted handoff over a MemoryNetwork with real hint files: a replica that misses writes
// gets them later from the coordinator's durable hint log, after a restart of the hint
// store too; the per-peer byte bound and the hint window drop what they must (and count
// it), and so does a hint stamped days ahead, which replicas would refuse; a hinted write
// counts toward W only when sloppy quorums are switched on. Stored hints survive a power
// cut of a disk that keeps only what was synced (ADR 0125).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { QuorumNotMetError } from '../../src/errors/errors.js';
import { HintedHandoff, type HintDropReason, type HintMetrics } from '../../src/handoff/hinted-handoff.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FailureDetector } from '../../src/membership/failure-detector.js';
import { PowerCutDisk } from '../../src/fs/power-cut-file-system.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { tempDir } from '../support/temp-dir.js';

class CountingHintMetrics implements HintMetrics {
  storedRecords = 0;
  deliveredRecords = 0;
  readonly droppedRecords = new Map<HintDropReason, number>();
  stored(_peer: string, records: number): void {
    this.storedRecords += records;
  }
  delivered(_peer: string, records: number): void {
    this.deliveredRecords += records;
  }
  dropped(_peer: string, reason: HintDropReason, records: number): void {
    this.droppedRecords.set(reason, (this.droppedRecords.get(reason) ?? 0) + records);
  }
}

const HOUR_MS = 3_600_000;

async function openHandoff(dir: string, cluster: MemoryCluster, liveness: FailureDetector, overrides: Partial<Parameters<typeof HintedHandoff.open>[0]> = {}) {
  return HintedHandoff.open({
    dir,
    transport: cluster.node('node-0').transport,
    liveness,
    logger: silentLogger,
    bytesPerPeerMax: 1024 * 1024,
    windowMs: 3 * HOUR_MS,
    tombstoneGraceMs: 10 * 24 * HOUR_MS,
    replayBytesPerSecond: 64 * 1024 * 1024,
    replayIntervalMs: 1_000,
    ...overrides,
  });
}

it('a missed write is hinted durably and delivered once the replica is back, across a restart', async () => {
  const dir = await tempDir();
  const detector = new FailureDetector();
  const metrics = new CountingHintMetrics();
  let handoff: HintedHandoff | undefined;
  const cluster = new MemoryCluster({
    nodes: 3,
    liveness: (id) => (id === 'node-0' ? detector : new FailureDetector()),
    hints: (id) => (id === 'node-0' ? { store: (peer, records) => handoff!.store(peer, records) } : { store: async () => false }),
  });
  try {
    handoff = await openHandoff(dir, cluster, detector, { metrics });
    cluster.network.disconnect('node-2');
    const keys = Array.from({ length: 20 }, (_, i) => Buffer.from(`key-${i}`));
    for (const key of keys) assert.equal((await cluster.node('node-0').coordinator.put(key, Buffer.from('v'), { w: 2 })).acks >= 2, true);
    await cluster.settle();
    const missed = keys.filter((key) => cluster.node('node-2').engine.get(key) === undefined && cluster.node('node-0').engine.get(key) !== undefined);
    assert.ok(missed.length > 0, 'node-2 missed the writes node-0 coordinated');
    assert.equal(metrics.storedRecords, missed.length);
    assert.ok((handoff.pendingBytes().get('node-2') ?? 0) > 0);

    // The hint store restarts: the hints are on disk.
    await handoff.close();
    handoff = await openHandoff(dir, cluster, detector, { metrics });
    assert.ok((handoff.pendingBytes().get('node-2') ?? 0) > 0, 'hints survive a restart');

    // While the peer is unreachable a delivery fails and keeps the hints.
    const failed = await handoff.deliver('node-2');
    assert.equal(failed.complete, false);
    cluster.network.reconnect('node-2');
    const report = await handoff.deliver('node-2');
    assert.deepEqual(report, { delivered: missed.length, dropped: 0, complete: true });
    for (const key of missed) assert.deepEqual(cluster.node('node-2').engine.get(key)?.value, Buffer.from('v'));
    assert.equal(handoff.pendingBytes().get('node-2'), undefined);
    assert.equal(metrics.deliveredRecords, missed.length);
    // Nothing left: a second delivery sends nothing.
    assert.deepEqual(await handoff.deliver('node-2'), { delivered: 0, dropped: 0, complete: true });
  } finally {
    await cluster.close();
    await handoff?.close();
  }
});

it('strict quorums ignore hints; a sloppy quorum counts a durable hint toward W', async () => {
  for (const sloppy of [false, true]) {
    const dir = await tempDir();
    const detector = new FailureDetector();
    let handoff: HintedHandoff | undefined;
    const cluster = new MemoryCluster({
      nodes: 3,
      coordinator: { hintedWritesCountTowardW: sloppy },
      liveness: (id) => (id === 'node-0' ? detector : new FailureDetector()),
      hints: () => ({ store: (peer, records) => handoff!.store(peer, records) }),
    });
    try {
      handoff = await openHandoff(dir, cluster, detector);
      cluster.network.disconnect('node-1');
      cluster.network.disconnect('node-2');
      // A key whose preference list holds node-0, so the local replica is one ack.
      const key = Buffer.from('k');
      const put = cluster.node('node-0').coordinator.put(key, Buffer.from('v'), { w: 2 });
      if (sloppy) assert.equal((await put).acks, 2);
      else await assert.rejects(put, QuorumNotMetError);
      await cluster.settle();
      assert.ok((handoff.pendingBytes().get('node-1') ?? 0) + (handoff.pendingBytes().get('node-2') ?? 0) > 0, 'hinted either way');
    } finally {
      await cluster.close();
      await handoff?.close();
    }
  }
});

it('the byte bound and the hint window drop hints and count them', async () => {
  const dir = await tempDir();
  let nowMs = Date.now();
  const detector = new FailureDetector({ nowMs: () => nowMs, downAfterFailures: 1 });
  const metrics = new CountingHintMetrics();
  const cluster = new MemoryCluster({ nodes: 3 });
  const handoff = await openHandoff(dir, cluster, detector, { metrics, bytesPerPeerMax: 300, windowMs: HOUR_MS, nowMs: () => nowMs });
  try {
    const record = (key: string, wallMs: number) => ({
      key: Buffer.from(key),
      value: Buffer.alloc(100),
      version: { stamp: stampOf(BigInt(wallMs), 0n), nodeId: 'node-0' },
      expiresAtMs: 0,
    });
    assert.equal(await handoff.store('node-1', [record('a', nowMs)]), true);
    assert.equal(await handoff.store('node-1', [record('b', nowMs)]), true);
    assert.equal(await handoff.store('node-1', [record('c', nowMs)]), false, 'past 300 bytes for node-1');
    assert.equal(metrics.droppedRecords.get('full'), 1);
    // A write older than the window is not hinted.
    assert.equal(await handoff.store('node-2', [record('old', nowMs - 2 * HOUR_MS)]), false);
    assert.equal(metrics.droppedRecords.get('window'), 1);
    // A peer down for longer than the window gets no new hints.
    detector.recordFailure('node-2');
    nowMs += HOUR_MS + 1;
    assert.equal(await handoff.store('node-2', [record('late', nowMs)]), false);
    assert.equal(metrics.droppedRecords.get('window'), 2);
    // Hints that aged past the window while waiting are dropped at delivery, not sent.
    const report = await handoff.deliver('node-1');
    assert.deepEqual(report, { delivered: 0, dropped: 2, complete: true });
    assert.equal(cluster.node('node-1').engine.get(Buffer.from('a')), undefined);
    assert.equal(metrics.droppedRecords.get('expired'), 2);
  } finally {
    await handoff.close();
    await cluster.close();
  }
});

it('a hint written while the clock ran days ahead is dropped, not delivered: it would be refused and hold back every later hint', async () => {
  const dir = await tempDir();
  const aheadMs = 10 * 24 * HOUR_MS;
  let nowMs = Date.now() + aheadMs;
  const metrics = new CountingHintMetrics();
  const cluster = new MemoryCluster({ nodes: 3 });
  const handoff = await openHandoff(dir, cluster, new FailureDetector(), { metrics, nowMs: () => nowMs });
  try {
    const record = (key: string, wallMs: number) => ({ key: Buffer.from(key), value: Buffer.from('v'), version: { stamp: stampOf(BigInt(wallMs), 0n), nodeId: 'node-0' }, expiresAtMs: 0 });
    assert.equal(await handoff.store('node-1', [record('ahead', nowMs)]), true, 'fresh by the clock of that moment');
    nowMs = Date.now();
    assert.equal(await handoff.store('node-1', [record('honest', nowMs)]), true);
    // node-1 (its clock right) would refuse the first hint with STAMP_FROM_FUTURE.
    assert.deepEqual(await handoff.deliver('node-1'), { delivered: 1, dropped: 1, complete: true });
    assert.equal(cluster.node('node-1').engine.get(Buffer.from('ahead')), undefined);
    assert.ok(cluster.node('node-1').engine.get(Buffer.from('honest')));
    assert.equal(metrics.droppedRecords.get('expired'), 1);
    // Not stored either, once the clock runs right.
    assert.equal(await handoff.store('node-1', [record('ahead-again', nowMs + aheadMs)]), false);
  } finally {
    await handoff.close();
    await cluster.close();
  }
});

it('refuses a hint window longer than the tombstone grace period', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  try {
    await assert.rejects(openHandoff(await tempDir(), cluster, new FailureDetector(), { windowMs: 2 * HOUR_MS, tombstoneGraceMs: HOUR_MS }), /resurrect/);
  } finally {
    await cluster.close();
  }
});

it('a stored hint survives a power cut: the hint directories are synced into the data directory', async () => {
  const dataDir = await tempDir();
  const disk = new PowerCutDisk({ directories: [dataDir] });
  const detector = new FailureDetector();
  const cluster = new MemoryCluster({ nodes: 3 });
  try {
    const first = await openHandoff(join(dataDir, 'hints'), cluster, detector, { fileSystem: disk.fileSystem() });
    const record = { key: Buffer.from('k'), value: Buffer.from('v'), version: { stamp: stampOf(BigInt(Date.now()), 0n), nodeId: 'node-0' }, expiresAtMs: 0 };
    assert.equal(await first.store('node-2', [record]), true);
    disk.powerCut();
    await first.close().catch(() => {});
    const second = await openHandoff(join(dataDir, 'hints'), cluster, detector, { fileSystem: disk.fileSystem() });
    try {
      assert.ok((second.pendingBytes().get('node-2') ?? 0) > 0, 'the acknowledged hint is on the disk after the cut');
    } finally {
      await second.close();
    }
  } finally {
    await cluster.close();
  }
});
