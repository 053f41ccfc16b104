// Nothing outlives a call: after a mixed workload with fast failures, late replies,
// deadlines, lost messages and background repairs, closing the cluster leaves no timer
// running and no promise rejected without a handler.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { activeTimerCount } from '../support/active-timers.js';
import { MemoryCluster } from '../support/memory-cluster.js';

it('a mixed workload leaves no timers and no unhandled rejections behind', async () => {
  const timersBefore = activeTimerCount();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    let draw = 0;
    // A fixed sequence instead of Math.random, so the run is the same every time.
    const random = (): number => [0.1, 0.9, 0.6, 0.3][draw++ % 4]!;
    // Background repairs use the write timeout; keep it short so lost repairs end quickly.
    const cluster = new MemoryCluster({ nodes: 5, network: { random }, coordinator: { writeTimeoutMs: 50 } });
    cluster.network.delay({ to: 'node-3', ms: 15 });
    cluster.network.drop({ to: 'node-4', probability: 0.5 });
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      const coordinator = cluster.nodes[i % 5]!.coordinator;
      const key = Buffer.from(`key-${i % 7}`);
      calls.push(coordinator.put(key, Buffer.from(`v${i}`), { w: 1 + (i % 3), deadlineMs: Date.now() + 25 }));
      calls.push(coordinator.get(key, { r: 1 + (i % 3), deadlineMs: Date.now() + 25 }));
      if (i === 20) cluster.network.partition(['node-0'], ['node-1', 'node-2']);
    }
    const outcomes = await Promise.allSettled(calls);
    const codes = new Set(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { code: string }).code)));
    assert.ok(codes.has('ok'), 'some calls succeeded');
    assert.ok(codes.size > 1, `some calls failed too: ${[...codes].join(', ')}`);
    await cluster.close();
    // One more turn so that any rejection without a handler has been reported.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
  assert.equal(activeTimerCount(), timersBefore);
});
