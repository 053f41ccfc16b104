// `qkv forget` on complete in-process nodes (src/node/in-memory-cluster.ts;
// docs/decisions/0180-forget-a-member-gone-for-good.md). Four nodes, N=3, keys written
// with W=3; then
//   - forgetting a live member, an unknown one or the node asked is refused
//     (FORGET_REFUSED) and changes no ring;
//   - node-4 is lost for good (stopped, its data gone): while its peers hold it down in
//     their rings, cleanup is refused because of it;
//   - forget node-4 through node-1: every node drops it from its rings, the survivors
//     pull the keys node-4 held from each other until each key is on all three, every
//     key reads back with R=3 through every node, and cleanup succeeds everywhere;
//   - node-4 coming back with its saved (pre-forget) state is refused (MEMBER_FORGOTTEN)
//     and no ring takes it back; coming back empty, it joins as a new member.
// Then: a node restarted in the middle of its re-replication resumes it from what it
// saved; and a member that was only cut off (alive) when it was forgotten stops serving
// (MEMBER_FORGOTTEN) once it hears of the forget, and no survivor takes it back.
// The nodes are the NodeAssembly that `qkv server` runs; only storage, transport and
// discovery are in-process. Time is real (the movement's waits use timers), with fast
// probes, as in in-memory-cluster.test.ts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { InMemoryCluster, type InMemoryNode } from '../../src/node/in-memory-cluster.js';
import { QkvError } from '../../src/errors/errors.js';
import type { RingStateSnapshot } from '../../src/membership/ring-state-table.js';
import type { NodeStores } from '../../src/node/node-stores.js';

const SETTINGS = { vnodes: 16, probeIntervalMs: 50, peersReadyWaitMs: 2_000, writeTimeoutMs: 500 };
const SURVIVORS = ['node-1', 'node-2', 'node-3'];
const KEYS = Array.from({ length: 300 }, (_, i) => Buffer.from(`key-${String(i).padStart(4, '0')}`));

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ready(node: InMemoryNode): boolean {
  return node.assembly.unreadyReason() === undefined;
}

