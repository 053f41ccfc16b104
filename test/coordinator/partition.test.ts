// A network partition splits a 3-node cluster into a minority {node-0} and a majority
// {node-1, node-2}. The minority coordinator cannot reach W=2 and fails fast with
// QUORUM_NOT_MET naming its acks; the majority goes on serving W=2 and R=2. After the
// partition heals, quorum reads see the majority's writes and repair the minority node.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { QuorumNotMetError } from '../../src/errors/errors.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

it('the minority fails W=2 with QUORUM_NOT_MET while the majority succeeds', async () => {
  const minorityMetrics = new RecordingMetrics();
  const cluster = new MemoryCluster({ nodes: 3, metrics: (id) => (id === 'node-0' ? minorityMetrics : new RecordingMetrics()) });
  const key = Buffer.from('k');
  await cluster.node('node-0').coordinator.put(key, Buffer.from('before'), { w: 3 });
  cluster.network.partition(['node-0'], ['node-1', 'node-2']);

  await assert.rejects(cluster.node('node-0').coordinator.put(key, Buffer.from('minority'), { w: 2 }), (error: unknown) => {
    assert.ok(error instanceof QuorumNotMetError);
    assert.equal(error.code, 'QUORUM_NOT_MET');
    assert.ok(error.acks <= 1, 'only the local replica can ack');
    assert.equal(error.required, 2);
    assert.match(error.message, /node-1: PEER_UNREACHABLE/);
    return true;
  });
  assert.deepEqual(minorityMetrics.quorumFailures, [{ op: 'put', reason: 'replicas_failed' }]);
  await assert.rejects(cluster.node('node-0').coordinator.get(key, { r: 2 }), QuorumNotMetError);

  const majority = await cluster.node('node-1').coordinator.put(key, Buffer.from('majority'), { w: 2 });
  assert.equal(majority.acks, 2);
  const read = await cluster.node('node-2').coordinator.get(key, { r: 2 });
  assert.deepEqual(read.record?.value, Buffer.from('majority'));

  cluster.network.heal();
  // node-0 holds its own failed write (it applied it locally). node-1 stamped its write
  // after observing the first write, so its stamp is later or, within the same
  // millisecond, equal with node-1 > node-0 breaking the tie: the majority's write wins.
  const healed = await cluster.node('node-0').coordinator.get(key, { r: 3 });
  assert.deepEqual(healed.record?.value, Buffer.from('majority'));
  await cluster.settle();
  for (const [id, held] of Object.entries(cluster.holdings(key))) {
    assert.deepEqual(held?.value, Buffer.from('majority'), `${id} converged`);
  }
  await cluster.close();
});

it('a partition of one node from one peer leaves the other paths working', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  cluster.network.partition(['node-0'], ['node-1']);
  const written = await cluster.node('node-0').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 2 });
  assert.equal(written.acks, 2);
  await assert.rejects(cluster.node('node-0').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 3 }), QuorumNotMetError);
  await cluster.close();
});
