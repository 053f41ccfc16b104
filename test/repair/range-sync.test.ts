// syncRange (src/repair/range-sync.ts) between two real replicas (LocalReplica over a
// MemoryStorageEngine): both sides end up with the newest version of every key, each
// direction only sends what the other side lacks or holds older, and a range that
// differs in every record is streamed as it is scanned — applies start before the
// source's last page is read — instead of being collected whole first. A record stamped
// from the future that one side holds is neither pushed nor pulled.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HybridLogicalClock, stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { REPAIR_SCAN_PAGE_RECORDS, REPAIR_STREAM_BATCH_RECORDS } from '../../src/limits.js';
import { syncRange } from '../../src/repair/range-sync.js';
import { FULL_RING } from '../../src/ring/token-range.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { PeerTransport } from '../../src/replica/peer-transport.js';
import { testTokenOf } from '../support/test-token.js';

function put(key: string, stamp: bigint): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(`${key}@${stamp}`), version: { stamp, nodeId: 'w' }, expiresAtMs: 0 };
}

function replica(): { engine: MemoryStorageEngine; replica: LocalReplica } {
  const engine = new MemoryStorageEngine(testTokenOf);
  return { engine, replica: new LocalReplica(engine, new HybridLogicalClock(), { tokenOf: testTokenOf }) };
}

/** The peer side of the port, backed by another LocalReplica; records what happens in order. */
function peerOf(remote: LocalReplica, events: string[]): PeerTransport {
  return {
    merkleTree: (_peer, range, depth) => remote.merkleTree(range, depth),
    scan: async (_peer, range, limit, cursor) => {
      events.push('remote scan');
      return remote.scan(range, limit, cursor);
    },
    apply: async (_peer, records) => {
      events.push('push');
      await remote.apply(records);
    },
  } as Pick<PeerTransport, 'merkleTree' | 'scan' | 'apply'> as PeerTransport;
}

it('brings both sides to the newest version of every key, sending only what differs', async () => {
  const here = replica();
  const there = replica();
  await here.engine.apply([put('only-here', 1n), put('both-same', 5n), put('newer-here', 9n), put('older-here', 1n)]);
  await there.engine.apply([put('only-there', 1n), put('both-same', 5n), put('newer-here', 2n), put('older-here', 7n)]);
  const events: string[] = [];
  const outcome = await syncRange({ local: here.replica, transport: peerOf(there.replica, events), depth: 2, tokenOf: testTokenOf }, 'peer', FULL_RING, 'both');
  assert.equal(outcome.inSync, false);
  assert.equal(outcome.pulled, 2, 'only-there and older-here');
  assert.equal(outcome.pushed, 2, 'only-here and newer-here');
  for (const engine of [here.engine, there.engine]) {
    assert.equal(engine.get(Buffer.from('only-here'))?.version.stamp, 1n);
    assert.equal(engine.get(Buffer.from('only-there'))?.version.stamp, 1n);
    assert.equal(engine.get(Buffer.from('newer-here'))?.version.stamp, 9n);
    assert.equal(engine.get(Buffer.from('older-here'))?.version.stamp, 7n);
  }
  const again = await syncRange({ local: here.replica, transport: peerOf(there.replica, []), depth: 2, tokenOf: testTokenOf }, 'peer', FULL_RING, 'both');
  assert.equal(again.inSync, true);
});

it('streams a range that differs in every record as it scans it, one page of each side at a time', async () => {
  const here = replica();
  const there = replica();
  const KEYS = REPAIR_SCAN_PAGE_RECORDS * 4;
  await there.engine.apply(Array.from({ length: KEYS }, (_, i) => put(`k-${i}`, 1n)));
  const events: string[] = [];
  const local = {
    merkleTree: (range: typeof FULL_RING, depth: number) => here.replica.merkleTree(range, depth),
    scan: (range: typeof FULL_RING, limit: number, cursor?: Parameters<LocalReplica['scan']>[2]) => here.replica.scan(range, limit, cursor),
    apply: async (records: readonly KvRecord[]) => {
      events.push(`pull ${records.length}`);
      await here.replica.apply(records);
    },
  };
  // Depth 0: one leaf, so the whole range is one run of differing leaves.
  const outcome = await syncRange({ local, transport: peerOf(there.replica, events), depth: 0, tokenOf: testTokenOf }, 'peer', FULL_RING, 'pull');
  assert.equal(outcome.pulled, KEYS);
  assert.equal(here.engine.size, KEYS);
  const scans = events.filter((event) => event === 'remote scan').length;
  assert.ok(scans >= 4, `${scans} remote pages`);
  const firstPull = events.findIndex((event) => event.startsWith('pull'));
  const lastScan = events.lastIndexOf('remote scan');
  assert.ok(firstPull < lastScan, `records were applied before the last page was read: ${events.join(', ')}`);
  assert.ok(events.filter((event) => event.startsWith('pull')).every((event) => Number(event.split(' ')[1]) <= REPAIR_STREAM_BATCH_RECORDS));
});

it('a record stamped from the future (planted in either store) is neither pushed nor pulled, stops no sync, and leaves the trees equal', async () => {
  // The largest wall time a stamp holds, in the year 10889: no replica takes it any more
  // (src/replica/record-from-future.ts), but one may still hold it from before.
  const forged = stampOf((1n << 48n) - 1n, 0n);
  const honest = stampOf(BigInt(Date.now()), 0n);
  for (const plantedOn of ['here', 'there'] as const) {
    const here = replica();
    const there = replica();
    await here.engine.apply([put('a', honest)]);
    await there.engine.apply([put('b', honest)]);
    await (plantedOn === 'here' ? here : there).engine.apply([put('victim', forged), put('gone', forged)]);
    const outcome = await syncRange({ local: here.replica, transport: peerOf(there.replica, []), depth: 2, tokenOf: testTokenOf }, 'peer', FULL_RING, 'both');
    assert.equal(outcome.pulled, 1, `planted ${plantedOn}: b only`);
    assert.equal(outcome.pushed, 1, `planted ${plantedOn}: a only`);
    const clean = plantedOn === 'here' ? there : here;
    assert.equal(clean.engine.get(Buffer.from('victim')), undefined, `planted ${plantedOn}: not spread`);
    assert.equal(clean.engine.get(Buffer.from('gone')), undefined, `planted ${plantedOn}: not spread`);
    for (const side of [here, there]) for (const key of ['a', 'b']) assert.equal(side.engine.get(Buffer.from(key))?.version.stamp, honest);
    const again = await syncRange({ local: here.replica, transport: peerOf(there.replica, []), depth: 2, tokenOf: testTokenOf }, 'peer', FULL_RING, 'both');
    assert.equal(again.inSync, true, `planted ${plantedOn}: the trees leave the record out`);
  }
});
