// Reads sized to the quorum (docs/decisions/0175-reads-sized-to-the-quorum.md): a read
// asks R replicas, its own first; one spare replica is asked once the first R have been
// slower than their observed p99 (within the floor and ceiling), or at once when one of
// them fails; include_replicas and R = N ask everyone; read repair still heals the stale
// replicas among those asked; a quorum still fails when fewer than R can answer. The
// cluster runs on a ManualClock, so "after the threshold, not before" is a statement about
// virtual milliseconds, not about how busy the machine is.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import { SAMPLES_MIN } from '../../src/coordinator/replica-read-latency.js';
import { SPECULATION_BURST, SPECULATION_RATIO } from '../../src/coordinator/speculation-budget.js';
import { DeadlineExceededError, QuorumNotMetError } from '../../src/errors/errors.js';
import { activeTimerCount } from '../support/active-timers.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';
import type { PeerLiveness } from '../../src/replica/peer-liveness.js';

const key = Buffer.from('k');
const FLOOR_MS = 2;
const CEILING_MS = 10;

/**
 * Three nodes; every key's preference list is node-1, node-2, node-0, and node-0
 * coordinates: its own replica, last in the list, must still be asked first, so an R=2
 * read asks node-0 and node-1 and keeps node-2 as the spare.
 */
function cluster(down: readonly string[] = []) {
  const clock = new ManualClock();
  const metrics = new RecordingMetrics();
  const readsSent: string[] = [];
  const memory = new MemoryCluster({
    nodes: 3,
    clock,
    placement: () => naturalOnly(['node-1', 'node-2', 'node-0']),
    coordinator: { readSpeculationFloorMs: FLOOR_MS, readSpeculationCeilingMs: CEILING_MS },
    network: {
      observer: (event) => {
        if (event.type === 'sent' && event.kind === 'read' && event.from === 'node-0') readsSent.push(event.to);
      },
    },
    metrics: (id) => (id === 'node-0' ? metrics : new RecordingMetrics()),
    ...(down.length === 0 ? {} : { liveness: () => markedDown(down) }),
  });
  const coordinator = memory.node('node-0').coordinator;
  /** Every replica that answered (or failed) a read from node-0, its own replica included. */
  const asked = (): string[] => metrics.replicaRequests.filter((request) => request.op === 'read').map((request) => request.peer).sort();
  return { clock, metrics, readsSent, cluster: memory, coordinator, asked };
}

/** A failure detector that marks `down` down and records nothing. */
function markedDown(down: readonly string[]): PeerLiveness {
  return {
    isDown: (peer) => down.includes(peer),
    downSinceMs: (peer) => (down.includes(peer) ? 0 : undefined),
    recordAnswer: () => {},
    recordFailure: () => {},
  };
}

