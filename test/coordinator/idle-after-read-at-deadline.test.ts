// A read that answers at its deadline leaves nothing pending: coordinator.idle(), which a
// draining node waits for at shutdown, resolves once the network is quiet. It once never
// did (the read path differential's seed 6469): the blocking read repair started at the
// read's deadline, so its fan-out sent nothing, and when all its keys needed no ack (R
// replicas already held the newest) its `complete` promise was never settled, which left
// the coordinator's count of background work above zero for good.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, MANUAL_CLOCK_START_MS } from '../../src/clock/manual-clock.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import { fanOut } from '../../src/coordinator/replica-fanout.js';
import { MemoryCluster } from '../support/memory-cluster.js';

/** Whether `promise` settles before the event loop runs out of microtasks (all the work here is). */
async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

it('a fan-out started at its deadline whose keys need no ack completes without sending', async () => {
  const clock = new ManualClock();
  const sent: string[] = [];
  const fanout = fanOut<undefined>({
    items: [{ replicas: ['node-1'], required: 0 }],
    deadlineMs: clock.nowMs(),
    timeoutMs: 200,
    clock,
    send: (nodeId) => {
      sent.push(nodeId);
      return Promise.resolve(undefined);
    },
  });
  const { items } = await fanout.quorum;
  assert.equal(items[0]!.error, undefined, 'a key that needs no ack is met');
  assert.ok(await settlesAtOnce(fanout.complete), 'complete settles');
  assert.deepEqual(sent, [], 'nothing is sent after the deadline');
  assert.equal(clock.pendingTimers, 0);
});

it('a fan-out started at its deadline whose keys cannot be met completes without sending', async () => {
  const clock = new ManualClock();
  const fanout = fanOut<undefined>({
    items: [{ replicas: ['node-1'], required: 2 }],
    deadlineMs: clock.nowMs() - 1,
    timeoutMs: 200,
    clock,
    send: () => assert.fail('nothing is sent after the deadline'),
  });
  const { items } = await fanout.quorum;
  assert.equal(items[0]!.failure, 'too_few_replicas');
  assert.ok(await settlesAtOnce(fanout.complete), 'complete settles');
});

it('a batch get answered at its deadline with a replica to repair leaves the coordinator idle', async () => {
  const clock = new ManualClock();
  // k-met: node-1 (the coordinator) holds nothing, node-0 the value; with R=1 one holder
  // is enough, so the blocking repair of node-1 needs no ack. k-open: neither replica
  // answers (node-2 loses its replies, node-3 is cut off), so the read runs to its deadline.
  const lists = new Map([
    ['k-met', ['node-1', 'node-0']],
    ['k-open', ['node-3', 'node-2']],
  ]);
  const cluster = new MemoryCluster({
    nodes: ['node-0', 'node-1', 'node-2', 'node-3'],
    replicationFactor: 2,
    clock,
    placement: (key) => naturalOnly(lists.get(key.toString())!),
    coordinator: { readRepair: true },
  });
  const key = Buffer.from('k-met');
  await cluster.node('node-0').engine.apply([{ key, value: Buffer.from('v'), version: { stamp: 10n, nodeId: 'node-0' }, expiresAtMs: 0 }]);
  cluster.network.drop({ to: 'node-2', probability: 1, phase: 'reply' });
  cluster.network.disconnect('node-3');
  const coordinator = cluster.node('node-1').coordinator;

  const deadlineMs = clock.nowMs() + 200;
  // include_replicas asks both replicas of k-met, so the stale one is among the replies in hand.
  const read = coordinator.batchGet([key, Buffer.from('k-open')], { r: 1, includeReplicas: true, deadlineMs });
  for (let t = 0; t < 200 && !(await settlesAtOnce(read)); t++) await clock.advance(1);
  const [met, open] = await read;
  assert.equal(clock.nowMs(), deadlineMs, 'the read answered at its deadline');
  assert.equal(met!.ok, true);
  assert.equal(open!.ok, false);
  assert.equal(open!.ok ? undefined : open!.error.code, 'DEADLINE_EXCEEDED');

  cluster.network.heal();
  let idle = false;
  const idling = coordinator.idle().then(() => (idle = true));
  // The background repair runs on its own deadline (the write timeout); time runs until it is done.
  for (let t = 0; t < 100 && !idle; t++) await clock.advance(10);
  assert.ok(idle, `idle() resolved (${clock.nowMs() - MANUAL_CLOCK_START_MS} ms in, ${clock.pendingTimers} timers pending)`);
  await idling;
  await cluster.close();
});
