// What the scale controller does next, decided from one observation of the cluster and
// nothing else (docs/decisions/0090). There is no state of its own: the desired count
// is the QuorumKVCluster's spec.replicas, the current one the StatefulSet's, and the
// progress of a decommission is what the member itself reports. A controller that
// restarts at any point therefore takes up exactly where the last one stopped.
//
// The rules, in the order they are checked:
// 1. No spec.replicas: the StatefulSet is not managed (a resource written before the
//    field existed must never be read as "scale to the default").
// 2. spec.replicas below replicationFactor: refused (the API server already refuses it;
//    this guards a resource written under an older CRD).
// 3. Pods above the StatefulSet's size still exist: the StatefulSet is still removing
//    them; wait, so that a scale-up never finds a member that has LEFT still running.
// 4. Scale-down — the StatefulSet is larger than desired, or its highest member is
//    LEAVING or LEFT (a decommission that must be finished whatever spec.replicas says
//    now, since it cannot be undone): only ever the highest ordinal, and
//      LEFT     -> lower the StatefulSet by exactly one,
//      LEAVING  -> wait and report the streaming progress,
//      NORMAL   -> start its decommission, once every other member is ready and NORMAL
//                  (one range movement at a time, as Cassandra insists),
//    and anything else (not running, unreachable, another node answering, JOINING)
//    blocks, with the reason in the status. The StatefulSet is never lowered while a
//    decommission runs or after it failed. Before a decommission starts, every member
//    that reports a cleanup as needed is cleaned up (rule 7): the ranges the leaving
//    member streams back to them must not meet records they kept from before a
//    scale-up, which a purged tombstone no longer shadows.
// 5. Scale-up — the StatefulSet is smaller than desired: raise it by one, and only
//    when every member is ready and NORMAL, so one member is JOINING at a time
//    (docs/decisions/0160); it joins and streams its ranges by itself, and the next
//    one follows once it is NORMAL. Cleanups wait until the last has joined.
// 6. Otherwise the size is right; Scaling stays True while a member is JOINING, not
//    ready, unreachable or not NORMAL, so `kubectl wait --for=condition=Scaling=false`
//    waits for a scale-up to finish.
// 7. Cleanup — once every member is ready and NORMAL (a scale-up has finished, or
//    before a decommission): one member at a time, lowest ordinal first, each member
//    that reports `cleanup.needed` is asked to clean up (Admin.Cleanup), and the
//    controller waits while one reports a cleanup running. Scaling stays True
//    meanwhile: the scale-up is finished once the old members dropped what they handed
//    over.
import type { CleanupView, NodeStatusView, StreamProgressView } from './node-admin.js';

/** One pod of the StatefulSet as the controller sees it. */
export interface PodView {
  readonly name: string;
  readonly ordinal: number;
  /** host:port of the member's gRPC API; undefined while the pod has no IP. */
  readonly address: string | undefined;
  /** The pod's Ready condition, and not being deleted. */
  readonly ready: boolean;
}

export type NodeProbe =
  | { readonly ok: true; readonly status: NodeStatusView }
  | { readonly ok: false; readonly error: string };

export interface ScaleObservation {
  /** The QuorumKVCluster's spec.replicas; undefined when it is not set. */
  readonly desiredReplicas: number | undefined;
  readonly replicationFactor: number;
  readonly statefulSet: string;
  /** The StatefulSet's spec.replicas. */
  readonly statefulSetReplicas: number;
  /** The StatefulSet's pods (name `<statefulSet>-<ordinal>`), any order. */
  readonly pods: readonly PodView[];
  /** Status of every pod that has an address, by pod name. */
  readonly nodes: ReadonlyMap<string, NodeProbe>;
}

export type ScaleAction =
  | { readonly kind: 'none' }
  /** Set the StatefulSet's replicas to `to`, only if they are still `from`. */
  | { readonly kind: 'scale'; readonly from: number; readonly to: number }
  | { readonly kind: 'decommission'; readonly pod: string; readonly address: string }
  | { readonly kind: 'cleanup'; readonly pod: string; readonly address: string };

