// A read that answers at its deadline leaves nothing pending and still repairs its stale
// replicas. The blocking read repair then starts with no time left, so its fan-out sends
// nothing, and the repair is left to the background pass, which runs on its own deadline.
// Both once went wrong on this path (the read path differential's seed 6469):
// - when all the repair's keys needed no ack (R replicas already held the newest), the
//   fan-out's `complete` promise was never settled, which left the coordinator's count of
//   background work above zero for good, so coordinator.idle(), which a draining node
//   waits for at shutdown, never resolved;
// - the blocking pass marked the stale replicas as repaired (and counted them in the
//   repair metric) before sending, so the background pass skipped them and the replica
//   stayed stale for good, while the metric said it had been repaired.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock, MANUAL_CLOCK_START_MS } from '../../src/clock/manual-clock.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import { fanOut } from '../../src/coordinator/replica-fanout.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

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

const metKey = Buffer.from('k-met');
const openKey = Buffer.from('k-open');
const older: KvRecord = { key: metKey, value: Buffer.from('old'), version: { stamp: 5n, nodeId: 'node-1' }, expiresAtMs: 0 };
const newest: KvRecord = { key: metKey, value: Buffer.from('new'), version: { stamp: 10n, nodeId: 'node-0' }, expiresAtMs: 0 };

/**
 * k-met: node-1 (the coordinator) holds `older` or nothing, node-0 holds `newest`; both
 * answer at once, so node-1 is the stale replica among the replies in hand. k-open:
 * neither replica answers (node-2 loses its replies, node-3 is cut off or loses its
 * replies too), so the batch runs to its deadline and the blocking repair of node-1
 * starts with no time left. With R=2 node-3 must not fail outright: k-open would then
 * fail at once instead of at the deadline.
 */
async function readAtDeadline(r: number, staleHolds: KvRecord | undefined, nodeThree: 'cut-off' | 'loses-replies') {
  const clock = new ManualClock();
  const metrics = new RecordingMetrics();
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
    metrics: (id) => (id === 'node-1' ? metrics : new RecordingMetrics()),
  });
  if (staleHolds !== undefined) await cluster.node('node-1').engine.apply([staleHolds]);
  await cluster.node('node-0').engine.apply([newest]);
  cluster.network.drop({ to: 'node-2', probability: 1, phase: 'reply' });
  if (nodeThree === 'cut-off') cluster.network.disconnect('node-3');
  else cluster.network.drop({ to: 'node-3', probability: 1, phase: 'reply' });
  const coordinator = cluster.node('node-1').coordinator;

  const deadlineMs = clock.nowMs() + 200;
  // include_replicas asks both replicas of k-met, so the stale one is among the replies in hand.
  const read = coordinator.batchGet([metKey, openKey], { r, includeReplicas: true, deadlineMs });
  for (let t = 0; t < 200 && !(await settlesAtOnce(read)); t++) await clock.advance(1);
  const [met, open] = await read;
  assert.equal(clock.nowMs(), deadlineMs, 'precondition: the read answered at its deadline');
  assert.equal(open!.ok ? undefined : open!.error.code, 'DEADLINE_EXCEEDED');

  cluster.network.heal();
  let idle = false;
  const idling = coordinator.idle().then(() => (idle = true));
  // The background repair runs on its own deadline (the write timeout); time runs until it is done.
  for (let t = 0; t < 100 && !idle; t++) await clock.advance(10);
  assert.ok(idle, `idle() resolved (${clock.nowMs() - MANUAL_CLOCK_START_MS} ms in, ${clock.pendingTimers} timers pending)`);
  await idling;
  return { cluster, metrics, met: met! };
}

/** The repair writes node-1's coordinator sent and saw answered, one per message. */
function repairMessages(metrics: RecordingMetrics, peer: string): number {
  return metrics.replicaRequests.filter((request) => request.op === 'repair' && request.peer === peer).length;
}

for (const staleHolds of [older, undefined]) {
  const stale = staleHolds === undefined ? 'holds nothing' : 'holds an older version';
  it(`R=1: a read that answers at its deadline leaves the coordinator idle, and a stale replica that ${stale} is repaired in the background`, async () => {
    const { cluster, metrics, met } = await readAtDeadline(1, staleHolds, 'cut-off');
    // R=1 is met by node-0 alone, so the read answers k-met although its repair was not sent.
    assert.equal(met.ok, true);
    assert.deepEqual(met.ok ? met.record?.value : undefined, newest.value);
    assert.deepEqual(cluster.node('node-1').engine.get(metKey)?.version, newest.version, 'node-1 holds the newest version');
    // The metric counts repairs sent, each once: the background pass sent this one.
    assert.equal(repairMessages(metrics, 'node-1'), 1, 'one repair write was sent to node-1');
    assert.equal(metrics.repairs, 1, 'the metric counts the one repair sent');
    await cluster.close();
  });
}

it('R=2: a read whose blocking repair could not be sent by its deadline fails, and the replica is repaired in the background', async () => {
  const { cluster, metrics, met } = await readAtDeadline(2, older, 'loses-replies');
  // R=2 needs node-1 to hold the newest version before the read may return it.
  assert.equal(met.ok ? undefined : met.error.code, 'DEADLINE_EXCEEDED');
  assert.deepEqual(cluster.node('node-1').engine.get(metKey)?.version, newest.version, 'node-1 holds the newest version');
  assert.equal(repairMessages(metrics, 'node-1'), 1, 'one repair write was sent to node-1');
  assert.equal(metrics.repairs, 1, 'the metric counts the one repair sent');
  await cluster.close();
});
