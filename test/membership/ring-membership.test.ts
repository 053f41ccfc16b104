// Join and decommission inside one process: complete nodes (src/node/in-memory-cluster.ts,
// the same NodeAssembly `qkv server` runs) over a MemoryNetwork. A new node in a
// cluster of three NORMAL nodes decides to join, is refused a decommission while
// JOINING, streams what it takes over and becomes NORMAL; decommissioned again it
// streams its ranges to their new owners and reports LEFT once every peer heard it; a
// decommission that would leave fewer than N NORMAL members is refused. The
// real-process version is test/node/scaling.test.ts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DecommissionRefusedError, NotReadyError } from '../../src/errors/errors.js';
import type { MovementProgressStore } from '../../src/membership/ring-membership.js';
import { InMemoryCluster, type InMemoryNode } from '../../src/node/in-memory-cluster.js';
import { HashRing } from '../../src/ring/hash-ring.js';

const IDS = ['a', 'b', 'c', 'd'];
const MEMBERS = IDS.map((id) => ({ id, address: id, ready: true }));
const OPTIONS = { vnodes: 16, replicationFactor: 3 };
// A short write timeout: a movement waits that long for writes routed by the old rings.
const SETTINGS = { vnodes: OPTIONS.vnodes, probeIntervalMs: 20, peersReadyWaitMs: 2_000, writeTimeoutMs: 200 };

/** Three NORMAL nodes a, b and c; `progressStores` wraps a later node's progress store to inject a fault. */
async function startCluster(progressStores: Record<string, (store: MovementProgressStore) => MovementProgressStore> = {}, ids = ['a', 'b', 'c']): Promise<InMemoryCluster> {
  const cluster = await InMemoryCluster.start({
    nodes: ids,
    replicationFactor: OPTIONS.replicationFactor,
    settings: SETTINGS,
    stores: (id, stores) => {
      const wrap = progressStores[id];
      return wrap === undefined ? stores : { ...stores, progressStore: wrap(stores.progressStore) };
    },
  });
  await until('every node ready, each hearing the others NORMAL', () =>
    cluster.nodes().every((node) => node.assembly.unreadyReason() === undefined && ids.every((id) => id === node.id || node.assembly.memberRingState(id) === 'NORMAL')),
  );
  return cluster;
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether the node's Replica service answers key reads (RingMembership.servesKeyReads). */
async function servesKeyReads(node: InMemoryNode): Promise<boolean> {
  try {
    await node.assembly.replicaHandler.read([Buffer.from('any key')]);
    return true;
  } catch (error) {
    assert.ok(error instanceof NotReadyError, String(error));
    return false;
  }
}

it('a new node joins by streaming, and leaves by streaming; decommission is refused while JOINING and below N', async () => {
  const cluster = await startCluster();
  try {
    const [a, b, c] = cluster.nodes();
    const first = [a!, b!, c!];
    const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`key-${i}`));
    for (const key of keys) await a!.assembly.coordinator.put(key, Buffer.from(`value of ${key}`), { w: 2 });

    const d = await cluster.addNode('d');
    assert.equal(d.assembly.ringState(), 'JOINING', 'a new node among NORMAL peers joins');
    assert.equal(d.assembly.streamStatus()?.kind, 'join', 'Status shows the join');
    await assert.rejects(d.assembly.decommission(), (error: unknown) => error instanceof DecommissionRefusedError && /JOINING/.test(error.message));
    assert.match(d.assembly.unreadyReason() ?? '', /^joining/);
    assert.equal(await servesKeyReads(d), false, 'no key reads while JOINING');
    await until('a hears d JOINING', () => a!.assembly.memberRingState('d') === 'JOINING');
    const pendingOnA = keys.filter((key) => a!.assembly.placementRings().placementOfKey(key).pending.includes('d'));
    assert.ok(pendingOnA.length > 0, 'writes through a reach d as a pending replica');

    await until('d NORMAL', () => d.assembly.ringState() === 'NORMAL');
    await until('everyone hears d NORMAL', () => first.every((node) => node.assembly.memberRingState('d') === 'NORMAL'));
    // Ready only once every reachable peer has heard NORMAL (a few probe rounds later).
    await until('d ready', () => d.assembly.unreadyReason() === undefined);
    const four = await HashRing.create(MEMBERS, OPTIONS);
    for (const key of keys) {
      for (const replica of four.preferenceListForKey(key)) {
        assert.ok(cluster.node(replica).storage.get(key) !== undefined, `${key} on ${replica} after the join`);
      }
    }

    assert.equal(await d.assembly.decommission(), 'LEAVING');
    assert.equal(d.assembly.streamStatus()?.kind, 'leave', 'Status shows the decommission, not the join before it');
    assert.equal(await d.assembly.decommission(), 'LEAVING', 'asking again changes nothing');
    await until('d LEFT, heard by every peer', () => d.assembly.ringState() === 'LEFT');
    assert.ok(first.every((node) => node.assembly.memberRingState('d') === 'LEFT'));
    // Once LEFT, d takes no more writes from peers that heard it; a peer that has not
    // yet heard it must not read an old copy from d (a W=2 write routed without d could
    // be on one final owner only, and R=2 of {d, that other} would miss it).
    assert.equal(await servesKeyReads(d), false, 'no key reads once LEFT');
    for (const node of first) assert.equal(await servesKeyReads(node), true, `${node.id} serves key reads`);
    // d's copies are no longer needed: take it out of the cluster before checking the rest.
    await cluster.removeNode('d');
    const three = await HashRing.create(MEMBERS.slice(0, 3), OPTIONS);
    for (const key of keys) {
      for (const replica of three.preferenceListForKey(key)) {
        assert.ok(cluster.node(replica).storage.get(key) !== undefined, `${key} on ${replica} after the decommission`);
      }
    }
    assert.equal(a!.assembly.ring().digest, three.digest);

    await assert.rejects(a!.assembly.decommission(), (error: unknown) => {
      assert.ok(error instanceof DecommissionRefusedError, String(error));
      assert.equal(error.code, 'DECOMMISSION_REFUSED');
      assert.match(error.message, /2 NORMAL member\(s\) \(b, c\), fewer than the replication factor N=3/);
      return true;
    });
    assert.equal(a!.assembly.ringState(), 'NORMAL');
  } finally {
    await cluster.close();
  }
});