export type ScalingReason =
  | 'NotManaged'
  | 'BelowReplicationFactor'
  | 'WaitingForStatefulSet'
  | 'WaitingForPod'
  | 'NodeUnreachable'
  | 'WrongNode'
  | 'WaitingForMembers'
  | 'Decommissioning'
  | 'DecommissionFailed'
  | 'RemovingMember'
  | 'ScalingUp'
  | 'Joining'
  | 'CleaningUp'
  | 'CleanupFailed'
  | 'Stable';

export interface ScalePlan {
  readonly action: ScaleAction;
  /** The Scaling condition: True while the cluster is not yet at spec.replicas. */
  readonly scaling: boolean;
  readonly reason: ScalingReason;
  readonly message: string;
  /** Something moves by itself (streaming, pods coming or going): look again soon. */
  readonly pollSoon: boolean;
}

const NONE: ScaleAction = { kind: 'none' };

export function planScale(observation: ScaleObservation): ScalePlan {
  const { desiredReplicas: desired, replicationFactor, statefulSet, statefulSetReplicas: size } = observation;
  if (desired === undefined) {
    return hold(false, 'NotManaged', `spec.replicas is not set; the StatefulSet ${statefulSet} is left at ${size} replicas`, false);
  }
  if (desired < replicationFactor) {
    return hold(true, 'BelowReplicationFactor', `spec.replicas ${desired} is below replicationFactor ${replicationFactor}; the StatefulSet stays at ${size} replicas`, false);
  }
  const leftOver = observation.pods.filter((pod) => pod.ordinal >= size).sort(byOrdinal);
  if (leftOver.length > 0) {
    return hold(true, 'WaitingForStatefulSet', `the StatefulSet has ${size} replicas; waiting for it to remove ${names(leftOver)}`, true);
  }
  const top = podOf(observation, size - 1);
  const topState = size > 0 ? ringStateOf(observation, top?.name ?? '') : undefined;
  if (size > desired || topState === 'LEAVING' || topState === 'LEFT') return stepDown(observation, desired);
  const members = membersBelow(observation, size);
  const joining = members.filter((pod) => ringStateOf(observation, pod.name) === 'JOINING');
  const target = size < desired ? `${size} of ${desired} replicas` : `${size} replicas`;
  if (joining.length > 0) {
    return hold(true, 'Joining', `${target}; joining: ${joining.map((pod) => `${pod.name} (${progressText(streamOf(observation, pod.name))})`).join(', ')}`, true);
  }
  const missing = missingOrUnready(observation, size);
  if (missing.length > 0) {
    return hold(true, 'WaitingForMembers', `${target}; not ready yet: ${missing.join(', ')}`, true);
  }
  if (size < desired) {
    // Rule 5: one joiner at a time (docs/decisions/0160). Every member must be ready and
    // NORMAL first: the joiner streams its ranges from them, and two joiners at once
    // would each compute their ranges from a ring the other is about to change.
    const blocking = blockingMembers(observation, size);
    if (blocking.length > 0) {
      return hold(true, 'WaitingForMembers', `${target}; the next member is added only when every member is ready and NORMAL: ${blocking.join(', ')}`, true);
    }
    return {
      action: { kind: 'scale', from: size, to: size + 1 },
      scaling: true,
      reason: 'ScalingUp',
      message: `raising the StatefulSet from ${size} to ${size + 1} replicas (spec.replicas is ${desired}); ${observation.statefulSet}-${size} joins and streams its ranges, then the next one`,
      pollSoon: true,
    };
  }
  // A member whose pod is Ready but whose node cannot be asked, or is not NORMAL, is
  // not settled: its pod's readiness can run ahead of the controller's probe (a node
  // that just started, a probe that failed), and Stable must mean every member NORMAL.
  const unsettled = blockingMembers(observation, size);
  if (unsettled.length > 0) {
    return hold(true, 'WaitingForMembers', `${target}; waiting for every member to answer NORMAL: ${unsettled.join(', ')}`, true);
  }
  const cleanup = cleanupStep(observation, size, `${size} replicas`);
  if (cleanup !== undefined) return cleanup;
  return hold(false, 'Stable', `${size} replicas as desired, every member ready`, false);
}

