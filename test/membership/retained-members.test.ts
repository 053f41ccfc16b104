// Members discovery drops stay in the rings while they own ranges
// (src/membership/retained-members.ts, docs/decisions/0081-retain-members-until-left.md):
// a member heard NORMAL or LEAVING stays in the read and write rings it was in, with its
// last address and not ready, until it announces LEFT; one heard LEFT or JOINING, or
// never heard, leaves with discovery. The real-process version is the Kubernetes
// discovery test (test/kubernetes/kubernetes-discovery.test.ts).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { FailureDetector } from '../../src/membership/failure-detector.js';
import type { Member } from '../../src/ring/member.js';
import { RingMembership } from '../../src/membership/ring-membership.js';
import { NO_RING_STATE_STORE } from '../../src/membership/ring-state-table.js';
import type { AnnouncedRingState } from '../../src/ring/ring-state.js';
import { CompletedRanges } from '../../src/streaming/completed-ranges.js';
import { loadXxHash64 } from '../../src/ring/token-hasher.js';

const member = (id: string, address = `${id}:7400`): Member => ({ id, address, ready: true });

async function membershipOf(peers: Record<string, AnnouncedRingState>, changes: Array<readonly Member[]> = []): Promise<RingMembership> {
  return new RingMembership({
    nodeId: 'a',
    replicationFactor: 3,
    vnodes: 16,
    hash: await loadXxHash64(),
    saved: { exists: true, self: { state: 'NORMAL', version: 1 }, peers: new Map(Object.entries(peers)) },
    stateStore: NO_RING_STATE_STORE,
    progressStore: { load: async () => new CompletedRanges(), save: async () => {}, clear: async () => {} },
    liveness: new FailureDetector(),
    probeAll: async () => {},
    sync: () => Promise.reject(new Error('no movement runs in this test')),
    writeSettings: () => ({ writeQuorum: 2, writeTimeoutMs: 50 }),
    onMembersChanged: (members) => changes.push(members),
    logger: silentLogger,
  });
}

const ids = (members: readonly Member[]): string => members.map((m) => m.id).join(',');

it('a member heard NORMAL or LEAVING stays in its rings when discovery drops it; LEFT, JOINING and never-heard ones leave', async () => {
  const changes: Array<readonly Member[]> = [];
  const membership = await membershipOf(
    {
      b: { state: 'NORMAL', version: 1 },
      c: { state: 'LEAVING', version: 1 },
      d: { state: 'LEFT', version: 1 },
      e: { state: 'JOINING', version: 1 },
      // f: never heard.
    },
    changes,
  );
  membership.setMembers(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => member(id)));
  const before = membership.rings();
  assert.deepEqual(before.read.memberIds, ['a', 'b', 'c']);
  assert.deepEqual(before.write.memberIds, ['a', 'b', 'e']);

  const inForce = membership.setMembers([member('a')]);
  assert.equal(ids(inForce), 'a,b,c');
  assert.deepEqual(
    inForce.filter((m) => m.retained === true),
    [
      { id: 'b', address: 'b:7400', ready: false, retained: true },
      { id: 'c', address: 'c:7400', ready: false, retained: true },
    ],
  );
  assert.equal(ids(changes.at(-1)!), 'a,b,c', 'the owner is told the list in force');
  const after = membership.rings();
  assert.equal(after.read.digest, before.read.digest, 'the read ring does not change');
  assert.deepEqual(after.write.memberIds, ['a', 'b'], 'the JOINING member, which never owned ranges, leaves the write ring');
  assert.equal(membership.stateShownFor('b'), 'NORMAL');
});

it('a retained member comes back at a new address, and leaves the rings once it announces LEFT', async () => {
  const changes: Array<readonly Member[]> = [];
  const membership = await membershipOf({}, changes);
  membership.setMembers(['a', 'b', 'c', 'd'].map((id) => member(id)));
  // Heard from the peers themselves, in their probes.
  for (const id of ['b', 'c', 'd']) membership.onProbe({ sender: id, ringState: { state: 'NORMAL', version: 10 }, heardRingState: undefined });
  const full = membership.rings().read.digest;
  assert.deepEqual(membership.rings().read.memberIds, ['a', 'b', 'c', 'd']);

  // d's pod object is deleted and re-created: discovery drops it until the new pod has an IP.
  membership.setMembers(['a', 'b', 'c'].map((id) => member(id)));
  assert.equal(membership.rings().read.digest, full);
  assert.equal(membership.memberList().find((m) => m.id === 'd')?.retained, true);
  membership.setMembers([member('a'), member('b'), member('c'), member('d', 'd-new:7400')]);
  assert.deepEqual(membership.memberList().find((m) => m.id === 'd'), { id: 'd', address: 'd-new:7400', ready: true });
  assert.equal(membership.rings().read.digest, full);

  // d is gone again, and is still heard while retained (probed at its last address): it
  // announces LEFT at the end of a decommission and leaves the list and the rings.
  membership.setMembers(['a', 'b', 'c'].map((id) => member(id)));
  assert.equal(ids(membership.memberList()), 'a,b,c,d');
  const told = changes.length;
  membership.onProbe({ sender: 'd', ringState: { state: 'LEFT', version: 11 }, heardRingState: undefined });
  assert.equal(ids(membership.memberList()), 'a,b,c');
  assert.equal(ids(changes.at(-1)!), 'a,b,c', 'the owner is told when a retained member leaves');
  assert.equal(changes.length, told + 1);
  assert.deepEqual(membership.rings().read.memberIds, ['a', 'b', 'c']);
  assert.notEqual(membership.rings().read.digest, full);
});

it('a retained member whose address another member now has keeps no address, so no call meant for it reaches that member', async () => {
  const membership = await membershipOf({ b: { state: 'NORMAL', version: 1 }, c: { state: 'NORMAL', version: 1 } });
  membership.setMembers([member('a'), member('b', '10.0.0.2:7400'), member('c', '10.0.0.3:7400')]);
  // b's pod is gone and c's re-created pod got b's old IP.
  membership.setMembers([member('a'), member('c', '10.0.0.2:7400')]);
  assert.deepEqual(membership.memberList().find((m) => m.id === 'b'), { id: 'b', address: '', ready: false, retained: true });
  assert.deepEqual(membership.rings().read.memberIds, ['a', 'b', 'c']);
  // Once c moves on, b does not take the stale address back.
  membership.setMembers([member('a'), member('c', '10.0.0.9:7400')]);
  assert.equal(membership.memberList().find((m) => m.id === 'b')?.address, '');
});

it('a member heard LEFT while discovery still reports it leaves the rings, and the list once discovery drops it', async () => {
  const membership = await membershipOf({ b: { state: 'NORMAL', version: 1 }, c: { state: 'NORMAL', version: 1 }, d: { state: 'NORMAL', version: 1 } });
  membership.setMembers(['a', 'b', 'c', 'd'].map((id) => member(id)));
  membership.onProbe({ sender: 'd', ringState: { state: 'LEFT', version: 2 }, heardRingState: undefined });
  assert.deepEqual(membership.rings().read.memberIds, ['a', 'b', 'c']);
  assert.equal(ids(membership.memberList()), 'a,b,c,d');
  membership.setMembers(['a', 'b', 'c'].map((id) => member(id)));
  assert.equal(ids(membership.memberList()), 'a,b,c');
});
