// Deadlines, overload and shutdown: a call that cannot meet its quorum in time fails
// with DEADLINE_EXCEEDED naming the acks it had; the default timeouts apply when the
// client gives no deadline; too many calls in flight are refused with OVERLOADED; a
// closing coordinator refuses new calls with SHUTTING_DOWN. Every test ends with no
// timer left behind. The clusters run on a ManualClock (src/clock/manual-clock.ts), so a
// deadline or a delay passes when the test advances time, not when the machine gets
// round to it.
import assert from 'node:assert/strict';
import { describe, it, afterEach } from 'node:test';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { DeadlineExceededError, isQkvError } from '../../src/errors/errors.js';
import { activeTimerCount } from '../support/active-timers.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

const k = Buffer.from('k');
const v = Buffer.from('v');

/** Records how `call` settles without awaiting it, so a test can look before and after time passes. */
function watch<T>(call: Promise<T>): { settled(): boolean; error(): unknown } {
  let settled = false;
  let failure: unknown;
  call.then(
    () => (settled = true),
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  return { settled: () => settled, error: () => failure };
}

describe('deadlines and overload', () => {
  const timersBefore = activeTimerCount();
  afterEach(() => {
    assert.equal(activeTimerCount(), timersBefore, 'no timer outlives its call');
  });

  it('a write that cannot reach W in time fails with DEADLINE_EXCEEDED and the acks it had', async () => {
    const metrics = new RecordingMetrics();
    const clock = new ManualClock();
    const cluster = new MemoryCluster({ nodes: 3, metrics: () => metrics, clock });
    // Silence, not refusal: the messages to node-1 and node-2 are lost.
    cluster.network.drop({ to: 'node-1', probability: 1 });
    cluster.network.drop({ to: 'node-2', probability: 1 });
    const put = watch(cluster.node('node-0').coordinator.put(k, v, { w: 2, deadlineMs: clock.nowMs() + 20 }));
    await clock.advance(19);
    assert.equal(put.settled(), false, 'still waiting 1 ms before the deadline');
    await clock.advance(1);
    assert.ok(put.settled());
    ((error: unknown) => {
      assert.ok(error instanceof DeadlineExceededError);
      assert.equal(error.code, 'DEADLINE_EXCEEDED');
      assert.equal(error.acks, 1, 'the local replica acked');
      assert.equal(error.required, 2);
    })(put.error());
    assert.equal(clock.pendingTimers, 0, 'the deadline timers were cleared');
    assert.deepEqual(metrics.quorumFailures, [{ op: 'put', reason: 'deadline_exceeded' }]);
    assert.equal(metrics.requests[0]?.outcome, 'DEADLINE_EXCEEDED');
    await cluster.close();
  });

  it('a read that cannot reach R in time fails with DEADLINE_EXCEEDED', async () => {
    const clock = new ManualClock();
    const cluster = new MemoryCluster({ nodes: 3, clock });
    await cluster.node('node-0').coordinator.put(k, v, { w: 3 });
    cluster.network.delay({ to: 'node-2', ms: 10_000 });
    const get = watch(cluster.node('node-0').coordinator.get(k, { r: 3, deadlineMs: clock.nowMs() + 20 }));
    await clock.advance(20);
    assert.ok(get.settled());
    const error = get.error();
    assert.ok(error instanceof DeadlineExceededError);
    assert.equal(error.acks, 2);
    await cluster.close();
    assert.equal(clock.pendingTimers, 0, 'the delayed message was abandoned with its call');
  });

  it('uses the configured default timeout when the client gives no deadline', async () => {
    const clock = new ManualClock();
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { writeTimeoutMs: 25, readTimeoutMs: 40 }, clock });
    cluster.network.drop({ to: 'node-1', probability: 1 });
    cluster.network.drop({ to: 'node-2', probability: 1 });
    const coordinator = cluster.node('node-0').coordinator;
    const put = watch(coordinator.put(k, v, { w: 3 }));
    const get = watch(coordinator.get(k, { r: 2 }));
    await clock.advance(24);
    assert.deepEqual([put.settled(), get.settled()], [false, false]);
    await clock.advance(1);
    assert.ok(put.settled());
    const putError = put.error();
    assert.ok(putError instanceof DeadlineExceededError);
    assert.equal(putError.timeoutMs, 25);
    assert.equal(get.settled(), false, 'reads wait for readTimeoutMs, not writeTimeoutMs');
    await clock.advance(15);
    assert.ok(get.settled());
    const getError = get.error();
    assert.ok(getError instanceof DeadlineExceededError);
    assert.equal(getError.timeoutMs, 40);
    await cluster.close();
  });

  it('sends nothing when the deadline has already passed', async () => {
    let sent = 0;
    const cluster = new MemoryCluster({ nodes: 3, network: { observer: (event) => event.type === 'sent' && sent++ } });
    await assert.rejects(
      cluster.node('node-0').coordinator.put(k, v, { deadlineMs: Date.now() - 1 }),
      (error: unknown) => error instanceof DeadlineExceededError && error.acks === 0,
    );
    assert.equal(sent, 0);
    assert.equal(cluster.node('node-0').engine.get(k), undefined);
    await cluster.close();
  });

  it('refuses calls beyond the in-flight limit with OVERLOADED, and accepts again once they finish', async () => {
    const metrics = new RecordingMetrics();
    const clock = new ManualClock();
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { inFlightRequestsMax: 2 }, metrics: () => metrics, clock });
    cluster.network.delay({ to: 'node-1', ms: 20 });
    cluster.network.delay({ to: 'node-2', ms: 20 });
    const coordinator = cluster.node('node-0').coordinator;
    const first = coordinator.put(Buffer.from('a'), v, { w: 2 });
    const second = coordinator.get(Buffer.from('b'), { r: 2 });
    assert.equal(coordinator.inFlightRequests, 2);
    await assert.rejects(coordinator.put(Buffer.from('c'), v), (error: unknown) => isQkvError(error) && error.code === 'OVERLOADED');
    assert.ok(metrics.requests.some((request) => request.outcome === 'OVERLOADED'));
    await clock.advance(19);
    assert.equal(coordinator.inFlightRequests, 2, 'both wait for a delayed replica');
    await clock.advance(1);
    await Promise.all([first, second]);
    assert.equal(coordinator.inFlightRequests, 0);
    // Undelayed, so that close() need not wait on virtual time for the late acks.
    cluster.network.heal();
    await coordinator.put(Buffer.from('c'), v, { w: 1 });
    await cluster.close();
  });

  it('a closing coordinator refuses new calls and waits for the ones in flight', async () => {
    const clock = new ManualClock();
    const cluster = new MemoryCluster({ nodes: 3, clock });
    cluster.network.delay({ to: 'node-2', ms: 20 });
    const coordinator = cluster.node('node-0').coordinator;
    const inFlight = watch(coordinator.put(k, v, { w: 3 }));
    const closing = watch(coordinator.close());
    await assert.rejects(coordinator.get(k), (error: unknown) => isQkvError(error) && error.code === 'SHUTTING_DOWN');
    await clock.advance(19);
    assert.equal(closing.settled(), false, 'close() waits for the call in flight');
    await clock.advance(1);
    assert.equal(closing.settled(), true);
    const putDone = inFlight.settled() && inFlight.error() === undefined;
    assert.equal(putDone, true, 'close() resolved only after the call in flight finished');
    await cluster.close();
  });
});