/** One step of a scale-down: always the member with the highest ordinal. */
function stepDown(observation: ScaleObservation, desired: number): ScalePlan {
  const { replicationFactor, statefulSetReplicas: size } = observation;
  const name = `${observation.statefulSet}-${size - 1}`;
  const stays = `the StatefulSet stays at ${size} replicas`;
  if (size - 1 < replicationFactor) {
    // Only reachable when the top member was decommissioned by hand at spec.replicas
    // equal to N: removing it would leave fewer members than replicas per key.
    return hold(true, 'BelowReplicationFactor', `${name} is ${ringStateOf(observation, name)}, but removing it would leave ${size - 1} members, fewer than replicationFactor ${replicationFactor}; ${stays}`, false);
  }
  const pod = podOf(observation, size - 1);
  if (pod === undefined || pod.address === undefined) {
    return hold(true, 'WaitingForPod', `${name} is not running; it must run to stream its data away before it is removed; ${stays}`, true);
  }
  const probe = observation.nodes.get(name);
  if (probe === undefined || !probe.ok) {
    return hold(true, 'NodeUnreachable', `cannot read the status of ${name} at ${pod.address}: ${probe?.error ?? 'not asked'}; ${stays}`, false);
  }
  if (probe.status.nodeId !== name) {
    return hold(true, 'WrongNode', `${pod.address} answers as node "${probe.status.nodeId}", not ${name}; ${stays}`, false);
  }
  const state = probe.status.ringState;
  if (state === 'LEFT') {
    return {
      action: { kind: 'scale', from: size, to: size - 1 },
      scaling: true,
      reason: 'RemovingMember',
      message: `${name} has left the ring; lowering the StatefulSet from ${size} to ${size - 1} replicas${desired >= size ? ` (spec.replicas is ${desired}; the StatefulSet grows again once ${name} is gone)` : ''}`,
      pollSoon: true,
    };
  }
  if (state === 'LEAVING') {
    return hold(true, 'Decommissioning', `${name} is LEAVING (${progressText(probe.status.stream)}); ${stays} until it has LEFT`, true);
  }
  if (state === 'JOINING') {
    return hold(true, 'WaitingForMembers', `${name} is still JOINING; it is decommissioned once it has joined; ${stays}`, true);
  }
  const others = blockingMembers(observation, size - 1);
  if (others.length > 0) {
    return hold(true, 'WaitingForMembers', `a decommission starts only when every other member is ready and NORMAL: ${others.join(', ')}; ${stays}`, true);
  }
  const cleanup = cleanupStep(observation, size, `before ${name} is decommissioned`);
  if (cleanup !== undefined) return cleanup;
  return {
    action: { kind: 'decommission', pod: name, address: pod.address },
    scaling: true,
    reason: 'Decommissioning',
    message: `decommissioning ${name}; ${stays} until it has LEFT`,
    pollSoon: true,
  };
}

/**
 * Rule 7, for members below `ordinalEnd`, all ready and NORMAL: wait for a cleanup that
 * runs, or start one on the first member that needs it; undefined when none does.
 */
