// How a Pod becomes a ring member (docs/decisions/0050-kubernetes-discovery.md):
// - id: the pod name, which a StatefulSet keeps across restarts and reschedules;
// - address: the pod IP and the gRPC port (the container port named `grpc`, else the
//   configured port);
// - zone: the pod label topology.kubernetes.io/zone (newer API servers copy it from the
//   node at binding), else the annotation quorumkv.io/zone. Reading Node objects would
//   need a ClusterRole for every pod, which the least-privilege Role avoids;
// - ready: the pod's Ready condition is True and the pod is not being deleted.
// A pod with no IP yet has no address and is not a member until it gets one.
import type * as k8s from '@kubernetes/client-node';
import type { Member } from '../../membership/member.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ZONE_ANNOTATION = 'quorumkv.io/zone';
export const GRPC_PORT_NAME = 'grpc';

export function memberOfPod(pod: k8s.V1Pod, defaultGrpcPort: number): Member | undefined {
  const id = pod.metadata?.name;
  const ip = pod.status?.podIP;
  if (id === undefined || ip === undefined || ip === '') return undefined;
  const port = grpcPortOf(pod) ?? defaultGrpcPort;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const zone = pod.metadata?.labels?.[ZONE_LABEL] ?? pod.metadata?.annotations?.[ZONE_ANNOTATION];
  const readyCondition = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  const ready = readyCondition?.status === 'True' && pod.metadata?.deletionTimestamp === undefined;
  return zone === undefined || zone === '' ? { id, address: `${host}:${port}`, ready } : { id, address: `${host}:${port}`, zone, ready };
}

function grpcPortOf(pod: k8s.V1Pod): number | undefined {
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === GRPC_PORT_NAME) return port.containerPort;
    }
  }
  return undefined;
}

/** Members sorted by id, so equal sets compare equal whatever order the API gave. */
export function membersOfPods(pods: Iterable<k8s.V1Pod>, defaultGrpcPort: number): Member[] {
  const members: Member[] = [];
  for (const pod of pods) {
    const member = memberOfPod(pod, defaultGrpcPort);
    if (member !== undefined) members.push(member);
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  return a.length === b.length && a.every((member, i) => {
    const other = b[i]!;
    return member.id === other.id && member.address === other.address && member.zone === other.zone && member.ready === other.ready;
  });
}
