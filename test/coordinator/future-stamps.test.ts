// Records no honest node writes (src/replica/record-from-future.ts): a stamp further
// ahead of the receiver's clock than HLC_FORWARD_DRIFT_MS_MAX, or an expiry later than
// the longest TTL from now. The local replica refuses a batch holding one whole with
// STAMP_FROM_FUTURE, stores nothing of it and does not move its clock; a peer's Apply
// through the network gets the code; and a coordinator that reads such a record from one
// replica neither returns it nor repairs it onto the others.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HLC_FORWARD_DRIFT_MS_MAX, HybridLogicalClock, stampOf, wallMsOf } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { StampFromFutureError, isQkvError } from '../../src/errors/errors.js';
import { TTL_MS_MAX } from '../../src/limits.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryCluster, testTokenOf } from '../support/memory-cluster.js';

const victim = Buffer.from('victim');
/** The largest wall time a 48-bit stamp holds: 2^48-1 ms after the epoch, in the year 10889. */
const YEAR_10889 = stampOf((1n << 48n) - 1n, 0n);
const NOW_MS = 1_000_000;

function record(key: Buffer, value: string | null, stamp: bigint, expiresAtMs = 0): KvRecord {
  return { key, value: value === null ? null : Buffer.from(value), version: { stamp, nodeId: 'qkv-9' }, expiresAtMs };
}

function refusedWith(field: 'stamp' | 'expires_at_ms') {
  return (error: unknown): boolean => {
    assert.ok(error instanceof StampFromFutureError, String(error));
    assert.equal(error.code, 'STAMP_FROM_FUTURE');
    assert.equal(error.field, field);
    assert.match(error.message, /"victim"/, 'names the key');
    assert.match(error.message, new RegExp(`no node writes one more than ${field === 'stamp' ? HLC_FORWARD_DRIFT_MS_MAX : TTL_MS_MAX + HLC_FORWARD_DRIFT_MS_MAX} ms ahead`), 'names the bound');
    return true;
  };
}

function localReplica(): { engine: MemoryStorageEngine; clock: HybridLogicalClock; replica: LocalReplica } {
  const engine = new MemoryStorageEngine(testTokenOf);
  const clock = new HybridLogicalClock(() => NOW_MS);
  return { engine, clock, replica: new LocalReplica(engine, clock, { tokenOf: testTokenOf, nowMs: () => NOW_MS }) };
}

it('a record stamped in the year 10889 is refused with its batch: STAMP_FROM_FUTURE names the stamp and the bound, nothing is stored, the clock stays', async () => {
  const { engine, clock, replica } = localReplica();
  const honest = record(Buffer.from('honest'), 'v', stampOf(BigInt(NOW_MS - 5), 0n));
  await assert.rejects(replica.apply([honest, record(victim, 'forged', YEAR_10889)]), (error: unknown) => {
    refusedWith('stamp')(error);
    assert.match((error as Error).message, new RegExp(`stamp ${YEAR_10889} \\(\\+010889-`), 'names the stamp and its time');
    return true;
  });
  assert.equal(engine.get(victim), undefined);
  assert.equal(engine.get(Buffer.from('honest')), undefined, 'the whole batch is refused, as for a malformed record');
  assert.equal(wallMsOf(clock.now()), BigInt(NOW_MS), 'the clock did not adopt the refused stamp');
});

it('a forged tombstone from the future is refused; the value stays', async () => {
  const { engine, replica } = localReplica();
  await replica.apply([record(victim, 'honest', stampOf(BigInt(NOW_MS), 0n))]);
  await assert.rejects(replica.apply([record(victim, null, YEAR_10889)]), refusedWith('stamp'));
  assert.equal(engine.get(victim)?.value?.toString(), 'honest');
});

