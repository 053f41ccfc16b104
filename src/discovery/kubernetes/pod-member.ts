// How a Pod becomes a ring member (docs/decisions/0050-kubernetes-discovery.md):
// - only a pod this cluster's StatefulSet made is a member: its ownerReferences must
//   name a StatefulSet of the configured name as the controlling owner. The label
//   selector alone is not enough, since anyone allowed to create pods in the namespace
//   can copy labels (docs/decisions/0103-chart-tls-and-network-policy.md);
// - id: the pod name, which a StatefulSet keeps across restarts and reschedules;
// - address: the pod IP and the peer port (the container port named `peer`, else the
//   configured peer port): peers replicate to each other there, never on the client port;
// - zone: the pod label topology.kubernetes.io/zone (newer API servers copy it from the
//   node at binding), else the annotation quorumkv.io/zone. Reading Node objects would
//   need a ClusterRole for every pod, which the least-privilege Role avoids;
// - ready: the pod's Ready condition is True and the pod is not being deleted.
// A pod with no IP yet has no address and is not a member until it gets one.
import type * as k8s from '@kubernetes/client-node';
import type { Member } from '../../ring/member.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ZONE_ANNOTATION = 'quorumkv.io/zone';
export const PEER_PORT_NAME = 'peer';

/** What makes a pod a member besides the label selector that found it. */
export interface PodMemberRules {
  /** Used for pods whose container declares no port named `peer`. */
  readonly peerPort: number;
  /** Name of the StatefulSet that must own the pod (as its controller). */
  readonly statefulSet: string;
}

/** Why a pod found by the selector is not a member, or undefined when it is one. */
export function refusalOf(pod: k8s.V1Pod, statefulSet: string): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
  if (owner === undefined) return 'no controlling owner';
  if (owner.kind !== 'StatefulSet' || owner.apiVersion !== 'apps/v1') return `owned by ${owner.kind} ${owner.name}`;
  if (owner.name !== statefulSet) return `owned by StatefulSet ${owner.name}, not ${statefulSet}`;
  return undefined;
}

export function memberOfPod(pod: k8s.V1Pod, rules: PodMemberRules): Member | undefined {
  const id = pod.metadata?.name;
  const ip = pod.status?.podIP;
  if (id === undefined || ip === undefined || ip === '') return undefined;
  if (refusalOf(pod, rules.statefulSet) !== undefined) return undefined;
  const port = peerPortOf(pod) ?? rules.peerPort;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const zone = pod.metadata?.labels?.[ZONE_LABEL] ?? pod.metadata?.annotations?.[ZONE_ANNOTATION];
  const readyCondition = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  const ready = readyCondition?.status === 'True' && pod.metadata?.deletionTimestamp === undefined;
  return zone === undefined || zone === '' ? { id, address: `${host}:${port}`, ready } : { id, address: `${host}:${port}`, zone, ready };
}

function peerPortOf(pod: k8s.V1Pod): number | undefined {
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === PEER_PORT_NAME) return port.containerPort;
    }
  }
  return undefined;
}

/** Members sorted by id, so equal sets compare equal whatever order the API gave. */
export function membersOfPods(pods: Iterable<k8s.V1Pod>, rules: PodMemberRules): Member[] {
  const members: Member[] = [];
  for (const pod of pods) {
    const member = memberOfPod(pod, rules);
    if (member !== undefined) members.push(member);
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Pods the selector found that are not members because of their owner, by name. */
export function refusedPods(pods: Iterable<k8s.V1Pod>, statefulSet: string): Map<string, string> {
  const refused = new Map<string, string>();
  for (const pod of pods) {
    const name = pod.metadata?.name;
    const reason = refusalOf(pod, statefulSet);
    if (name !== undefined && reason !== undefined) refused.set(name, reason);
  }
  return refused;
}

/**
 * The StatefulSet a pod name belongs to: `quorumkv-2` -> `quorumkv`. Undefined when the
 * name has no `-<ordinal>` suffix (then the StatefulSet must be configured).
 */
export function statefulSetOfPodName(podName: string): string | undefined {
  const match = /^(.+)-(0|[1-9][0-9]*)$/.exec(podName);
  return match?.[1];
}

export function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  return a.length === b.length && a.every((member, i) => {
    const other = b[i]!;
    return member.id === other.id && member.address === other.address && member.zone === other.zone && member.ready === other.ready;
  });
}
