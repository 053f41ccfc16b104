// Pods for tests against the real API server. With no kubelet, a test plays its part:
// it creates the Pod object, then writes the status a kubelet would (an IP on 127.0.0.x,
// phase Running, the Ready condition) through the status subresource. With no
// controller manager, no StatefulSet makes the pods either: each carries the owner
// reference its StatefulSet would write, since discovery takes only pods it owns.
import * as k8s from '@kubernetes/client-node';

export const TEST_LABELS = { 'app.kubernetes.io/name': 'quorumkv', 'app.kubernetes.io/instance': 'test' };
export const TEST_SELECTOR = 'app.kubernetes.io/name=quorumkv,app.kubernetes.io/instance=test';

/** The owner reference a StatefulSet writes into its pods (as their controller). */
export function statefulSetOwner(name: string, uid = '00000000-0000-4000-8000-000000000001'): k8s.V1OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid, controller: true, blockOwnerDeletion: true };
}

export interface PodPorts {
  /** The client port (container port `grpc`). */
  readonly grpc: number;
  /** The peer port (container port `peer`): the member's address in discovery. */
  readonly peer: number;
}

export interface TestPodOptions {
  readonly zone?: string;
  /** Owner references; default: the StatefulSet named like the pod without its ordinal. */
  readonly owners?: k8s.V1OwnerReference[];
}

export async function createNamespace(core: k8s.CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

export async function createPod(core: k8s.CoreV1Api, namespace: string, name: string, ports: PodPorts, extra: TestPodOptions = {}): Promise<void> {
  const owners = extra.owners ?? [statefulSetOwner(name.replace(/-[0-9]+$/, ''))];
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: TEST_LABELS, ownerReferences: owners, annotations: extra.zone === undefined ? undefined : { 'quorumkv.io/zone': extra.zone } },
      spec: { containers: [{ name: 'quorumkv', image: 'quorumkv:test', ports: [{ name: 'grpc', containerPort: ports.grpc }, { name: 'peer', containerPort: ports.peer }] }] },
    },
  });
}

/** Writes what a kubelet would: the pod IP, Running, and Ready true or false. */
export async function setPodStatus(core: k8s.CoreV1Api, namespace: string, name: string, ip: string, ready: boolean): Promise<void> {
  const pod = await core.readNamespacedPod({ name, namespace });
  const now = new Date();
  pod.status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    hostIP: '127.0.0.1',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
    ],
  };
  await core.replaceNamespacedPodStatus({ name, namespace, body: pod });
}

/** Deletes at once: with no kubelet a graceful delete would never finish. */
export async function deletePod(core: k8s.CoreV1Api, namespace: string, name: string): Promise<void> {
  await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
}

/** Polls `check` until it returns true or the time is up; throws with the last view. */
export async function eventually(check: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${describe()}`);
}
