// The write rule while a key moves (docs/decisions/0080-ring-states-and-range-movement.md):
// writes go to the natural replicas and the pending ones and need W + |pending| acks;
// reads ask the natural replicas only; W and R are still checked against N.
//
// The key's natural replicas are a, b, c (the read ring), its final owners a, b, d (the
// write ring: d joins, c gives the range up), so d is pending. The coordinator sits
// outside (node x) so that every replica is reached over the network.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Placement } from '../../src/coordinator/coordinator-config.js';
import { QuorumInvalidError, QuorumNotMetError } from '../../src/errors/errors.js';
import type { NetworkEvent } from '../../src/transport/memory/memory-network.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const NATURAL = ['a', 'b', 'c'];
const PENDING = ['d'];
const FINAL = ['a', 'b', 'd'];

function moving(events?: NetworkEvent[]): MemoryCluster {
  const placement: Placement = () => ({ natural: NATURAL, pending: PENDING });
  return new MemoryCluster({
    nodes: ['a', 'b', 'c', 'd', 'x'],
    replicationFactor: 3,
    placement,
    ...(events ? { network: { observer: (event) => events.push(event) } } : {}),
  });
}

const holders = (cluster: MemoryCluster, key: Buffer): string[] => cluster.nodes.filter((node) => node.engine.get(key) !== undefined).map((node) => node.id);

describe('a key with a pending replica', () => {
  it('a write reaches the pending replica too and returns at W + 1 acks', async () => {
    const cluster = moving();
    try {
      const key = Buffer.from('k');
      const written = await cluster.node('x').coordinator.put(key, Buffer.from('v'), { w: 2 });
      assert.ok(written.acks >= 3, `acks ${written.acks}`);
      await cluster.settle();
      assert.deepEqual(holders(cluster, key), ['a', 'b', 'c', 'd']);
    } finally {
      await cluster.close();
    }
  });

  it('with the pending replica down, W + 1 natural acks still make the write', async () => {
    const cluster = moving();
    try {
      cluster.network.disconnect('d');
      const written = await cluster.node('x').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 2 });
      assert.equal(written.acks, 3);
    } finally {
      await cluster.close();
    }
  });

  it('two acks are refused when they could leave fewer than W copies on the final owners', async () => {
    const cluster = moving();
    try {
      // Only a and c answer: W=2 natural acks, but of the final owners (a, b, d) only a
      // would hold the write, and a later R=2 read of b and d would miss it.
      cluster.network.disconnect('b');
      cluster.network.disconnect('d');
      const key = Buffer.from('k');
      await assert.rejects(cluster.node('x').coordinator.put(key, Buffer.from('v'), { w: 2 }), (error: unknown) => {
        assert.ok(error instanceof QuorumNotMetError, String(error));
        assert.equal(error.required, 3);
        assert.equal(error.replicas, 4);
        assert.ok(error.acks <= 2);
        return true;
      });
      await cluster.settle();
      const finalHolders = holders(cluster, key).filter((id) => FINAL.includes(id));
      assert.deepEqual(finalHolders, ['a'], 'the refused write reached only one final owner');
    } finally {
      await cluster.close();
    }
  });

  it('every ack set of size W + |pending| holds W natural replicas and W final owners', () => {
    // The rule itself, over every subset of natural ∪ pending, for W = 1..3.
    const all = [...NATURAL, ...PENDING];
    for (let w = 1; w <= 3; w++) {
      for (let mask = 0; mask < 1 << all.length; mask++) {
        const acked = all.filter((_, i) => (mask >> i) & 1);
        if (acked.length !== w + PENDING.length) continue;
        assert.ok(acked.filter((id) => NATURAL.includes(id)).length >= w, `W=${w} ${acked}`);
        assert.ok(acked.filter((id) => FINAL.includes(id)).length >= w, `W=${w} ${acked}`);
      }
    }
  });

  it('reads ask the natural replicas only', async () => {
    const events: NetworkEvent[] = [];
    const cluster = moving(events);
    try {
      const key = Buffer.from('k');
      await cluster.node('x').coordinator.put(key, Buffer.from('v'), { w: 3 });
      await cluster.settle();
      events.length = 0;
      const read = await cluster.node('x').coordinator.get(key, { r: 3, includeReplicas: true });
      assert.equal(read.record?.value?.toString(), 'v');
      await cluster.settle();
      const readTargets = new Set(events.filter((event) => event.type === 'sent' && event.kind === 'read').map((event) => (event as { to: string }).to));
      assert.deepEqual([...readTargets].sort(), NATURAL);
      assert.deepEqual(read.replicas.map((replica) => replica.nodeId).sort(), NATURAL);
    } finally {
      await cluster.close();
    }
  });

  it('W is still checked against N, and too few replicas for W + |pending| fail at once', async () => {
    const cluster = moving();
    try {
      await assert.rejects(cluster.node('x').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 4 }), QuorumInvalidError);
    } finally {
      await cluster.close();
    }
    // One natural replica and one pending: W=2 needs 3 acks from 2 nodes.
    const small = new MemoryCluster({ nodes: ['a', 'd', 'x'], replicationFactor: 3, placement: () => ({ natural: ['a'], pending: ['d'] }) });
    try {
      await assert.rejects(small.node('x').coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 2 }), (error: unknown) => {
        assert.ok(error instanceof QuorumNotMetError, String(error));
        assert.equal(error.required, 3);
        assert.match(error.message, /holds only 2 node/);
        return true;
      });
    } finally {
      await small.close();
    }
  });
});
