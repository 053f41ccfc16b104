// A single-key call on a one-node cluster (N=1, W=R=1), whose only replica is the
// coordinator's own, is served without the fan-out (src/coordinator/local-replica-call.ts,
// docs/decisions/0258-one-local-replica-without-the-fan-out.md). It must answer exactly
// as the fan-out does: the value, tombstones and expiry; DEADLINE_EXCEEDED at the
// deadline while a slow engine goes on (its late reply still counted, close() waiting
// for it); QUORUM_NOT_MET naming the replica's code when the engine fails; nothing sent
// once the deadline has passed; a record from the future never returned; the same
// metrics; no timer left behind. The cluster runs on a ManualClock, so a deadline passes
// when the test advances time.
//
// Whether a key's only replica is this node's own is decided per key on the placement
// (the read ring's natural list and the write ring's pending replicas): on a cluster of
// several nodes with N=1, a key another node owns, and a key that is moving to or from
// this node (a join or a decommission), still take the fan-out, so they reach every node
// they must.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { DeadlineExceededError, QkvError, QuorumNotMetError } from '../../src/errors/errors.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { Placement } from '../../src/coordinator/coordinator-config.js';
import { activeTimerCount } from '../support/active-timers.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

const key = Buffer.from('k');
const value = Buffer.from('v');

function oneNode(): { cluster: MemoryCluster; clock: ManualClock; metrics: RecordingMetrics } {
  const clock = new ManualClock();
  const metrics = new RecordingMetrics();
  const cluster = new MemoryCluster({ nodes: 1, replicationFactor: 1, clock, metrics: () => metrics });
  return { cluster, clock, metrics };
}

