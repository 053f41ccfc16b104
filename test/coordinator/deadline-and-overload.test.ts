// Deadlines, overload and shutdown: a call that cannot meet its quorum in time fails
// with DEADLINE_EXCEEDED naming the acks it had; the default timeouts apply when the
// client gives no deadline; too many calls in flight are refused with OVERLOADED; a
// closing coordinator refuses new calls with SHUTTING_DOWN. Every test ends with no
// timer left behind.
import assert from 'node:assert/strict';
import { describe, it, afterEach } from 'node:test';
import { DeadlineExceededError, isQkvError } from '../../src/errors/errors.js';
import { activeTimerCount } from '../support/active-timers.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

const k = Buffer.from('k');
const v = Buffer.from('v');

describe('deadlines and overload', () => {
  const timersBefore = activeTimerCount();
  afterEach(() => {
    assert.equal(activeTimerCount(), timersBefore, 'no timer outlives its call');
  });

  it('a write that cannot reach W in time fails with DEADLINE_EXCEEDED and the acks it had', async () => {
    const metrics = new RecordingMetrics();
    const cluster = new MemoryCluster({ nodes: 3, metrics: () => metrics });
    // Silence, not refusal: the messages to node-1 and node-2 are lost.
    cluster.network.drop({ to: 'node-1', probability: 1 });
    cluster.network.drop({ to: 'node-2', probability: 1 });
    await assert.rejects(cluster.node('node-0').coordinator.put(k, v, { w: 2, deadlineMs: Date.now() + 20 }), (error: unknown) => {
      assert.ok(error instanceof DeadlineExceededError);
      assert.equal(error.code, 'DEADLINE_EXCEEDED');
      assert.equal(error.acks, 1, 'the local replica acked');
      assert.equal(error.required, 2);
      return true;
    });
    assert.deepEqual(metrics.quorumFailures, [{ op: 'put', reason: 'deadline_exceeded' }]);
    assert.equal(metrics.requests[0]?.outcome, 'DEADLINE_EXCEEDED');
    await cluster.close();
  });

  it('a read that cannot reach R in time fails with DEADLINE_EXCEEDED', async () => {
    const cluster = new MemoryCluster({ nodes: 3 });
    await cluster.node('node-0').coordinator.put(k, v, { w: 3 });
    cluster.network.delay({ to: 'node-2', ms: 10_000 });
    await assert.rejects(cluster.node('node-0').coordinator.get(k, { r: 3, deadlineMs: Date.now() + 20 }), (error: unknown) => {
      assert.ok(error instanceof DeadlineExceededError);
      assert.equal(error.acks, 2);
      return true;
    });
    await cluster.close();
  });

  it('uses the configured default timeout when the client gives no deadline', async () => {
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { writeTimeoutMs: 25, readTimeoutMs: 25 } });
    cluster.network.drop({ to: 'node-1', probability: 1 });
    cluster.network.drop({ to: 'node-2', probability: 1 });
    const coordinator = cluster.node('node-0').coordinator;
    await assert.rejects(coordinator.put(k, v, { w: 3 }), (error: unknown) => error instanceof DeadlineExceededError && error.timeoutMs === 25);
    await assert.rejects(coordinator.get(k, { r: 2 }), (error: unknown) => error instanceof DeadlineExceededError && error.timeoutMs === 25);
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
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { inFlightRequestsMax: 2 }, metrics: () => metrics });
    cluster.network.delay({ to: 'node-1', ms: 20 });
    cluster.network.delay({ to: 'node-2', ms: 20 });
    const coordinator = cluster.node('node-0').coordinator;
    const first = coordinator.put(Buffer.from('a'), v, { w: 2 });
    const second = coordinator.get(Buffer.from('b'), { r: 2 });
    assert.equal(coordinator.inFlightRequests, 2);
    await assert.rejects(coordinator.put(Buffer.from('c'), v), (error: unknown) => isQkvError(error) && error.code === 'OVERLOADED');
    assert.ok(metrics.requests.some((request) => request.outcome === 'OVERLOADED'));
    await Promise.all([first, second]);
    assert.equal(coordinator.inFlightRequests, 0);
    await coordinator.put(Buffer.from('c'), v, { w: 1 });
    await cluster.close();
  });

  it('a closing coordinator refuses new calls and waits for the ones in flight', async () => {
    const cluster = new MemoryCluster({ nodes: 3 });
    cluster.network.delay({ to: 'node-2', ms: 20 });
    const coordinator = cluster.node('node-0').coordinator;
    const inFlight = coordinator.put(k, v, { w: 3 });
    const closed = coordinator.close();
    await assert.rejects(coordinator.get(k), (error: unknown) => isQkvError(error) && error.code === 'SHUTTING_DOWN');
    let putDone = false;
    void inFlight.then(() => (putDone = true));
    await closed;
    assert.equal(putDone, true, 'close() resolved only after the call in flight finished');
    await cluster.close();
  });
});
