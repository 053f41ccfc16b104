// A slow replica does not slow a quorum that does not need it: with one replica delayed,
// a W=2 write returns before that replica has even received the message, and the late
// ack is still counted once it comes. Ordering is checked through network events, not
// through wall-clock thresholds.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

function slowCluster() {
  const events: string[] = [];
  const metrics = new RecordingMetrics();
  const cluster = new MemoryCluster({
    nodes: 3,
    network: {
      observer: (event) => {
        if (event.to === 'node-2' && (event.type === 'delivered' || event.type === 'answered')) events.push(`node-2 ${event.type} ${event.kind}`);
      },
    },
    metrics: (id) => (id === 'node-0' ? metrics : new RecordingMetrics()),
  });
  cluster.network.delay({ to: 'node-2', ms: 30 });
  return { cluster, events, metrics, coordinator: cluster.node('node-0').coordinator };
}

it('a W=2 write returns before the slow replica answers; its late ack is still counted', async () => {
  const { cluster, events, metrics, coordinator } = slowCluster();
  const key = Buffer.from('k');
  const written = await coordinator.put(key, Buffer.from('v'), { w: 2 });
  events.push('put returned');
  assert.equal(written.acks, 2);
  assert.equal(cluster.node('node-2').engine.get(key), undefined, 'the slow replica has not applied it yet');

  await cluster.settle();
  assert.deepEqual(events, ['put returned', 'node-2 delivered apply', 'node-2 answered apply']);
  assert.deepEqual(cluster.node('node-2').engine.get(key)?.version, written.version);
  const applies = metrics.replicaRequests.filter((request) => request.op === 'apply');
  assert.deepEqual(applies.map((request) => `${request.peer}:${request.result}`).sort(), ['node-0:ok', 'node-1:ok', 'node-2:ok']);
  await cluster.close();
});

it('a W=3 write waits for the slow replica', async () => {
  const { cluster, events, coordinator } = slowCluster();
  const written = await coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 3 });
  events.push('put returned');
  assert.equal(written.acks, 3);
  assert.deepEqual(events, ['node-2 delivered apply', 'node-2 answered apply', 'put returned']);
  await cluster.close();
});

it('an R=2 read returns before the slow replica answers', async () => {
  const { cluster, events, coordinator } = slowCluster();
  await coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 3 });
  events.length = 0;
  const read = await coordinator.get(Buffer.from('k'), { r: 2, includeReplicas: true });
  events.push('get returned');
  assert.equal(read.acks, 2);
  assert.deepEqual(read.record?.value, Buffer.from('v'));
  assert.deepEqual(read.replicas.map((replica) => replica.nodeId).sort(), ['node-0', 'node-1'], 'only the replicas that had answered');
  await cluster.settle();
  assert.deepEqual(events, ['get returned', 'node-2 delivered read', 'node-2 answered read']);
  await cluster.close();
});
