// The prober's timing on virtual time (src/clock/manual-clock.ts): one round of probes
// per interval and none after stop(); probeUntilAnswered retries the silent peers every
// retryMs and gives up at its wait, whatever the machine's load.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { FailureDetector } from '../../src/membership/failure-detector.js';
import { PeerProber } from '../../src/membership/peer-prober.js';
import { MemoryNetwork, type NetworkEvent } from '../../src/transport/memory/memory-network.js';

function probedNetwork(clock: ManualClock): { network: MemoryNetwork; probes: (to: string) => number } {
  const events: NetworkEvent[] = [];
  const network = new MemoryNetwork({ clock, observer: (event) => events.push(event) });
  const replica = { apply: async () => {}, read: async () => [] };
  for (const id of ['a', 'b', 'c']) network.register(id, replica);
  // A refused probe is never 'sent', so count both ways a probe can begin.
  const probes = (to: string): number =>
    events.filter((event) => event.kind === 'probe' && event.to === to && (event.type === 'sent' || (event.type === 'lost' && event.reason !== 'deadline'))).length;
  return { network, probes };
}

it('probes every peer once per interval, and not after stop()', async () => {
  const clock = new ManualClock();
  const { network, probes } = probedNetwork(clock);
  const prober = new PeerProber({ transport: network.transport('a'), liveness: new FailureDetector(), peers: () => ['b', 'c'], intervalMs: 1_000, timeoutMs: 200, clock });
  prober.start();
  await clock.advance(999);
  assert.deepEqual([probes('b'), probes('c')], [0, 0], 'the first round waits one interval');
  await clock.advance(1);
  assert.deepEqual([probes('b'), probes('c')], [1, 1]);
  await clock.advance(3_000);
  assert.deepEqual([probes('b'), probes('c')], [4, 4]);
  await prober.stop();
  await clock.advance(10_000);
  assert.deepEqual([probes('b'), probes('c')], [4, 4]);
  assert.equal(clock.pendingTimers, 0);
});

it('probeUntilAnswered retries the silent peers every retryMs and gives up at the wait', async () => {
  const clock = new ManualClock();
  const { network, probes } = probedNetwork(clock);
  network.disconnect('c');
  const detector = new FailureDetector({ downAfterFailures: 1 });
  const prober = new PeerProber({ transport: network.transport('a'), liveness: detector, peers: () => ['b', 'c'], intervalMs: 1_000, timeoutMs: 200, clock });
  let silent: readonly string[] | undefined;
  void prober.probeUntilAnswered(1_000, 250).then((peers) => (silent = peers));
  await clock.advance(999);
  assert.equal(silent, undefined, 'still waiting for c');
  await clock.advance(1);
  assert.deepEqual(silent, ['c']);
  assert.equal(probes('b'), 1, 'b answered the first probe and was left alone');
  assert.equal(probes('c'), 5, 'at 0, 250, 500, 750 and 1000 ms');
  assert.equal(detector.state('c'), 'down');
  await prober.stop();
});
