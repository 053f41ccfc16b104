// Join and decommission inside one process (src/membership/ring-membership.ts over a
// MemoryNetwork): a new node in a cluster of three NORMAL nodes decides to join, is
// refused a decommission while JOINING, streams what it takes over and becomes NORMAL;
// decommissioned again it streams its ranges to their new owners and reports LEFT once
// every peer heard it; a decommission that would leave fewer than N NORMAL members is
// refused. The real-process version is test/node/scaling.test.ts.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { DecommissionRefusedError, NotReadyError } from '../../src/errors/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FailureDetector } from '../../src/membership/failure-detector.js';
import { PeerProber } from '../../src/membership/peer-prober.js';
import { RingMembership, type MovementProgressStore } from '../../src/membership/ring-membership.js';
import { NO_RING_STATE_STORE } from '../../src/membership/ring-state-table.js';
import { syncRange } from '../../src/repair/range-sync.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { createTokenHasher, loadXxHash64 } from '../../src/ring/token-hasher.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { CompletedRanges } from '../../src/streaming/completed-ranges.js';
import { MemoryNetwork } from '../../src/transport/memory/memory-network.js';

const IDS = ['a', 'b', 'c', 'd'];
const MEMBERS = IDS.map((id) => ({ id, address: id, ready: true }));
const OPTIONS = { vnodes: 16, replicationFactor: 3 };

