// The scale controller's decisions, from observations built by hand: every rule of
// src/controller/scale-plan.ts in its positive and its negative space. The same rules
// run against a real API server and real gRPC members in
// test/kubernetes/scale-controller.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ordinalOf, planScale, type NodeProbe, type PodView, type ScaleObservation } from '../../src/controller/scale-plan.js';

const STS = 'qkv';

interface Member {
  readonly ready?: boolean;
  readonly running?: boolean;
  readonly state?: string;
  readonly unreachable?: string;
  readonly answersAs?: string;
}

/** An observation of pods qkv-0.. with the given member states. */
function observe(options: { desired: number | undefined; rf?: number; size: number; members: readonly Member[] }): ScaleObservation {
  const pods: PodView[] = [];
  const nodes = new Map<string, NodeProbe>();
  options.members.forEach((member, ordinal) => {
    const name = `${STS}-${ordinal}`;
    const running = member.running ?? true;
    pods.push({ name, ordinal, address: running ? `127.0.0.${10 + ordinal}:7400` : undefined, ready: running && (member.ready ?? true) });
    if (!running) return;
    if (member.unreachable !== undefined) nodes.set(name, { ok: false, error: member.unreachable });
    else nodes.set(name, { ok: true, status: { nodeId: member.answersAs ?? name, ringState: member.state ?? 'NORMAL', stream: member.state === 'LEAVING' || member.state === 'JOINING' ? { rangesDone: 3, rangesTotal: 12, keys: 40, bytes: 4000 } : undefined } });
  });
  return { desiredReplicas: options.desired, replicationFactor: options.rf ?? 3, statefulSet: STS, statefulSetReplicas: options.size, pods, nodes };
}

const normal = (count: number): Member[] => Array.from({ length: count }, () => ({}));

