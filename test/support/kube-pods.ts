// Pods for tests against the real API server. With no kubelet, a test plays its part:
// it creates the Pod object, then writes the status a kubelet would (an IP on 127.0.0.x,
// phase Running, the Ready condition) through the status subresource.
import * as k8s from '@kubernetes/client-node';

export const TEST_LABELS = { 'app.kubernetes.io/name': 'quorumkv', 'app.kubernetes.io/instance': 'test' };
export const TEST_SELECTOR = 'app.kubernetes.io/name=quorumkv,app.kubernetes.io/instance=test';

export interface PodPorts {
  /** The client port (container port `grpc`): KV and Admin, what clients and the controller call. */
  readonly grpc: number;
  /** The peer port (container port `peer`): the member's address in discovery. */
  readonly peer: number;
}

export async function createNamespace(core: k8s.CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

export async function createPod(core: k8s.CoreV1Api, namespace: string, name: string, ports: PodPorts, extra: { zone?: string } = {}): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: TEST_LABELS, annotations: extra.zone === undefined ? undefined : { 'quorumkv.io/zone': extra.zone } },
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