/** Records how `call` settles without awaiting it. */
function watch<T>(call: Promise<T>): { settled(): boolean; value(): T | undefined; error(): unknown } {
  let settled = false;
  let value: T | undefined;
  let failure: unknown;
  call.then(
    (result) => {
      settled = true;
      value = result;
    },
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  return { settled: () => settled, value: () => value, error: () => failure };
}

describe('reads sized to the quorum', () => {
  const timersBefore = activeTimerCount();
  afterEach(() => assert.equal(activeTimerCount(), timersBefore, 'no timer outlives its call'));

  it('asks exactly R replicas, its own first, when they all answer', async () => {
    const { clock, metrics, readsSent, cluster: c, coordinator, asked } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    const read = await coordinator.get(key, { r: 2 });
    assert.deepEqual(read.record?.value, Buffer.from('v'));
    assert.equal(read.acks, 2);
    await clock.advance(CEILING_MS * 2);
    await c.settle();
    assert.deepEqual(readsSent, ['node-1'], 'one network read: the other replica asked is node-0 itself');
    assert.deepEqual(asked(), ['node-0', 'node-1']);
    assert.deepEqual(metrics.speculativeReads, []);
    const r1 = await coordinator.get(key, { r: 1 });
    assert.equal(r1.acks, 1);
    assert.deepEqual(readsSent, ['node-1'], 'R=1 is served by the local replica alone');
    await c.close();
  });

  it('asks a peer marked down last: its own replica, then the peers up, then those down', async () => {
    // The preference list is node-1, node-2, node-0 and node-1 is marked down: the read
    // order is node-0, node-2, node-1, so an R=2 read asks node-0 and node-2 and keeps the
    // down node-1 as the spare, never asked while the two answer.
    const { clock, readsSent, cluster: c, coordinator, asked } = cluster(['node-1']);
    // The coordinator does not send to a peer marked down, so the write reaches two.
    await coordinator.put(key, Buffer.from('v'), { w: 2 });
    const read = await coordinator.get(key, { r: 2 });
    assert.deepEqual(read.record?.value, Buffer.from('v'));
    await clock.advance(CEILING_MS * 2);
    await c.settle();
    assert.deepEqual(readsSent, ['node-2']);
    assert.deepEqual(asked(), ['node-0', 'node-2']);
    await c.close();
  });

  it('asks one spare after the threshold, not before, when a replica is slow', async () => {
    const { clock, metrics, readsSent, cluster: c, coordinator } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    c.network.delay({ to: 'node-1', ms: 1_000 });
    const read = watch(coordinator.get(key, { r: 2 }));
    // No read latency observed yet: the threshold is the ceiling.
    await clock.advance(CEILING_MS - 1);
    assert.deepEqual(readsSent, ['node-1'], 'no spare yet, 1 ms before the threshold');
    assert.equal(read.settled(), false);
    await clock.advance(1);
    assert.deepEqual(readsSent, ['node-1', 'node-2'], 'the spare is asked at the threshold');
    assert.ok(read.settled(), 'and its answer completes the quorum');
    assert.equal(read.value()?.acks, 2);
    assert.deepEqual(metrics.speculativeReads, ['latency']);
    assert.deepEqual(metrics.speculativeReadsWon, ['latency']);
    await clock.advance(2_000);
    await c.settle();
    assert.deepEqual(readsSent, ['node-1', 'node-2'], 'exactly one speculative request');
    await c.close();
  });

  it('takes the threshold from the latency it observed, within the floor and ceiling', async () => {
    const { clock, metrics, readsSent, cluster: c, coordinator } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    // node-1 answers in 4 ms, SAMPLES_MIN times: its p99 is 4 ms, between floor (2) and
    // ceiling (10); until then the threshold is the ceiling.
    c.network.delay({ to: 'node-1', ms: 4 });
    for (let i = 0; i < SAMPLES_MIN; i++) {
      const warm = watch(coordinator.get(key, { r: 2 }));
      await clock.advance(5);
      assert.ok(warm.settled());
    }
    assert.deepEqual(metrics.speculativeReads, [], 'no speculation while node-1 answers within the ceiling');
    readsSent.length = 0;
    c.network.delay({ to: 'node-1', ms: 1_000 });
    const read = watch(coordinator.get(key, { r: 2 }));
    await clock.advance(3);
    assert.deepEqual(readsSent, ['node-1'], 'no spare before the observed p99');
    await clock.advance(1);
    assert.deepEqual(readsSent, ['node-1', 'node-2'], 'the spare at the observed p99 (4 ms), well before the ceiling');
    assert.ok(read.settled());
    await clock.advance(2_000);
    await c.close();
  });

  it('bounds latency speculation when every read is slow: a burst, then one read in ten', async () => {
    const { clock, metrics, cluster: c, coordinator } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    // Both peers slow: every read misses the threshold, and a spare would not help.
    c.network.delay({ to: 'node-1', ms: 1_000 });
    c.network.delay({ to: 'node-2', ms: 1_000 });
    const reads = 100;
    for (let i = 0; i < reads; i++) {
      const read = watch(coordinator.get(key, { r: 2 }));
      await clock.advance(1_000);
      assert.ok(read.settled());
    }
    const speculated = metrics.speculativeReads.length;
    // The burst is spent first; after it, one read in 1/ratio earns a speculation.
    const allowed = SPECULATION_BURST + Math.floor(reads * SPECULATION_RATIO);
    assert.ok(speculated <= allowed, `${speculated} speculative reads, at most ${allowed} allowed`);
    assert.ok(speculated >= SPECULATION_BURST, `${speculated} speculative reads: the burst is used`);
    assert.ok(speculated < reads / 2, 'far fewer than one per read');
    await c.close();
  });

  it('asks the spare at once when one of the R fails', async () => {
    const { metrics, readsSent, cluster: c, coordinator } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    c.network.register('node-1', {
      read: async () => Promise.reject(new Error('disk read error')),
      apply: async () => Promise.reject(new Error('disk read error')),
    });
    // No clock advance: the spare is not waiting for any threshold.
    const read = await coordinator.get(key, { r: 2 });
    assert.deepEqual(read.record?.value, Buffer.from('v'));
    assert.equal(read.acks, 2);
    assert.deepEqual(readsSent, ['node-1', 'node-2']);
    assert.deepEqual(metrics.speculativeReads, ['failure']);
    assert.deepEqual(metrics.speculativeReadsWon, ['failure']);
    await c.close();
  });

  it('R = N and include_replicas ask every replica', async () => {
    const { clock, readsSent, cluster: c, coordinator, asked, metrics } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    const all = await coordinator.get(key, { r: 3 });
    assert.equal(all.acks, 3);
    assert.deepEqual(asked(), ['node-0', 'node-1', 'node-2']);
    metrics.replicaRequests.length = 0;
    readsSent.length = 0;
    const withReplicas = await coordinator.get(key, { r: 1, includeReplicas: true });
    await clock.advance(1);
    await c.settle();
    assert.deepEqual(readsSent.sort(), ['node-1', 'node-2'], 'include_replicas reads from everyone even at R=1');
    assert.deepEqual(asked(), ['node-0', 'node-1', 'node-2']);
    assert.ok(withReplicas.replicas.length >= 1);
    assert.deepEqual(metrics.speculativeReads, []);
    await c.close();
  });

  it('read repair still heals a stale replica among those asked, before answering', async () => {
    const { cluster: c, coordinator, metrics } = cluster();
    await coordinator.put(key, Buffer.from('v1'), { w: 3 });
    c.network.disconnect('node-1');
    const v2 = await coordinator.put(key, Buffer.from('v2'), { w: 2 });
    c.network.reconnect('node-1');
    assert.deepEqual(c.node('node-1').engine.get(key)?.value, Buffer.from('v1'), 'precondition: node-1 is stale');
    const read = await coordinator.get(key, { r: 2 });
    assert.deepEqual(read.record?.value, Buffer.from('v2'));
    // No settle: the repair was part of the read.
    assert.deepEqual(c.node('node-1').engine.get(key)?.version, v2.version);
    assert.equal(metrics.repairs, 1);
    await c.close();
  });

  it('fails the quorum at once when fewer than R replicas can answer', async () => {
    const { cluster: c, coordinator, metrics, asked } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    metrics.replicaRequests.length = 0;
    c.network.disconnect('node-1');
    c.network.disconnect('node-2');
    await assert.rejects(coordinator.get(key, { r: 2 }), (error: unknown) => {
      assert.ok(error instanceof QuorumNotMetError);
      assert.equal(error.acks, 1, 'only the local replica answered');
      assert.equal(error.required, 2);
      return true;
    });
    assert.deepEqual(asked(), ['node-0', 'node-1', 'node-2'], 'the spare was tried before giving up');
    assert.deepEqual(metrics.quorumFailures, [{ op: 'get', reason: 'replicas_failed' }]);
    await c.close();
  });

  it('fails at the deadline when the replicas are silent, after one speculative request', async () => {
    const { clock, readsSent, cluster: c, coordinator, metrics } = cluster();
    await coordinator.put(key, Buffer.from('v'), { w: 3 });
    c.network.drop({ to: 'node-1', probability: 1 });
    c.network.drop({ to: 'node-2', probability: 1 });
    const read = watch(coordinator.get(key, { r: 2, deadlineMs: clock.nowMs() + 100 }));
    await clock.advance(99);
    assert.equal(read.settled(), false);
    await clock.advance(1);
    assert.ok(read.error() instanceof DeadlineExceededError);
    assert.deepEqual(readsSent, ['node-1', 'node-2']);
    assert.deepEqual(metrics.speculativeReads, ['latency']);
    assert.deepEqual(metrics.speculativeReadsWon, []);
    await c.close();
  });
});