async function memoryNode(network: MemoryNetwork, id: string, normalAlready: boolean, wrapProgressStore: (store: MovementProgressStore) => MovementProgressStore = (store) => store) {
  const tokenOf = await createTokenHasher();
  const engine = new MemoryStorageEngine(tokenOf);
  const clock = new HybridLogicalClock();
  const replica = new LocalReplica(engine, clock, { tokenOf });
  const transport = network.transport(id);
  const detector = new FailureDetector();
  detector.setPeers(IDS.filter((peer) => peer !== id));
  let saved: { kind: string; done: CompletedRanges } | undefined;
  const progressStore: MovementProgressStore = wrapProgressStore({
    load: async (kind) => (saved?.kind === kind ? saved.done : new CompletedRanges()),
    save: async (kind, done) => void (saved = { kind, done }),
    clear: async () => void (saved = undefined),
  });
  // eslint-disable-next-line prefer-const -- the prober and the membership refer to each other
  let membership: RingMembership;
  const prober = new PeerProber({
    transport,
    liveness: detector,
    peers: () => IDS.filter((peer) => peer !== id),
    intervalMs: 20,
    timeoutMs: 200,
    hello: (peer) => membership.hello(peer),
    onAnswer: (peer, answer) => membership.onAnswer(peer, answer),
  });
  membership = new RingMembership({
    nodeId: id,
    ...OPTIONS,
    hash: await loadXxHash64(),
    saved: normalAlready ? { exists: true, self: { state: 'NORMAL', version: 1 }, peers: new Map() } : { exists: false, self: undefined, peers: new Map() },
    stateStore: NO_RING_STATE_STORE,
    progressStore,
    liveness: detector,
    probeAll: () => prober.probeAll(),
    sync: (peer, range, direction) => syncRange({ local: replica, transport, depth: 4, tokenOf }, peer, range, direction),
    writeSettings: () => ({ writeQuorum: 2, writeTimeoutMs: 50 }),
    logger: silentLogger,
  });
  membership.setMembers(MEMBERS);
  const coordinator = new Coordinator(
    { nodeId: id, replicationFactor: 3, writeTimeoutMs: 1_000 },
    { placement: (key) => membership.rings().placementOfKey(key), transport, localReplica: replica, clock, logger: silentLogger, liveness: detector },
  );
  network.register(id, {
    apply: (records) => replica.apply(records),
    // The node's gate (src/node/quorum-node.ts): key reads only when the membership says so.
    read: (keys) => (keys.length > 0 && !membership.servesKeyReads() ? Promise.reject(new NotReadyError(`${id} serves no key reads`)) : replica.read(keys)),
    merkleTree: (range, depth) => replica.merkleTree(range, depth),
    scan: (range, limit, cursor) => replica.scan(range, limit, cursor),
    probe: async (hello) => membership.onProbe(hello),
  });
  return {
    id,
    engine,
    membership,
    coordinator,
    prober,
    async close(): Promise<void> {
      await prober.stop();
      await membership.close();
      await coordinator.close();
      await transport.close();
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('a new node joins by streaming, and leaves by streaming; decommission is refused while JOINING and below N', async () => {
  const network = new MemoryNetwork();
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => memoryNode(network, id, true)));
  const first = [a!, b!, c!];
  const nodes = [...first];
  try {
    for (const node of first) node.prober.start();
    await until('a, b and c hear each other NORMAL', () => first.every((node) => first.every((other) => node.membership.stateShownFor(other.id) === 'NORMAL')));

    const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(`key-${i}`));
    for (const key of keys) await a!.coordinator.put(key, Buffer.from(`value of ${key}`), { w: 2 });

    const d = await memoryNode(network, 'd', false);
    nodes.push(d);
    assert.equal(await d.membership.decide(false), 'JOINING', 'a new node among NORMAL peers joins');
    // The gRPC port opens between decide() and resume(): Status already shows the join.
    assert.deepEqual(
      { kind: d.membership.streamStatus()?.kind, phase: d.membership.streamStatus()?.phase, rangesDone: d.membership.streamStatus()?.rangesDone },
      { kind: 'join', phase: 'announcing', rangesDone: 0 },
    );
    d.prober.start();
    d.membership.resume();
    await assert.rejects(d.membership.decommission(), (error: unknown) => error instanceof DecommissionRefusedError && /JOINING/.test(error.message));
    assert.match(d.membership.notReadyReason() ?? '', /^joining/);
    assert.equal(d.membership.servesKeyReads(), false, 'no key reads while JOINING');
    await until('a hears d JOINING', () => a!.membership.stateShownFor('d') === 'JOINING');
    const pendingOnA = keys.filter((key) => a!.membership.rings().placementOfKey(key).pending.includes('d'));
    assert.ok(pendingOnA.length > 0, 'writes through a reach d as a pending replica');

    await until('d NORMAL', () => d.membership.self === 'NORMAL');
    await until('everyone hears d NORMAL', () => first.every((node) => node.membership.stateShownFor('d') === 'NORMAL'));
    // Ready only once every reachable peer has heard NORMAL (a few probe rounds later).
    assert.equal(d.membership.notReadyReason(), undefined, 'a NORMAL node serves clients');
    await until('d ready', () => d.membership.announcingReason() === undefined);
    const four = await HashRing.create(MEMBERS, OPTIONS);
    for (const key of keys) {
      for (const replica of four.preferenceListForKey(key)) {
        assert.ok(nodes.find((node) => node.id === replica)!.engine.get(key) !== undefined, `${key} on ${replica} after the join`);
      }
    }

    assert.equal(await d.membership.decommission(), 'LEAVING');
    assert.equal(d.membership.streamStatus()?.kind, 'leave', 'Status shows the decommission, not the join before it');
    assert.equal(await d.membership.decommission(), 'LEAVING', 'asking again changes nothing');
    await until('d LEFT, heard by every peer', () => d.membership.reportedState() === 'LEFT');
    assert.ok(first.every((node) => node.membership.stateShownFor('d') === 'LEFT'));
    // Once LEFT, d takes no more writes from peers that heard it; a peer that has not
    // yet heard it must not read an old copy from d (a W=2 write routed without d could
    // be on one final owner only, and R=2 of {d, that other} would miss it).
    assert.equal(d.membership.servesKeyReads(), false, 'no key reads once LEFT');
    assert.ok(first.every((node) => node.membership.servesKeyReads()));
    // d's copies are no longer needed: take it off the network before checking the rest.
    network.unregister('d');
    const three = await HashRing.create(MEMBERS.slice(0, 3), OPTIONS);
    for (const key of keys) {
      for (const replica of three.preferenceListForKey(key)) {
        assert.ok(nodes.find((node) => node.id === replica)!.engine.get(key) !== undefined, `${key} on ${replica} after the decommission`);
      }
    }
    assert.equal(a!.membership.rings().read.digest, three.digest);

    await assert.rejects(a!.membership.decommission(), (error: unknown) => {
      assert.ok(error instanceof DecommissionRefusedError, String(error));
      assert.equal(error.code, 'DECOMMISSION_REFUSED');
      assert.match(error.message, /2 NORMAL member\(s\) \(b, c\), fewer than the replication factor N=3/);
      return true;
    });
    assert.equal(a!.membership.self, 'NORMAL');
  } finally {
    for (const node of nodes) await node.close();
    await network.idle();
  }
});