describe('planScale', () => {
  test('without spec.replicas nothing is managed, whatever the StatefulSet', () => {
    const plan = planScale(observe({ desired: undefined, size: 5, members: normal(5) }));
    assert.deepEqual([plan.action.kind, plan.scaling, plan.reason], ['none', false, 'NotManaged']);
  });

  test('below the replication factor nothing moves', () => {
    const plan = planScale(observe({ desired: 2, rf: 3, size: 5, members: normal(5) }));
    assert.deepEqual([plan.action.kind, plan.reason], ['none', 'BelowReplicationFactor']);
  });

  test('steady: Stable only when every member is ready and NORMAL', () => {
    assert.deepEqual(planScale(observe({ desired: 3, size: 3, members: normal(3) })).reason, 'Stable');
    assert.equal(planScale(observe({ desired: 3, size: 3, members: normal(3) })).scaling, false);
    const joining = planScale(observe({ desired: 3, size: 3, members: [{}, {}, { state: 'JOINING' }] }));
    assert.deepEqual([joining.action.kind, joining.scaling, joining.reason, joining.pollSoon], ['none', true, 'Joining', true]);
    assert.match(joining.message, /qkv-2 \(3\/12 ranges/);
    const unready = planScale(observe({ desired: 3, size: 3, members: [{}, { ready: false }, {}] }));
    assert.deepEqual([unready.scaling, unready.reason], [true, 'WaitingForMembers']);
    const missing = planScale(observe({ desired: 3, size: 3, members: normal(2) }));
    assert.deepEqual([missing.reason, missing.message.includes('qkv-2')], ['WaitingForMembers', true]);
  });

  test('scale-up raises the StatefulSet to the desired size in one step', () => {
    const plan = planScale(observe({ desired: 5, size: 3, members: normal(3) }));
    assert.deepEqual(plan.action, { kind: 'scale', from: 3, to: 5 });
    assert.equal(plan.reason, 'ScalingUp');
  });

  test('scale-down starts with the highest ordinal and only decommissions it', () => {
    const plan = planScale(observe({ desired: 3, size: 5, members: normal(5) }));
    assert.deepEqual(plan.action, { kind: 'decommission', pod: 'qkv-4', address: '127.0.0.14:7400' });
    assert.equal(plan.reason, 'Decommissioning');
  });

  test('the StatefulSet drops by exactly one, and only after the member is LEFT', () => {
    const leaving = planScale(observe({ desired: 3, size: 5, members: [...normal(4), { state: 'LEAVING' }] }));
    assert.deepEqual([leaving.action.kind, leaving.reason, leaving.pollSoon], ['none', 'Decommissioning', true]);
    assert.match(leaving.message, /qkv-4 is LEAVING \(3\/12 ranges, 40 keys, 4000 bytes streamed\)/);
    const left = planScale(observe({ desired: 3, size: 5, members: [...normal(4), { state: 'LEFT' }] }));
    assert.deepEqual(left.action, { kind: 'scale', from: 5, to: 4 });
    assert.equal(left.reason, 'RemovingMember');
  });

  test('a member the StatefulSet still has to remove blocks every other step', () => {
    // Lowered to 4, pod 4 (LEFT) not yet deleted: neither the next decommission nor a scale-up.
    for (const desired of [3, 6]) {
      const plan = planScale(observe({ desired, size: 4, members: [...normal(4), { state: 'LEFT' }] }));
      assert.deepEqual([plan.action.kind, plan.reason], ['none', 'WaitingForStatefulSet'], `desired ${desired}`);
    }
  });

  test('the top member must run, answer, and be itself before anything is done to it', () => {
    const cases: Array<[Member, string]> = [
      [{ running: false }, 'WaitingForPod'],
      [{ unreachable: 'PEER_UNREACHABLE: connection refused' }, 'NodeUnreachable'],
      [{ answersAs: 'qkv-9' }, 'WrongNode'],
      [{ state: 'JOINING' }, 'WaitingForMembers'],
    ];
    for (const [top, reason] of cases) {
      const plan = planScale(observe({ desired: 3, size: 4, members: [...normal(3), top] }));
      assert.deepEqual([plan.action.kind, plan.scaling, plan.reason], ['none', true, reason], JSON.stringify(top));
    }
  });

  test('a decommission starts only when every other member is ready and NORMAL', () => {
    const others: Member[] = [{ ready: false }, { state: 'JOINING' }, { state: 'LEAVING' }, { unreachable: 'DEADLINE_EXCEEDED' }];
    for (const other of others) {
      const plan = planScale(observe({ desired: 3, size: 5, members: [{}, other, {}, {}, {}] }));
      assert.deepEqual([plan.action.kind, plan.reason], ['none', 'WaitingForMembers'], JSON.stringify(other));
      assert.match(plan.message, /qkv-1/);
    }
    // A member without ring states (older software) never moves ranges: it counts as NORMAL.
    const legacy = planScale(observe({ desired: 3, size: 4, members: [{ state: '' }, {}, {}, { state: '' }] }));
    assert.deepEqual(legacy.action, { kind: 'decommission', pod: 'qkv-3', address: '127.0.0.13:7400' });
  });

  test('a decommission in progress is finished even when spec.replicas went back up', () => {
    const leaving = planScale(observe({ desired: 5, size: 5, members: [...normal(4), { state: 'LEAVING' }] }));
    assert.deepEqual([leaving.action.kind, leaving.reason], ['none', 'Decommissioning']);
    const left = planScale(observe({ desired: 6, size: 5, members: [...normal(4), { state: 'LEFT' }] }));
    assert.deepEqual(left.action, { kind: 'scale', from: 5, to: 4 });
    assert.match(left.message, /grows again/);
  });

  test('never below the replication factor, even to finish a decommission started by hand', () => {
    const plan = planScale(observe({ desired: 3, rf: 3, size: 3, members: [{}, {}, { state: 'LEFT' }] }));
    assert.deepEqual([plan.action.kind, plan.reason], ['none', 'BelowReplicationFactor']);
  });

  test('pod names outside the StatefulSet have no ordinal', () => {
    assert.equal(ordinalOf('qkv', 'qkv-12'), 12);
    assert.equal(ordinalOf('qkv', 'qkv-0'), 0);
    for (const name of ['qkv-', 'qkv-01', 'qkv-1a', 'qkv-controller-5d8f', 'other-1', 'qkv']) assert.equal(ordinalOf('qkv', name), undefined, name);
  });
});
