// Failure detection: the detector's state machine, and what it changes for the
// coordinator over a MemoryNetwork. Silence (dropped messages) is the case that matters:
// without detection every write to a silent replica waits for its deadline; once the
// detector marks the replicas down, a write that cannot reach W fails at once with
// QUORUM_NOT_MET instead of DEADLINE_EXCEEDED, and a probe brings a healed peer back.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DeadlineExceededError, QkvError, QuorumNotMetError } from '../../src/errors/errors.js';
import { FailureDetector, type PeerState } from '../../src/membership/failure-detector.js';
import { PeerProber } from '../../src/membership/peer-prober.js';
import { MemoryCluster } from '../support/memory-cluster.js';

it('a peer goes up -> suspect -> down after consecutive failures and back up on any answer', () => {
  let nowMs = 1_000;
  const transitions: Array<[string, PeerState | undefined, PeerState]> = [];
  const detector = new FailureDetector({
    downAfterFailures: 3,
    nowMs: () => nowMs,
    metrics: { transition: (peer, from, to) => transitions.push([peer, from, to]) },
  });
  detector.setPeers(['b']);
  assert.equal(detector.state('b'), 'up');
  detector.recordFailure('b');
  assert.equal(detector.state('b'), 'suspect');
  detector.recordFailure('b');
  assert.equal(detector.isDown('b'), false);
  nowMs = 2_000;
  detector.recordFailure('b');
  assert.equal(detector.state('b'), 'down');
  assert.equal(detector.downSinceMs('b'), 2_000);
  nowMs = 3_000;
  detector.recordFailure('b');
  assert.equal(detector.downSinceMs('b'), 2_000, 'down since the first time it went down');
  detector.recordAnswer('b');
  assert.equal(detector.state('b'), 'up');
  assert.equal(detector.downSinceMs('b'), undefined);
  assert.deepEqual(transitions, [
    ['b', undefined, 'up'],
    ['b', 'up', 'suspect'],
    ['b', 'suspect', 'down'],
    ['b', 'down', 'up'],
  ]);
  assert.deepEqual(detector.snapshot(), [{ peer: 'b', state: 'up', consecutiveFailures: 0, lastAnswerMs: 3_000, downSinceMs: 0 }]);
  detector.setPeers([]);
  assert.deepEqual(detector.snapshot(), []);
});

it('a message from a peer counts as an answer; unknown senders are ignored', () => {
  const detector = new FailureDetector({ downAfterFailures: 3 });
  detector.setPeers(['b']);
  for (let i = 0; i < 3; i++) detector.recordFailure('b');
  assert.equal(detector.state('b'), 'down');
  detector.recordInbound('b');
  assert.equal(detector.state('b'), 'up', 'a restarted peer that probes us is used again at once');
  detector.recordInbound('stranger');
  assert.deepEqual(detector.snapshot().map((health) => health.peer), ['b']);
});

it('refuses a threshold outside its bounds', () => {
  assert.throws(() => new FailureDetector({ downAfterFailures: 0 }), /CONFIG_INVALID|outside/);
});

it('silent replicas cost a deadline until they are marked down, then writes fail fast', async () => {
  const detectors = new Map<string, FailureDetector>();
  const cluster = new MemoryCluster({
    nodes: 3,
    coordinator: { writeTimeoutMs: 200, readTimeoutMs: 200 },
    liveness: (id) => {
      const detector = new FailureDetector({ downAfterFailures: 2 });
      detectors.set(id, detector);
      return detector;
    },
  });
  try {
    const coordinator = cluster.node('node-0').coordinator;
    const detector = detectors.get('node-0')!;
    cluster.network.drop({ to: 'node-1', probability: 1 });
    cluster.network.drop({ to: 'node-2', probability: 1 });

    // Two writes needing W=2 each wait for their deadline: nothing is known yet.
    for (let i = 0; i < 2; i++) {
      await assert.rejects(coordinator.put(Buffer.from(`slow-${i}`), Buffer.from('v'), { w: 2 }), DeadlineExceededError);
    }
    await cluster.settle();
    assert.equal(detector.state('node-1'), 'down');
    assert.equal(detector.state('node-2'), 'down');

    // Now the coordinator knows W=2 is out of reach and says so without waiting.
    await assert.rejects(coordinator.put(Buffer.from('fast'), Buffer.from('v'), { w: 2 }), (error: unknown) => {
      assert.ok(error instanceof QuorumNotMetError);
      assert.match(error.message, /node-1: PEER_UNREACHABLE/);
      return true;
    });
    // W=1 still succeeds on the local replica, and a read at R=1 is served locally.
    assert.equal((await coordinator.put(Buffer.from('local'), Buffer.from('v'), { w: 1 })).acks, 1);
    assert.deepEqual((await coordinator.get(Buffer.from('local'), { r: 1 })).record?.value, Buffer.from('v'));

    // The network heals; a probe round brings both peers back and W=3 works again.
    cluster.network.heal();
    const prober = new PeerProber({
      transport: cluster.node('node-0').transport,
      liveness: detector,
      peers: () => ['node-1', 'node-2'],
      intervalMs: 1_000,
      timeoutMs: 200,
    });
    await prober.probeAll();
    await prober.stop();
    assert.equal(detector.state('node-1'), 'up');
    assert.equal(detector.state('node-2'), 'up');
    assert.equal((await coordinator.put(Buffer.from('healed'), Buffer.from('v'), { w: 3 })).acks, 3);
  } finally {
    await cluster.close();
  }
});

it('an error reply proves the peer is alive and does not count as a failure', async () => {
  const detector = new FailureDetector({ downAfterFailures: 1 });
  const cluster = new MemoryCluster({ nodes: 3, liveness: (id) => (id === 'node-0' ? detector : new FailureDetector()) });
  try {
    // node-1's replica refuses with an operating error: it answered, so it stays up.
    cluster.network.register('node-1', {
      apply: () => Promise.reject(new QkvError('OVERLOADED', 'full')),
      read: () => Promise.resolve([]),
    });
    await cluster.node('node-0').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 2 });
    await cluster.settle();
    assert.equal(detector.state('node-1'), 'up');
    cluster.network.disconnect('node-2');
    await cluster.node('node-0').coordinator.put(Buffer.from('k2'), Buffer.from('v'), { w: 1 });
    await cluster.settle();
    assert.equal(detector.state('node-2'), 'down');
  } finally {
    await cluster.close();
  }
});