async function refusal(work: Promise<unknown>): Promise<QkvError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof QkvError, `a QkvError, not ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

/** How many keys each survivor's storage lacks. */
function missingPerSurvivor(cluster: InMemoryCluster): Map<string, number> {
  return new Map(SURVIVORS.map((id) => [id, KEYS.filter((key) => cluster.node(id).storage.get(key) === undefined).length]));
}

it('forget: refused for live, unknown and own members; a lost member forgotten is re-replicated from the survivors, cleanup runs, and it cannot come back with old data', async () => {
  // node-4's ring-state saves, so that it can come back "with its old data directory".
  let node4Saved: RingStateSnapshot | undefined;
  let node4Lives = 0;
  let node4Comeback: 'old' | 'empty' = 'old';
  const stores = (id: string, base: NodeStores): NodeStores => {
    if (id !== 'node-4') return base;
    node4Lives++;
    const saved = node4Lives > 1 && node4Comeback === 'old' && node4Saved !== undefined ? { ...node4Saved, exists: true } : base.savedRingState;
    return {
      ...base,
      savedRingState: saved,
      ringStateStore: {
        save: async (snapshot) => {
          if (node4Lives === 1) node4Saved = snapshot;
        },
      },
    };
  };
  const cluster = await InMemoryCluster.start({ nodes: 4, replicationFactor: 3, settings: SETTINGS, stores });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    const nodes = cluster.nodes();
    for (const [i, key] of KEYS.entries()) {
      const written = await nodes[i % nodes.length]!.assembly.coordinator.put(key, Buffer.from(`value ${i}`), { w: 3 });
      assert.equal(written.acks, 3, `${key}: ${written.acks} acks`);
    }
    const node1 = cluster.node('node-1');
    const digestBefore = node1.assembly.ring().digest;

    // ---- refusals that change nothing ----
    const live = await refusal(node1.assembly.forget('node-2'));
    assert.equal(live.code, 'FORGET_REFUSED');
    assert.match(live.message, /node-2 is not down/);
    const unknown = await refusal(node1.assembly.forget('node-9'));
    assert.equal(unknown.code, 'FORGET_REFUSED');
    assert.match(unknown.message, /not a member/);
    const own = await refusal(node1.assembly.forget('node-1'));
    assert.equal(own.code, 'FORGET_REFUSED');
    await new Promise((resolve) => setTimeout(resolve, 10 * SETTINGS.probeIntervalMs));
    for (const node of cluster.nodes()) {
      assert.equal(node.assembly.ring().digest, digestBefore, `${node.id}'s ring unchanged by the refused forgets`);
      assert.equal(node.assembly.memberRingState('node-2'), 'NORMAL');
    }

    // ---- node-4 lost for good ----
    await cluster.removeNode('node-4');
    const missingBefore = missingPerSurvivor(cluster);
    // Each survivor lacks the keys whose three replicas were node-4 and the other two.
    for (const id of SURVIVORS) assert.ok(missingBefore.get(id)! > 0, `${id} lacks ${missingBefore.get(id)} keys before the forget`);
    await until('node-4 down on node-1', () => node1.assembly.liveness('node-4') === 'down');
    const blocked = await refusal(node1.assembly.cleanup());
    assert.equal(blocked.code, 'CLEANUP_REFUSED', 'a down member in the rings blocks cleanup');
    assert.match(blocked.message, /node-4/);

    // ---- forget it ----
    assert.equal(await node1.assembly.forget('node-4'), 'NORMAL');
    assert.equal(await node1.assembly.forget('node-4'), 'FORGOTTEN', 'a second forget changes nothing');
    await until('every survivor routes without node-4', () => SURVIVORS.every((id) => !cluster.node(id).assembly.ring().has('node-4')));
    await until('every survivor re-replicated', () => SURVIVORS.every((id) => cluster.node(id).assembly.streamStatus() === undefined));
    assert.deepEqual(
      [...missingPerSurvivor(cluster)],
      SURVIVORS.map((id) => [id, 0]),
      'every key on all three survivors',
    );
    for (const [i, key] of KEYS.entries()) {
      for (const id of SURVIVORS) {
        const read = await cluster.node(id).assembly.coordinator.get(key, { r: 3 });
        assert.equal(read.record?.value?.toString(), `value ${i}`, `${key} with R=3 through ${id}`);
      }
    }
    for (const id of SURVIVORS) {
      const report = await cluster.node(id).assembly.cleanup();
      assert.equal(report.recordsRemoved, 0, `${id}: N=3 on three nodes, every key stays`);
    }

    // ---- node-4 back with its old data: refused, nobody takes it back ----
    node4Comeback = 'old';
    const comeback = await refusal(cluster.addNode('node-4'));
    assert.equal(comeback.code, 'MEMBER_FORGOTTEN');
    await new Promise((resolve) => setTimeout(resolve, 10 * SETTINGS.probeIntervalMs));
    for (const id of SURVIVORS) assert.equal(cluster.node(id).assembly.ring().has('node-4'), false, `${id} did not take the forgotten node-4 back`);

    // ---- node-4 back empty: a new member that joins ----
    node4Comeback = 'empty';
    const fresh = await cluster.addNode('node-4');
    await until('the new node-4 NORMAL and ready', () => ready(fresh) && fresh.assembly.ringState() === 'NORMAL');
    await until('every node routes with the new node-4', () => cluster.nodes().every((node) => node.assembly.ring().has('node-4')));
    for (const node of cluster.nodes()) assert.equal(node.assembly.memberRingState('node-4'), 'NORMAL', `${node.id} sees the new node-4`);
  } finally {
    await cluster.close();
  }
});

