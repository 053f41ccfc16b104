// Every W and every R from 1 to N, for N = 3 and N = 5. The coordinator sits outside the
// preference list (a cluster of N + 1 nodes) so every replica is reached over the network
// and any of them can be cut off. For each quorum size q the test shows both sides of the
// line: with N - q replicas unreachable the call succeeds with exactly q acks, with one
// more it fails fast with QUORUM_NOT_MET.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { naturalOnly, type Placement } from '../../src/coordinator/coordinator-config.js';
import { QuorumNotMetError } from '../../src/errors/errors.js';
import { MemoryCluster } from '../support/memory-cluster.js';

function clusterWithOutsideCoordinator(n: number): { cluster: MemoryCluster; replicas: string[]; coordinatorId: string } {
  const replicas = Array.from({ length: n }, (_, i) => `replica-${i}`);
  const coordinatorId = 'coordinator';
  const placement: Placement = () => naturalOnly(replicas);
  const cluster = new MemoryCluster({ nodes: [...replicas, coordinatorId], replicationFactor: n, placement });
  return { cluster, replicas, coordinatorId };
}

for (const n of [3, 5]) {
  describe(`N=${n}`, () => {
    for (let w = 1; w <= n; w++) {
      it(`W=${w}: succeeds with ${n - w} replicas down, fails with ${n - w + 1} down`, async () => {
        const { cluster, replicas, coordinatorId } = clusterWithOutsideCoordinator(n);
        const coordinator = cluster.node(coordinatorId).coordinator;
        const key = Buffer.from(`w-${w}`);

        for (const down of replicas.slice(0, n - w)) cluster.network.disconnect(down);
        const written = await coordinator.put(key, Buffer.from('v'), { w });
        assert.equal(written.acks, w);
        await cluster.settle();
        const holders = replicas.filter((id) => cluster.node(id).engine.get(key) !== undefined);
        assert.deepEqual(holders, replicas.slice(n - w), 'exactly the reachable replicas hold the write');

        cluster.network.disconnect(replicas[n - w]!);
        await assert.rejects(coordinator.put(key, Buffer.from('v2'), { w }), (error: unknown) => {
          assert.ok(error instanceof QuorumNotMetError, `expected QUORUM_NOT_MET, got ${String(error)}`);
          // Refusals come back before the reachable replicas finish, so the acks in hand
          // when the call fails fast may be fewer than the w - 1 that will arrive.
          assert.ok(error.acks <= w - 1);
          assert.equal(error.required, w);
          assert.equal(error.replicas, n);
          return true;
        });
        await cluster.settle();
        const newHolders = replicas.filter((id) => cluster.node(id).engine.get(key)?.value?.toString() === 'v2');
        assert.deepEqual(newHolders, replicas.slice(n - w + 1), 'the reachable replicas still applied the failed write');
        await cluster.close();
      });
    }

    for (let r = 1; r <= n; r++) {
      it(`R=${r}: succeeds with ${n - r} replicas down, fails with ${n - r + 1} down`, async () => {
        const { cluster, replicas, coordinatorId } = clusterWithOutsideCoordinator(n);
        const coordinator = cluster.node(coordinatorId).coordinator;
        const key = Buffer.from(`r-${r}`);
        await coordinator.put(key, Buffer.from('value'), { w: n });

        for (const down of replicas.slice(0, n - r)) cluster.network.disconnect(down);
        const read = await coordinator.get(key, { r, includeReplicas: true });
        assert.equal(read.acks, r);
        assert.deepEqual(read.record?.value, Buffer.from('value'));
        assert.equal(read.replicas.filter((replica) => replica.found).length, r);

        cluster.network.disconnect(replicas[n - r]!);
        await assert.rejects(coordinator.get(key, { r }), (error: unknown) => {
          assert.ok(error instanceof QuorumNotMetError, `expected QUORUM_NOT_MET, got ${String(error)}`);
          assert.ok(error.acks <= r - 1);
          assert.equal(error.required, r);
          return true;
        });
        await cluster.close();
      });
    }

    it('W and R of 0 mean the majority default', async () => {
      const { cluster, replicas, coordinatorId } = clusterWithOutsideCoordinator(n);
      const coordinator = cluster.node(coordinatorId).coordinator;
      const majority = Math.floor(n / 2) + 1;
      for (const down of replicas.slice(0, n - majority)) cluster.network.disconnect(down);
      assert.equal((await coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 0 })).acks, majority);
      assert.equal((await coordinator.get(Buffer.from('k'), { r: 0 })).acks, majority);
      assert.equal((await coordinator.put(Buffer.from('k'), Buffer.from('v'))).acks, majority);
      cluster.network.disconnect(replicas[n - majority]!);
      await assert.rejects(coordinator.put(Buffer.from('k'), Buffer.from('v')), QuorumNotMetError);
      await cluster.close();
    });
  });
}

it('a coordinator that is itself a replica counts its own write without the network', async () => {
  const cluster = new MemoryCluster({ nodes: 3 });
  const node = cluster.node('node-0');
  cluster.network.disconnect('node-0');
  const written = await node.coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 1 });
  assert.equal(written.acks, 1);
  assert.deepEqual(node.engine.get(Buffer.from('k'))?.value, Buffer.from('v'));
  await assert.rejects(node.coordinator.put(Buffer.from('k'), Buffer.from('v'), { w: 2 }), QuorumNotMetError);
  await cluster.close();
});