/** Records how `call` settles without awaiting it, so a test can look before and after time passes. */
function watch<T>(call: Promise<T>): { settled(): boolean; error(): unknown } {
  let settled = false;
  let failure: unknown;
  call.then(
    () => (settled = true),
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  return { settled: () => settled, error: () => failure };
}

/** A promise the test resolves or rejects when it wants. */
function held<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('one node, one local replica', () => {
  const timersBefore = activeTimerCount();
  afterEach(() => {
    assert.equal(activeTimerCount(), timersBefore, 'no timer outlives its call');
  });

  it('puts, gets and deletes with one ack each, and reports them as the fan-out does', async () => {
    const { cluster, clock, metrics } = oneNode();
    const coordinator = cluster.node('node-0').coordinator;
    const put = await coordinator.put(key, value);
    assert.equal(put.acks, 1);
    assert.equal(put.version.nodeId, 'node-0');
    assert.deepEqual(cluster.node('node-0').engine.get(key)?.version, put.version, 'the engine holds the write before it is acknowledged');
    const got = await coordinator.get(key);
    assert.equal(got.record?.value?.toString(), 'v');
    assert.deepEqual(got.record?.version, put.version);
    assert.equal(got.acks, 1);
    assert.deepEqual(got.replicas, []);
    const removed = await coordinator.delete(key);
    assert.equal(removed.acks, 1);
    assert.equal((await coordinator.get(key)).record, undefined, 'a tombstone reads as not found');
    assert.equal((await coordinator.get(Buffer.from('never-written'))).record, undefined);
    await coordinator.put(key, value, { ttlMs: 50 });
    assert.equal((await coordinator.get(key)).record?.value?.toString(), 'v');
    await clock.advance(50);
    assert.equal((await coordinator.get(key)).record, undefined, 'an expired record reads as not found');

    assert.deepEqual(
      metrics.replicaRequests.map(({ op, result }) => `${op}:${result}`),
      ['apply:ok', 'read:ok', 'apply:ok', 'read:ok', 'read:ok', 'apply:ok', 'read:ok', 'read:ok'],
    );
    assert.ok(metrics.replicaRequests.every(({ peer }) => peer === 'node-0'));
    assert.deepEqual(metrics.acksSeen.map(({ acks }) => acks), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(metrics.requests.map(({ op, quorum, outcome }) => `${op}/${quorum}:${outcome}`), [
      'put/1:ok', 'get/1:ok', 'delete/1:ok', 'get/1:ok', 'get/1:ok', 'put/1:ok', 'get/1:ok', 'get/1:ok',
    ]);
    assert.deepEqual(metrics.quorumFailures, []);
    assert.equal(clock.pendingTimers, 0, 'every deadline timer was cleared with its call');
    await cluster.close();
  });

  it('a write the engine does not finish in time fails with DEADLINE_EXCEEDED at the deadline; the late ack is still counted and close() waits for it', async () => {
    const { cluster, clock, metrics } = oneNode();
    const node = cluster.node('node-0');
    const engineDone = held<undefined>();
    const apply = node.replica.apply.bind(node.replica);
    node.replica.apply = async (records, encoding) => {
      await engineDone.promise;
      return apply(records, encoding);
    };
    const put = watch(node.coordinator.put(key, value, { deadlineMs: clock.nowMs() + 20 }));
    await clock.advance(19);
    assert.equal(put.settled(), false, 'still waiting 1 ms before the deadline');
    await clock.advance(1);
    assert.ok(put.settled(), 'answered at the deadline, not when the engine finishes');
    const error = put.error();
    assert.ok(error instanceof DeadlineExceededError, String(error));
    assert.equal(error.acks, 0);
    assert.equal(error.required, 1);
    assert.equal(error.timeoutMs, 20);
    assert.deepEqual(metrics.quorumFailures, [{ op: 'put', reason: 'deadline_exceeded' }]);
    assert.deepEqual(metrics.acksSeen, [{ op: 'put', acks: 0 }]);
    assert.equal(metrics.requests[0]?.outcome, 'DEADLINE_EXCEEDED');
    assert.deepEqual(metrics.replicaRequests, [], 'the engine has not answered yet');

    let closed = false;
    const closing = node.coordinator.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'close() waits for the engine still writing');
    engineDone.resolve(undefined);
    await closing;
    assert.deepEqual(metrics.replicaRequests, [{ op: 'apply', peer: 'node-0', result: 'ok' }], 'the late ack is counted');
    assert.equal(node.engine.get(key)?.value?.toString(), 'v', 'the write the engine finished late is stored');
    await cluster.close();
  });

  it('a read the engine does not answer in time fails with DEADLINE_EXCEEDED', async () => {
    const { cluster, clock, metrics } = oneNode();
    const node = cluster.node('node-0');
    await node.coordinator.put(key, value);
    const engineDone = held<undefined>();
    const read = node.replica.read.bind(node.replica);
    node.replica.read = async (keys, answerBytesMax) => {
      await engineDone.promise;
      return read(keys, answerBytesMax);
    };
    const get = watch(node.coordinator.get(key, { deadlineMs: clock.nowMs() + 30 }));
    await clock.advance(29);
    assert.equal(get.settled(), false);
    await clock.advance(1);
    const error = get.error();
    assert.ok(error instanceof DeadlineExceededError, String(error));
    assert.equal(error.acks, 0);
    assert.deepEqual(metrics.quorumFailures, [{ op: 'get', reason: 'deadline_exceeded' }]);
    engineDone.resolve(undefined);
    await cluster.close();
    assert.deepEqual(metrics.replicaRequests.map(({ op, result }) => `${op}:${result}`), ['apply:ok', 'read:ok']);
  });

  it('an engine that fails gives QUORUM_NOT_MET at once, naming the node and the engine\'s code', async () => {
    const { cluster, clock, metrics } = oneNode();
    const node = cluster.node('node-0');
    node.replica.apply = () => Promise.reject(new QkvError('STORE_CLOSED', 'the store is closed'));
    const put = watch(node.coordinator.put(key, value, { deadlineMs: clock.nowMs() + 1000 }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(put.settled(), 'no waiting for the deadline');
    const error = put.error();
    assert.ok(error instanceof QuorumNotMetError, String(error));
    assert.equal(error.acks, 0);
    assert.equal(error.required, 1);
    assert.equal(error.replicas, 1);
    assert.match(error.message, /\(node-0: STORE_CLOSED\)$/);
    assert.deepEqual(metrics.quorumFailures, [{ op: 'put', reason: 'replicas_failed' }]);
    assert.deepEqual(metrics.replicaRequests, [{ op: 'apply', peer: 'node-0', result: 'STORE_CLOSED' }]);
    assert.equal(metrics.requests[0]?.outcome, 'QUORUM_NOT_MET');
    assert.equal(clock.pendingTimers, 0, 'the deadline timer was cleared');

    // An error that is not an operating error (a bug) is named by its message, as in the fan-out.
    node.replica.read = () => Promise.reject(new Error('a bug'));
    await assert.rejects(node.coordinator.get(key), (failure: unknown) => failure instanceof QuorumNotMetError && /\(node-0: a bug\)$/.test(failure.message));
    assert.deepEqual(metrics.replicaRequests.at(-1), { op: 'read', peer: 'node-0', result: 'INTERNAL' });
    await cluster.close();
  });

  it('a write whose deadline has passed is not sent to the engine', async () => {
    const { cluster, clock, metrics } = oneNode();
    const node = cluster.node('node-0');
    let applies = 0;
    const apply = node.replica.apply.bind(node.replica);
    node.replica.apply = (records, encoding) => {
      applies++;
      return apply(records, encoding);
    };
    await assert.rejects(node.coordinator.put(key, value, { deadlineMs: clock.nowMs() - 1 }), DeadlineExceededError);
    assert.equal(applies, 0);
    assert.equal(node.engine.get(key), undefined);
    assert.deepEqual(metrics.quorumFailures, [{ op: 'put', reason: 'deadline_exceeded' }]);
    await cluster.close();
  });

  it('a record stamped further ahead than any node writes is not returned', async () => {
    const { cluster, clock } = oneNode();
    const node = cluster.node('node-0');
    const forged: KvRecord = { key, value: Buffer.from('forged'), version: { stamp: stampOf((1n << 48n) - 1n, 0n), nodeId: 'qkv-9' }, expiresAtMs: 0 };
    // Planted in the engine directly, as records stored before the check existed were.
    await node.engine.apply([forged]);
    const got = await node.coordinator.get(key);
    assert.equal(got.record, undefined);
    assert.equal(got.acks, 1);
    assert.ok(clock.nowMs() > 0);
    await cluster.close();
  });

  it('include_replicas on one node still reports the one replica', async () => {
    const { cluster } = oneNode();
    const coordinator = cluster.node('node-0').coordinator;
    const put = await coordinator.put(key, value);
    const got = await coordinator.get(key, { includeReplicas: true });
    assert.deepEqual(got.replicas, [{ nodeId: 'node-0', found: true, version: put.version }]);
    await cluster.close();
  });
});

describe('N=1 on several nodes: only a key this node alone holds skips the fan-out', () => {
  const holders = (cluster: MemoryCluster, key: Buffer): string[] => cluster.nodes.filter((node) => node.engine.get(key) !== undefined).map((node) => node.id);

  it('a key another node owns is written to that node, not to the coordinator, and reads back from every node', async () => {
    const metrics = new RecordingMetrics();
    // Each key's one replica is named in the key, so every node coordinates keys of every owner.
    const placement: Placement = (key) => ({ natural: [key.toString().split('/')[0]!], pending: [] });
    const cluster = new MemoryCluster({ nodes: ['a', 'b', 'c'], replicationFactor: 1, placement, metrics: (id) => (id === 'a' ? metrics : new RecordingMetrics()) });
    try {
      for (const owner of ['a', 'b', 'c']) {
        const owned = Buffer.from(`${owner}/k`);
        const written = await cluster.node('a').coordinator.put(owned, Buffer.from(`v of ${owner}`));
        assert.equal(written.acks, 1);
        assert.deepEqual(holders(cluster, owned), [owner], `only ${owner} holds its key, whoever coordinated the write`);
        for (const reader of ['a', 'b', 'c']) {
          assert.equal((await cluster.node(reader).coordinator.get(owned)).record?.value?.toString(), `v of ${owner}`, `${reader} reads ${owner}'s key`);
        }
      }
      assert.deepEqual(
        metrics.replicaRequests.filter(({ op }) => op === 'apply').map(({ peer }) => peer),
        ['a', 'b', 'c'],
        "a's writes were sent to each key's owner",
      );
    } finally {
      await cluster.close();
    }
  });

  it('a key moving to a joining node is written to both and needs both acks, as the fan-out writes it', async () => {
    // a holds the key now (the read ring); b joins and will hold it (the write ring).
    const placement: Placement = () => ({ natural: ['a'], pending: ['b'] });
    const cluster = new MemoryCluster({ nodes: ['a', 'b'], replicationFactor: 1, placement });
    try {
      const written = await cluster.node('a').coordinator.put(key, value);
      assert.equal(written.acks, 2, 'W + 1 pending acks');
      assert.deepEqual(holders(cluster, key), ['a', 'b'], 'the joining node holds the write too: it will be the only replica');
      // With the new owner unreachable the write cannot leave a copy on it: refused, not acked by a alone.
      cluster.network.disconnect('b');
      await assert.rejects(cluster.node('a').coordinator.put(Buffer.from('k2'), value), QuorumNotMetError);
      // A delete moves too: a tombstone that skipped b would let the old value come back once b owns the key.
      cluster.network.reconnect('b');
      await cluster.node('a').coordinator.delete(key);
      assert.equal(cluster.node('b').engine.get(key)?.value, null, 'the joining node holds the tombstone');
    } finally {
      await cluster.close();
    }
  });

  it("a leaving node's key is written to its new owner too, and read from the node that still holds it", async () => {
    // a leaves: it still holds the key (the read ring), c takes it over (the write ring).
    const placement: Placement = () => ({ natural: ['a'], pending: ['c'] });
    const cluster = new MemoryCluster({ nodes: ['a', 'c'], replicationFactor: 1, placement });
    try {
      await cluster.node('a').coordinator.put(key, value);
      assert.deepEqual(holders(cluster, key), ['a', 'c']);
      // Reads ask the natural replica only: a record planted on c alone is not what a read returns.
      await cluster.node('c').engine.apply([{ key: Buffer.from('only-on-c'), value, version: { stamp: 1n, nodeId: 'c' }, expiresAtMs: 0 }]);
      assert.equal((await cluster.node('a').coordinator.get(Buffer.from('only-on-c'))).record, undefined);
    } finally {
      await cluster.close();
    }
  });
});
