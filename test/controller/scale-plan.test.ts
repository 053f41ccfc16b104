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
  /** What the member reports of its cleanup; nothing (older software) when absent. */
  readonly cleanup?: { readonly needed?: boolean; readonly running?: boolean };
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
    else {
      const stream = member.state === 'LEAVING' || member.state === 'JOINING' ? { rangesDone: 3, rangesTotal: 12, keys: 40, bytes: 4000 } : undefined;
      const cleanup = member.cleanup === undefined ? {} : { cleanup: { needed: member.cleanup.needed ?? false, running: member.cleanup.running ?? false, rangesDone: 5, rangesTotal: 20, recordsRemoved: 700 } };
      nodes.set(name, { ok: true, status: { nodeId: member.answersAs ?? name, ringState: member.state ?? 'NORMAL', stream, ...cleanup } });
    }
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

  test('steady: a Ready pod whose node cannot be asked, or is not NORMAL, is not Stable', () => {
    // A pod's readiness can run ahead of the controller's probe of a node that has
    // just started; Stable then would let a caller see a member still JOINING.
    for (const member of [{ unreachable: 'UNAVAILABLE: refused' }, { state: 'LEAVING' }]) {
      const plan = planScale(observe({ desired: 3, size: 3, members: [{}, member, {}] }));
      assert.deepEqual([plan.action.kind, plan.scaling, plan.reason, plan.pollSoon], ['none', true, 'WaitingForMembers', true], JSON.stringify(member));
      assert.match(plan.message, /qkv-1/);
    }
  });

  test('scale-up raises the StatefulSet by one, and only when every member is ready and NORMAL', () => {
    const plan = planScale(observe({ desired: 5, size: 3, members: normal(3) }));
    assert.deepEqual(plan.action, { kind: 'scale', from: 3, to: 4 });
    assert.equal(plan.reason, 'ScalingUp');
    // The joiner holds the next step until it is NORMAL, and no cleanup starts meanwhile.
    const joining = planScale(observe({ desired: 5, size: 4, members: [{ cleanup: { needed: true } }, {}, {}, { state: 'JOINING' }] }));
    assert.deepEqual([joining.action.kind, joining.scaling, joining.reason, joining.pollSoon], ['none', true, 'Joining', true]);
    assert.match(joining.message, /4 of 5 replicas; joining: qkv-3/);
    const joined = planScale(observe({ desired: 5, size: 4, members: [{ cleanup: { needed: true } }, {}, {}, {}] }));
    assert.deepEqual(joined.action, { kind: 'scale', from: 4, to: 5 });
    // A member not ready, unreachable or LEAVING blocks the step too.
    for (const member of [{ ready: false }, { unreachable: 'UNAVAILABLE: refused' }, { state: 'LEAVING' }]) {
      const blocked = planScale(observe({ desired: 5, size: 4, members: [{}, member, {}, {}] }));
      assert.deepEqual([blocked.action.kind, blocked.reason], ['none', 'WaitingForMembers'], JSON.stringify(member));
      assert.match(blocked.message, /qkv-1/);
    }
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

  test('after a scale-up, members that need a cleanup get one, one at a time, lowest ordinal first', () => {
    const needs = { cleanup: { needed: true } };
    const done = { cleanup: { needed: false } };
    const first = planScale(observe({ desired: 5, size: 5, members: [done, needs, needs, {}, {}] }));
    assert.deepEqual(first.action, { kind: 'cleanup', pod: 'qkv-1', address: '127.0.0.11:7400' });
    assert.deepEqual([first.scaling, first.reason, first.pollSoon], [true, 'CleaningUp', true]);
    // While one runs, nothing else starts, and its progress is reported.
    const running = planScale(observe({ desired: 5, size: 5, members: [done, { cleanup: { needed: true, running: true } }, needs, {}, {}] }));
    assert.deepEqual([running.action.kind, running.scaling, running.reason], ['none', true, 'CleaningUp']);
    assert.match(running.message, /qkv-1 \(5\/20 ranges, 700 records removed\)/);
    // Done everywhere (or software that does not report it): Stable.
    assert.equal(planScale(observe({ desired: 5, size: 5, members: [done, done, done, {}, {}] })).reason, 'Stable');
  });

  test('no cleanup while a member joins, is not ready, or is not NORMAL', () => {
    const needs = { cleanup: { needed: true } };
    const joining = planScale(observe({ desired: 5, size: 5, members: [needs, needs, needs, {}, { state: 'JOINING' }] }));
    assert.deepEqual([joining.action.kind, joining.reason], ['none', 'Joining']);
    const unready = planScale(observe({ desired: 5, size: 5, members: [needs, needs, needs, { ready: false }, {}] }));
    assert.deepEqual([unready.action.kind, unready.reason], ['none', 'WaitingForMembers']);
    const leavingByHand = planScale(observe({ desired: 5, size: 5, members: [needs, { state: 'LEAVING' }, needs, {}, {}] }));
    assert.deepEqual([leavingByHand.action.kind, leavingByHand.reason], ['none', 'WaitingForMembers']);
  });

  test('a decommission waits until every member that needs a cleanup had one', () => {
    const needs = { cleanup: { needed: true } };
    const plan = planScale(observe({ desired: 3, size: 5, members: [{}, {}, needs, {}, {}] }));
    assert.deepEqual(plan.action, { kind: 'cleanup', pod: 'qkv-2', address: '127.0.0.12:7400' });
    assert.match(plan.message, /before qkv-4 is decommissioned/);
    const running = planScale(observe({ desired: 3, size: 5, members: [{}, {}, { cleanup: { running: true } }, {}, {}] }));
    assert.deepEqual([running.action.kind, running.reason], ['none', 'CleaningUp']);
    // The member about to leave is cleaned up too.
    const top = planScale(observe({ desired: 3, size: 4, members: [{}, {}, {}, needs] }));
    assert.deepEqual(top.action, { kind: 'cleanup', pod: 'qkv-3', address: '127.0.0.13:7400' });
    const clean = planScale(observe({ desired: 3, size: 4, members: [{ cleanup: { needed: false } }, {}, {}, {}] }));
    assert.deepEqual(clean.action, { kind: 'decommission', pod: 'qkv-3', address: '127.0.0.13:7400' });
  });

  test('pod names outside the StatefulSet have no ordinal', () => {
    assert.equal(ordinalOf('qkv', 'qkv-12'), 12);
    assert.equal(ordinalOf('qkv', 'qkv-0'), 0);
    for (const name of ['qkv-', 'qkv-01', 'qkv-1a', 'qkv-controller-5d8f', 'other-1', 'qkv']) assert.equal(ordinalOf('qkv', name), undefined, name);
  });
});