it('a join that fails outside its ranges (an unreadable progress file) says why in Status and readiness, retries, and stops at once on close', async () => {
  const network = new MemoryNetwork();
  const first = await Promise.all(['a', 'b', 'c'].map((id) => memoryNode(network, id, true)));
  const nodes = [...first];
  try {
    for (const node of first) node.prober.start();
    await until('a, b and c hear each other NORMAL', () => first.every((node) => first.every((other) => node.membership.stateShownFor(other.id) === 'NORMAL')));
    let failuresLeft = 1;
    const d = await memoryNode(network, 'd', false, (store) => ({
      ...store,
      load: async (kind) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('stream-progress.json: damaged');
        }
        return store.load(kind);
      },
    }));
    nodes.push(d);
    assert.equal(await d.membership.decide(false), 'JOINING');
    d.prober.start();
    d.membership.resume();
    await until('Status shows the failure', () => /damaged/.test(d.membership.streamStatus()?.lastError ?? ''));
    assert.equal(d.membership.streamStatus()?.phase, 'retrying');
    assert.match(d.membership.notReadyReason() ?? '', /^joining: retrying.*last error: join failed: stream-progress\.json: damaged/);
    await until('d NORMAL after the retry', () => d.membership.self === 'NORMAL');
    assert.equal(d.membership.streamStatus(), undefined);

    // Failing for good: close() must not wait out the pause before the next attempt.
    const e = await memoryNode(network, 'e', false, (store) => ({
      ...store,
      load: async () => {
        throw new Error('stream-progress.json: damaged');
      },
    }));
    nodes.push(e);
    assert.equal(await e.membership.decide(false), 'JOINING');
    e.membership.resume();
    await until('e retrying', () => /damaged/.test(e.membership.streamStatus()?.lastError ?? ''));
    const closing = Date.now();
    await e.membership.close();
    // The pause is STREAM_RETRY_INTERVAL_MS (2 s); a close that waits it out takes that long.
    assert.ok(Date.now() - closing < 1_000, `close took ${Date.now() - closing} ms`);
  } finally {
    for (const node of nodes) await node.close();
    await network.idle();
  }
});

it('a decommission asked for while the finished join is still clearing its progress still streams and ends LEFT', async () => {
  const network = new MemoryNetwork();
  const first = await Promise.all(['a', 'b', 'c'].map((id) => memoryNode(network, id, true)));
  const nodes = [...first];
  try {
    for (const node of first) node.prober.start();
    await until('a, b and c hear each other NORMAL', () => first.every((node) => first.every((other) => node.membership.stateShownFor(other.id) === 'NORMAL')));
    for (let i = 0; i < 50; i++) await first[0]!.coordinator.put(Buffer.from(`key-${i}`), Buffer.from('v'), { w: 2 });
    // The join's last step, removing its progress, is held until the decommission has been asked for.
    let releaseClear: () => void = () => {};
    const clearHeld = new Promise<void>((resolve) => (releaseClear = resolve));
    let clearing = false;
    const d = await memoryNode(network, 'd', false, (store) => ({
      ...store,
      clear: async () => {
        clearing = true;
        await clearHeld;
        await store.clear();
      },
    }));
    nodes.push(d);
    assert.equal(await d.membership.decide(false), 'JOINING');
    d.prober.start();
    d.membership.resume();
    await until('d NORMAL, its join clearing its progress', () => d.membership.self === 'NORMAL' && clearing);
    await until('a, b and c hear d NORMAL', () => first.every((node) => node.membership.stateShownFor('d') === 'NORMAL'));
    assert.equal(await d.membership.decommission(), 'LEAVING');
    releaseClear();
    await until('d LEFT, heard by every peer', () => d.membership.reportedState() === 'LEFT', 20_000);
  } finally {
    for (const node of nodes) await node.close();
    await network.idle();
  }
});

it('two members told to leave at the same moment never both leave when that would leave fewer than N NORMAL', async () => {
  const network = new MemoryNetwork();
  const nodes = await Promise.all(IDS.map((id) => memoryNode(network, id, true)));
  try {
    for (const node of nodes) node.prober.start();
    await until('all hear each other NORMAL', () => nodes.every((node) => nodes.every((other) => node.membership.stateShownFor(other.id) === 'NORMAL')));
    const [, , c, d] = nodes;
    // Four members, N=3: one may leave, not two. Both are asked in the same turn, when
    // each still sees the other NORMAL.
    const outcomes = await Promise.allSettled([c!.membership.decommission(), d!.membership.decommission()]);
    const leaving = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        assert.ok(outcome.reason instanceof DecommissionRefusedError, String(outcome.reason));
        assert.match(outcome.reason.message, /another member started to leave at the same moment/);
      }
    }
    assert.ok(leaving.length <= 1, `${leaving.length} of the two went on leaving`);
    const states = [c!.membership.self, d!.membership.self];
    assert.ok(states.filter((state) => state === 'NORMAL').length >= 1, `c and d: ${states.join(', ')}`);
    await until('every node hears at least three NORMAL members', () =>
      nodes.every((node) => nodes.filter((other) => node.membership.stateShownFor(other.id) === 'NORMAL' || (other.id === node.id && node.membership.self === 'NORMAL')).length >= 3),
    );
  } finally {
    for (const node of nodes) await node.close();
    await network.idle();
  }
});