function cleanupStep(observation: ScaleObservation, ordinalEnd: number, when: string): ScalePlan | undefined {
  const members = membersBelow(observation, ordinalEnd);
  const cleanupOf = (pod: PodView): CleanupView | undefined => {
    const probe = observation.nodes.get(pod.name);
    return probe?.ok ? probe.status.cleanup : undefined;
  };
  const running = members.filter((pod) => cleanupOf(pod)?.running === true);
  if (running.length > 0) {
    const progress = running.map((pod) => `${pod.name} (${cleanupText(cleanupOf(pod)!)})`).join(', ');
    return hold(true, 'CleaningUp', `${when}; cleaning up the ranges members no longer replicate: ${progress}`, true);
  }
  const next = members.find((pod) => cleanupOf(pod)?.needed === true && pod.address !== undefined);
  if (next === undefined) return undefined;
  return {
    action: { kind: 'cleanup', pod: next.name, address: next.address! },
    scaling: true,
    reason: 'CleaningUp',
    message: `${when}; ${next.name} holds ranges it no longer replicates: cleaning it up`,
    pollSoon: true,
  };
}

function cleanupText(cleanup: CleanupView): string {
  return `${cleanup.rangesDone}/${cleanup.rangesTotal} ranges, ${cleanup.recordsRemoved} records removed`;
}

/** Why each member below `ordinalEnd` may not take part in a range movement now. */
function blockingMembers(observation: ScaleObservation, ordinalEnd: number): string[] {
  const reasons: string[] = [];
  for (let ordinal = 0; ordinal < ordinalEnd; ordinal += 1) {
    const name = `${observation.statefulSet}-${ordinal}`;
    const pod = podOf(observation, ordinal);
    if (pod === undefined) reasons.push(`${name} does not exist`);
    else if (!pod.ready) reasons.push(`${name} is not ready`);
    else {
      const probe = observation.nodes.get(name);
      if (probe === undefined || !probe.ok) reasons.push(`${name} is unreachable (${probe?.error ?? 'no address'})`);
      else if (!isNormal(probe.status.ringState)) reasons.push(`${name} is ${probe.status.ringState}`);
    }
  }
  return reasons;
}

function missingOrUnready(observation: ScaleObservation, ordinalEnd: number): string[] {
  const names: string[] = [];
  for (let ordinal = 0; ordinal < ordinalEnd; ordinal += 1) {
    const pod = podOf(observation, ordinal);
    if (pod === undefined || !pod.ready) names.push(`${observation.statefulSet}-${ordinal}`);
  }
  return names;
}

/** NORMAL, or no ring state at all: software that predates ring states never moves ranges. */
function isNormal(state: string): boolean {
  return state === 'NORMAL' || state === '';
}

function hold(scaling: boolean, reason: ScalingReason, message: string, pollSoon: boolean): ScalePlan {
  return { action: NONE, scaling, reason, message, pollSoon };
}

function podOf(observation: ScaleObservation, ordinal: number): PodView | undefined {
  return observation.pods.find((pod) => pod.ordinal === ordinal);
}

function membersBelow(observation: ScaleObservation, ordinalEnd: number): PodView[] {
  return observation.pods.filter((pod) => pod.ordinal < ordinalEnd).sort(byOrdinal);
}

function ringStateOf(observation: ScaleObservation, name: string): string | undefined {
  const probe = observation.nodes.get(name);
  return probe?.ok ? probe.status.ringState : undefined;
}

function streamOf(observation: ScaleObservation, name: string): StreamProgressView | undefined {
  const probe = observation.nodes.get(name);
  return probe?.ok ? probe.status.stream : undefined;
}

export function progressText(stream: StreamProgressView | undefined): string {
  if (stream === undefined) return 'no progress reported yet';
  return `${stream.rangesDone}/${stream.rangesTotal} ranges, ${stream.keys} keys, ${stream.bytes} bytes streamed`;
}

function byOrdinal(a: PodView, b: PodView): number {
  return a.ordinal - b.ordinal;
}

function names(pods: readonly PodView[]): string {
  return pods.map((pod) => pod.name).join(', ');
}

/** The ordinal of a StatefulSet pod name, or undefined when it is not one of its pods. */
export function ordinalOf(statefulSet: string, podName: string): number | undefined {
  const prefix = `${statefulSet}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}
