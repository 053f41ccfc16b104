// A batch write's keys grouped by replica set (src/coordinator/replica-set-groups.ts):
// keys whose replicas are the same set, in any order, with the same pending count share
// one group; each placement is checked once; and the coordinator's per-key answers stay
// what they were when every key was counted on its own.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { naturalOnly, type KeyPlacement } from '../../src/coordinator/coordinator-config.js';
import { ReplicaSetGroups, WriteReplicaCache } from '../../src/coordinator/replica-set-groups.js';
import { MemoryCluster } from '../support/memory-cluster.js';

it('keys on the same replicas in any order share a group; another set or pending count is another group', () => {
  const cache = new WriteReplicaCache();
  const named = (placement: KeyPlacement) => cache.of(placement, () => placement);
  const groups = new ReplicaSetGroups(5);
  groups.add(named(naturalOnly(['a', 'b', 'c'])), 2);
  groups.add(named(naturalOnly(['c', 'a', 'b'])), 2);
  groups.add(named(naturalOnly(['b', 'c', 'd'])), 2);
  groups.add(named({ natural: ['a', 'b'], pending: ['c'] }), 2);
  groups.add(named(naturalOnly(['b', 'a', 'c'])), 2);
  assert.deepEqual([0, 1, 2, 3, 4].map((key) => groups.groupOf(key)), [0, 0, 1, 2, 0]);
  assert.deepEqual(
    groups.items.map((item) => ({ replicas: item.replicas, required: item.required })),
    [
      { replicas: ['a', 'b', 'c'], required: 2 },
      { replicas: ['b', 'c', 'd'], required: 2 },
      { replicas: ['a', 'b', 'c'], required: 3 },
    ],
  );
  assert.deepEqual(groups.keysOf([0]), [0, 1, 4]);
  assert.deepEqual(groups.keysOf([0, 2]), [0, 1, 3, 4], 'the keys of several groups come out ascending');
  assert.deepEqual(groups.keysOf([1, 2]), [2, 3]);
});

it('a placement is checked once, however many keys it places', () => {
  const cache = new WriteReplicaCache();
  const placement = naturalOnly(['a', 'b', 'c']);
  let checks = 0;
  const checked = (): KeyPlacement => {
    checks++;
    return placement;
  };
  const first = cache.of(placement, checked);
  for (let i = 0; i < 99; i++) assert.equal(cache.of(placement, checked), first);
  assert.equal(checks, 1);
  cache.of(naturalOnly(['a', 'b', 'c']), checked);
  assert.equal(checks, 2, 'another placement object is checked on its own');
});

it('a placement that names a node twice still fails the batch', async () => {
  const cluster = new MemoryCluster({ nodes: 3, placement: () => naturalOnly(['node-0', 'node-1', 'node-1']) });
  await assert.rejects(cluster.node('node-0').coordinator.batchPut([{ key: Buffer.from('k'), value: Buffer.from('v') }]), /placement returned a node twice/);
  await cluster.close();
});

it('keys in three groups meet or miss their own quorums, with the acks and failures of each', async () => {
  // "left" keys on node-0..2 (in two orders), "right" keys on node-2..4, "moving" keys on
  // node-0..2 with node-3 pending (W + 1 acks). node-3 and node-4 are cut off: a right key
  // fails as soon as both have failed, before node-2 answers; a moving key gets its three
  // acks from node-0..2.
  const left = naturalOnly(['node-0', 'node-1', 'node-2']);
  const leftTurned = naturalOnly(['node-2', 'node-0', 'node-1']);
  const right = naturalOnly(['node-2', 'node-3', 'node-4']);
  const moving: KeyPlacement = { natural: ['node-0', 'node-1', 'node-2'], pending: ['node-3'] };
  const placements: Record<string, KeyPlacement> = { left, leftTurned, right, moving };
  const cluster = new MemoryCluster({ nodes: 5, replicationFactor: 3, placement: (key) => placements[key.toString().split('-')[0]!]! });
  cluster.network.disconnect('node-3');
  cluster.network.disconnect('node-4');
  const keys = ['left-1', 'right-1', 'leftTurned-1', 'moving-1', 'left-2', 'right-2'];
  const results = await cluster.node('node-0').coordinator.batchPut(
    keys.map((key) => ({ key: Buffer.from(key), value: Buffer.from(key) })),
    { w: 2 },
  );
  assert.deepEqual(
    results.map((result) => (result.ok ? `ok ${result.acks}` : `${result.error.code} ${result.acks}`)),
    ['ok 2', 'QUORUM_NOT_MET 0', 'ok 2', 'ok 3', 'ok 2', 'QUORUM_NOT_MET 0'],
  );
  const failed = results[1]!;
  assert.ok(!failed.ok);
  assert.match(failed.error.message, /node-3: PEER_UNREACHABLE/);
  assert.match(failed.error.message, /node-4: PEER_UNREACHABLE/);
  assert.notEqual(results[1], results[5], 'each key has its own result');
  await cluster.settle();
  for (const key of ['left-1', 'leftTurned-1', 'left-2', 'moving-1']) {
    for (const node of ['node-0', 'node-1', 'node-2']) assert.ok(cluster.node(node).engine.get(Buffer.from(key)) !== undefined, `${key} on ${node}`);
  }
  await cluster.close();
});