it('a join that fails outside its ranges (an unreadable progress file) says why in Status and readiness, retries, and stops at once on close', async () => {
  let failuresLeft = 1;
  const cluster = await startCluster({
    d: (store) => ({
      ...store,
      load: async (kind) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('stream-progress.json: damaged');
        }
        return store.load(kind);
      },
    }),
    // Failing for good: close must not wait out the pause before the next attempt.
    e: (store) => ({
      ...store,
      load: async () => {
        throw new Error('stream-progress.json: damaged');
      },
    }),
  });
  try {
    const d = await cluster.addNode('d');
    assert.equal(d.assembly.ringState(), 'JOINING');
    await until('Status shows the failure', () => /damaged/.test(d.assembly.streamStatus()?.lastError ?? ''));
    assert.equal(d.assembly.streamStatus()?.phase, 'retrying');
    assert.match(d.assembly.unreadyReason() ?? '', /^joining: retrying.*last error: join failed: stream-progress\.json: damaged/);
    await until('d NORMAL after the retry', () => d.assembly.ringState() === 'NORMAL');
    assert.equal(d.assembly.streamStatus(), undefined);

    const e = await cluster.addNode('e');
    assert.equal(e.assembly.ringState(), 'JOINING');
    await until('e retrying', () => /damaged/.test(e.assembly.streamStatus()?.lastError ?? ''));
    const closing = Date.now();
    await cluster.removeNode('e');
    // The pause is STREAM_RETRY_INTERVAL_MS (2 s); a close that waits it out takes that long.
    assert.ok(Date.now() - closing < 1_000, `close took ${Date.now() - closing} ms`);
  } finally {
    await cluster.close();
  }
});

it('a decommission asked for while the finished join is still clearing its progress still streams and ends LEFT', async () => {
  // The join's last step, removing its progress, is held until the decommission has been asked for.
  let releaseClear: () => void = () => {};
  const clearHeld = new Promise<void>((resolve) => (releaseClear = resolve));
  let clearing = false;
  const cluster = await startCluster({
    d: (store) => ({
      ...store,
      clear: async () => {
        clearing = true;
        await clearHeld;
        await store.clear();
      },
    }),
  });
  try {
    const first = cluster.nodes();
    for (let i = 0; i < 50; i++) await first[0]!.assembly.coordinator.put(Buffer.from(`key-${i}`), Buffer.from('v'), { w: 2 });
    const d = await cluster.addNode('d');
    assert.equal(d.assembly.ringState(), 'JOINING');
    await until('d NORMAL, its join clearing its progress', () => d.assembly.ringState() === 'NORMAL' && clearing);
    await until('a, b and c hear d NORMAL', () => first.every((node) => node.assembly.memberRingState('d') === 'NORMAL'));
    assert.equal(await d.assembly.decommission(), 'LEAVING');
    releaseClear();
    await until('d LEFT, heard by every peer', () => d.assembly.ringState() === 'LEFT', 20_000);
  } finally {
    releaseClear();
    await cluster.close();
  }
});

it('two members told to leave at the same moment never both leave when that would leave fewer than N NORMAL', async () => {
  const cluster = await startCluster({}, IDS);
  try {
    const nodes = cluster.nodes();
    const [, , c, d] = nodes;
    // Four members, N=3: one may leave, not two. Both are asked in the same turn, when
    // each still sees the other NORMAL.
    const outcomes = await Promise.allSettled([c!.assembly.decommission(), d!.assembly.decommission()]);
    const leaving = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        assert.ok(outcome.reason instanceof DecommissionRefusedError, String(outcome.reason));
        assert.match(outcome.reason.message, /another member started to leave at the same moment/);
      }
    }
    assert.ok(leaving.length <= 1, `${leaving.length} of the two went on leaving`);
    const states = [c!.assembly.ringState(), d!.assembly.ringState()];
    assert.ok(states.filter((state) => state === 'NORMAL').length >= 1, `c and d: ${states.join(', ')}`);
    await until('every node hears at least three NORMAL members', () =>
      nodes.every(
        (node) => nodes.filter((other) => node.assembly.memberRingState(other.id) === 'NORMAL' || (other.id === node.id && node.assembly.ringState() === 'NORMAL')).length >= 3,
      ),
    );
  } finally {
    await cluster.close();
  }
});