it('the bound is the drift bound: a stamp that far ahead is taken, one a millisecond further is not, one the clock reached already always is', async () => {
  const { engine, clock, replica } = localReplica();
  await replica.apply([record(Buffer.from('edge'), 'v', stampOf(BigInt(NOW_MS + HLC_FORWARD_DRIFT_MS_MAX), 7n))]);
  assert.ok(engine.get(Buffer.from('edge')));
  await assert.rejects(replica.apply([record(victim, 'v', stampOf(BigInt(NOW_MS + HLC_FORWARD_DRIFT_MS_MAX + 1), 0n))]), refusedWith('stamp'));
  // The clock now stands at the edge stamp; a stamp at or below it is no news, even far ahead of the wall clock.
  await replica.apply([record(Buffer.from('reached'), 'v', stampOf(BigInt(NOW_MS + HLC_FORWARD_DRIFT_MS_MAX), 3n))]);
  assert.ok(engine.get(Buffer.from('reached')));
  assert.ok(clock.now() > stampOf(BigInt(NOW_MS + HLC_FORWARD_DRIFT_MS_MAX), 7n));
});

it('an expiry later than the longest TTL from now is refused; one within it is taken', async () => {
  const { engine, replica } = localReplica();
  const stamp = stampOf(BigInt(NOW_MS), 0n);
  await replica.apply([record(Buffer.from('long'), 'v', stamp, NOW_MS + TTL_MS_MAX)]);
  assert.ok(engine.get(Buffer.from('long')));
  await assert.rejects(replica.apply([record(victim, 'v', stamp, NOW_MS + TTL_MS_MAX + HLC_FORWARD_DRIFT_MS_MAX + 1)]), refusedWith('expires_at_ms'));
  assert.equal(engine.get(victim), undefined);
});

it('a peer\'s Apply of a record from the year 10889 is refused with the code; the value is unchanged and later writes win', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const coordinator = cluster.node('node-0').coordinator;
  await coordinator.put(victim, Buffer.from('honest'), { w: 3 });
  for (const target of ['node-1', 'node-2']) {
    for (const forged of [record(victim, 'forged', YEAR_10889), record(victim, null, YEAR_10889)]) {
      await assert.rejects(cluster.node('node-0').transport.apply(target, [forged], { deadlineMs: Date.now() + 1_000 }), (error: unknown) => {
        assert.ok(isQkvError(error));
        assert.equal(error.code, 'STAMP_FROM_FUTURE');
        return true;
      });
    }
  }
  for (const [id, held] of Object.entries(cluster.holdings(victim))) assert.equal(held?.value?.toString(), 'honest', id);
  assert.equal((await coordinator.get(victim, { r: 3 })).record?.value?.toString(), 'honest');
  await coordinator.put(victim, Buffer.from('new'), { w: 3 });
  assert.equal((await cluster.node('node-1').coordinator.get(victim, { r: 3 })).record?.value?.toString(), 'new');
  await cluster.close();
});

it('a replica holding a record from the future (planted in its store) does not get it returned or spread by read repair', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  await cluster.node('node-0').coordinator.put(victim, Buffer.from('honest'), { w: 3 });
  // Stored before replicas refused such records: straight into node-2's engine.
  await cluster.node('node-2').engine.apply([record(victim, 'forged', YEAR_10889)]);
  for (const via of ['node-0', 'node-1', 'node-2']) {
    const read = await cluster.node(via).coordinator.get(victim, { r: 3, includeReplicas: true });
    assert.equal(read.record?.value?.toString(), 'honest', `read through ${via}`);
    assert.equal(read.acks, 3);
  }
  await cluster.settle();
  assert.equal(cluster.node('node-0').engine.get(victim)?.value?.toString(), 'honest', 'not repaired onto node-0');
  assert.equal(cluster.node('node-1').engine.get(victim)?.value?.toString(), 'honest', 'not repaired onto node-1');
  for (const node of cluster.nodes) assert.ok(node.clock.now() < YEAR_10889, `${node.id}'s clock did not adopt the stamp`);
  // A later write still wins on every replica that is not poisoned, and reads return it.
  await cluster.node('node-1').coordinator.put(victim, Buffer.from('new'), { w: 2 });
  await cluster.settle();
  assert.equal((await cluster.node('node-2').coordinator.get(victim, { r: 3 })).record?.value?.toString(), 'new');
  await cluster.settle();
  assert.equal(cluster.node('node-0').engine.get(victim)?.value?.toString(), 'new');
  assert.equal(cluster.node('node-1').engine.get(victim)?.value?.toString(), 'new');
  await cluster.close();
});
