// Complete nodes in one process (src/node/in-memory-cluster.ts): the six-node N=5
// W=3 R=3 example, a node that joins and one that is decommissioned with every key
// kept on its replicas, hinted handoff to a node cut off during writes, and an
// anti-entropy pass that spreads a record only one replica held. The nodes are the
// same NodeAssembly that `qkv server` runs; only storage, transport and discovery are
// in-process (test/node/scaling.test.ts does the join and decommission with processes).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InMemoryCluster, type InMemoryNode } from '../../src/node/in-memory-cluster.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { QkvError } from '../../src/errors/errors.js';

/**
 * Fast probes, few vnodes and a short write timeout (a movement waits that long for
 * writes routed by the old rings), so that joins and failure detection take a fraction of a second.
 */
const SETTINGS = { vnodes: 16, probeIntervalMs: 50, peersReadyWaitMs: 2_000, writeTimeoutMs: 500 };
const RING = { vnodes: SETTINGS.vnodes, replicationFactor: 5 };

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Asserts that every key is on each replica the ring of `ids` gives it. */
async function assertOnReplicas(cluster: InMemoryCluster, ids: readonly string[], keys: readonly Buffer[], when: string): Promise<void> {
  const ring = await HashRing.create(
    ids.map((id) => ({ id, address: id, ready: true })),
    RING,
  );
  for (const key of keys) {
    for (const replica of ring.preferenceListForKey(key)) {
      assert.ok(cluster.node(replica).storage.get(key) !== undefined, `${key} on ${replica} ${when}`);
    }
  }
}

function ready(node: InMemoryNode): boolean {
  return node.assembly.unreadyReason() === undefined;
}

it('six nodes, N=5: W=3 R=3 writes and reads; a seventh node joins and a node is decommissioned, every key kept', async () => {
  const cluster = await InMemoryCluster.start({ nodes: 6, replicationFactor: 5, settings: SETTINGS });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    const keys = Array.from({ length: 200 }, (_, i) => Buffer.from(`key-${i}`));
    const nodes = cluster.nodes();
    for (const [i, key] of keys.entries()) {
      const written = await nodes[i % nodes.length]!.assembly.coordinator.put(key, Buffer.from(`value ${i}`), { w: 3 });
      assert.ok(written.acks >= 3, `${key}: ${written.acks} acks`);
    }
    for (const [i, key] of keys.entries()) {
      const read = await nodes[(i + 1) % nodes.length]!.assembly.coordinator.get(key, { r: 3 });
      assert.equal(read.record?.value?.toString(), `value ${i}`);
    }
    const six = cluster.nodes().map((node) => node.id);
    // Every write reached all five replicas (W=3 returns early; the rest follow).
    await until('all five copies written', () => keys.every((key) => nodes.filter((node) => node.storage.get(key) !== undefined).length === 5));

    const joiner = await cluster.addNode('node-7');
    assert.equal(joiner.assembly.ringState(), 'JOINING', 'a new node among NORMAL peers joins');
    assert.throws(() => joiner.assembly.admit(), /joining/, 'no client calls while joining');
    await until('node-7 NORMAL and ready', () => ready(joiner), 30_000);
    await until('every node hears node-7 NORMAL', () => cluster.nodes().every((node) => node.id === 'node-7' || node.assembly.memberRingState('node-7') === 'NORMAL'));
    await assertOnReplicas(cluster, [...six, 'node-7'], keys, 'after node-7 joined');

    const leaver = cluster.node('node-2');
    assert.equal(await leaver.assembly.decommission(), 'LEAVING');
    await until('node-2 LEFT', () => leaver.assembly.ringState() === 'LEFT', 30_000);
    await cluster.removeNode('node-2');
    const remaining = cluster.nodes().map((node) => node.id);
    assert.deepEqual(remaining, ['node-1', 'node-3', 'node-4', 'node-5', 'node-6', 'node-7']);
    const withoutLeaver = await HashRing.create(
      remaining.map((id) => ({ id, address: id, ready: true })),
      RING,
    );
    await until('every node routes by the ring without node-2', () => cluster.nodes().every((node) => node.assembly.ring().digest === withoutLeaver.digest));
    await assertOnReplicas(cluster, remaining, keys, 'after node-2 left');
    for (const [i, key] of keys.entries()) {
      const read = await cluster.nodes()[i % remaining.length]!.assembly.coordinator.get(key, { r: 3 });
      assert.equal(read.record?.value?.toString(), `value ${i}`, `${key} after the decommission`);
    }
  } finally {
    await cluster.close();
  }
});