it('a node restarted in the middle of its re-replication resumes it from what it saved', async () => {
  // Stores that outlive a node's process, as its data directory would: ring states and
  // movement progress. (Memory storage does not: the restarted node comes back empty,
  // so every key it must hold afterwards is one its resumed re-replication pulled.)
  const saved = new Map<string, RingStateSnapshot>();
  const progress = new Map<string, { kind: string; done: unknown }>();
  let lives = 0;
  const stores = (id: string, base: NodeStores): NodeStores => {
    if (id !== 'node-1') return base;
    lives++;
    const snapshot = saved.get(id);
    return {
      ...base,
      savedRingState: lives > 1 && snapshot !== undefined ? { ...snapshot, exists: true } : base.savedRingState,
      ringStateStore: { save: async (next) => void saved.set(id, next) },
      progressStore: {
        load: async (kind) => {
          const entry = progress.get(id);
          return entry?.kind === kind ? (entry.done as Awaited<ReturnType<NodeStores['progressStore']['load']>>) : base.progressStore.load(kind);
        },
        save: async (kind, done) => void progress.set(id, { kind, done }),
        clear: async () => void progress.delete(id),
      },
    };
  };
  const cluster = await InMemoryCluster.start({ nodes: 4, replicationFactor: 3, settings: SETTINGS, stores });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    for (const [i, key] of KEYS.entries()) await cluster.node('node-2').assembly.coordinator.put(key, Buffer.from(`value ${i}`), { w: 3 });
    await cluster.removeNode('node-4');
    await until('node-2 holds node-4 down', () => cluster.node('node-2').assembly.liveness('node-4') === 'down');
    assert.equal(await cluster.node('node-2').assembly.forget('node-4'), 'NORMAL');
    await until('node-1 heard the forget and owes a re-replication', () => cluster.node('node-1').assembly.streamStatus()?.kind === 'rereplicate');
    assert.deepEqual(saved.get('node-1')?.rereplicate, ['node-4'], 'the duty is saved with the mark');
    await cluster.removeNode('node-1');
    const restarted = await cluster.addNode('node-1');
    assert.equal(restarted.assembly.streamStatus()?.kind, 'rereplicate', 'resumed at start-up');
    await until('every survivor re-replicated', () => SURVIVORS.every((id) => cluster.node(id).assembly.streamStatus() === undefined));
    assert.deepEqual(saved.get('node-1')?.rereplicate ?? [], [], 'done is saved');
    assert.deepEqual([...missingPerSurvivor(cluster)], SURVIVORS.map((id) => [id, 0]), 'every key on all three survivors');
  } finally {
    await cluster.close();
  }
});

it('a member cut off (not dead) and forgotten stops once it hears of the forget, and nobody takes it back', async () => {
  const cluster = await InMemoryCluster.start({ nodes: 4, replicationFactor: 3, settings: SETTINGS });
  try {
    await until('every node ready', () => cluster.nodes().every(ready));
    const node4 = cluster.node('node-4');
    const forgotten: string[] = [];
    node4.onStatusChanged(() => {
      if (node4.assembly.state() === 'DRAINING') forgotten.push(node4.assembly.unreadyReason() ?? '');
    });
    cluster.network.disconnect('node-4');
    await until('node-1 holds node-4 down', () => cluster.node('node-1').assembly.liveness('node-4') === 'down');
    assert.equal(await cluster.node('node-1').assembly.forget('node-4'), 'NORMAL');
    await until('the survivors route without node-4', () => SURVIVORS.every((id) => !cluster.node(id).assembly.ring().has('node-4')));
    assert.equal(node4.assembly.state(), 'SERVING', 'cut off, node-4 has not heard yet');
    cluster.network.reconnect('node-4');
    await until('node-4 heard it was forgotten and stopped serving', () => node4.assembly.state() === 'DRAINING');
    assert.match(forgotten[0] ?? '', /forgotten by qkv forget/);
    assert.throws(() => node4.assembly.admit(), (error: unknown) => error instanceof QkvError && error.code === 'MEMBER_FORGOTTEN', 'every client call refused');
    await new Promise((resolve) => setTimeout(resolve, 10 * SETTINGS.probeIntervalMs));
    for (const id of SURVIVORS) {
      assert.equal(cluster.node(id).assembly.ring().has('node-4'), false, `${id} did not take node-4 back`);
      assert.equal(cluster.node(id).assembly.memberRingState('node-4'), 'FORGOTTEN');
    }
  } finally {
    await cluster.close();
  }
});