it('hinted handoff: writes that missed a disconnected node reach it once it is back', async () => {
  const cluster = await InMemoryCluster.start({ nodes: 6, replicationFactor: 5, settings: SETTINGS });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    const coordinator = cluster.node('node-1');
    const missing = cluster.node('node-3');
    cluster.network.disconnect('node-3');
    const ring = coordinator.assembly.ring();
    const keys = Array.from({ length: 100 }, (_, i) => Buffer.from(`hinted-${i}`)).filter((key) => ring.preferenceListForKey(key).includes('node-3'));
    assert.ok(keys.length > 0);
    for (const key of keys) await coordinator.assembly.coordinator.put(key, Buffer.from('v'), { w: 3 });
    await until('node-1 holds hints for node-3', () => (coordinator.assembly.hintBytes().get('node-3') ?? 0) > 0);
    assert.equal(keys.filter((key) => missing.storage.get(key) !== undefined).length, 0, 'node-3 missed every write');

    cluster.network.reconnect('node-3');
    await until('hints delivered', () => keys.every((key) => missing.storage.get(key) !== undefined));
    await until('no hints left', () => (coordinator.assembly.hintBytes().get('node-3') ?? 0) === 0);
  } finally {
    await cluster.close();
  }
});

it('anti-entropy: a record only one replica holds reaches the others in one repair pass', async () => {
  const cluster = await InMemoryCluster.start({ nodes: 6, replicationFactor: 5, settings: SETTINGS });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    const key = Buffer.from('repaired');
    const replicas = cluster.node('node-1').assembly.ring().preferenceListForKey(key);
    const holder = cluster.node(replicas[0]!);
    // Straight into one engine, as a write whose other copies were lost would leave it.
    await holder.storage.apply([{ key, value: Buffer.from('only here'), version: { stamp: 1n << 20n, nodeId: holder.id }, expiresAtMs: 0 }]);
    assert.equal(replicas.filter((id) => cluster.node(id).storage.get(key) !== undefined).length, 1);
    await holder.assembly.repair();
    for (const id of replicas) assert.equal(cluster.node(id).storage.get(key)?.value?.toString(), 'only here', `on ${id}`);
  } finally {
    await cluster.close();
  }
});

it('on virtual time: a write whose other replicas stay silent fails DEADLINE_EXCEEDED at the write timeout, not before', async () => {
  // The network and every node share one ManualClock (InMemoryCluster passes the
  // network's clock to each assembly), so the coordinator's deadline moves only when
  // the test advances it. Started at the real time: records stamped by the hybrid
  // logical clock must not look as if they came from the future.
  const time = new ManualClock(Date.now());
  const cluster = await InMemoryCluster.start({ nodes: 3, replicationFactor: 3, settings: { ...SETTINGS, probeIntervalMs: 1_000 }, network: { clock: time } });
  try {
    // Start-up waits on the clock too (probe rounds until the peers answer): move it on.
    for (let step = 0; !cluster.nodes().every(ready); step++) {
      assert.ok(step < 1_000, 'every node ready within 50 s of virtual time');
      await time.advance(50);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const coordinator = cluster.node('node-1').assembly.coordinator;
    await coordinator.put(Buffer.from('before'), Buffer.from('v'), { w: 3 });
    cluster.network.drop({ from: 'node-1', to: 'node-2', probability: 1 });
    cluster.network.drop({ from: 'node-1', to: 'node-3', probability: 1 });
    let settled = false;
    const write = coordinator.put(Buffer.from('silent'), Buffer.from('v'), { w: 2 }).finally(() => (settled = true));
    write.catch(() => {});
    await time.advance(SETTINGS.writeTimeoutMs - 1);
    assert.equal(settled, false, 'the write settled before its deadline');
    await time.advance(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, true, 'the write is still waiting after its deadline passed on the clock');
    await assert.rejects(write, (error: unknown) => error instanceof QkvError && error.code === 'DEADLINE_EXCEEDED');
  } finally {
    // Closing waits for probes and late replies whose deadlines are on the clock too.
    let closed = false;
    const closing = cluster.close().finally(() => (closed = true));
    while (!closed) {
      await time.advance(100);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await closing;
  }
});
