// The gRPC addresses of a StatefulSet's ready members, from the pods its scale selector
// picks (the RBAC the scale controller already has: get on statefulsets/scale, list on
// pods). The backup controller runs a backup through the first that answers.
import * as k8s from '@kubernetes/client-node';
import { KUBE_WATCH_OBJECTS_MAX } from '../limits.js';

export function statefulSetMemberAddresses(options: {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  readonly statefulSet: string;
  /** The gRPC port when a pod names no `grpc` container port. */
  readonly grpcPortDefault: number;
}): () => Promise<string[]> {
  const apps = options.kubeConfig.makeApiClient(k8s.AppsV1Api);
  const core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
  return async () => {
    const { namespace, statefulSet, grpcPortDefault } = options;
    const scale = await apps.readNamespacedStatefulSetScale({ name: statefulSet, namespace });
    const selector = scale.status?.selector;
    if (selector === undefined || selector === '') return [];
    const pods = await core.listNamespacedPod({ namespace, labelSelector: selector, limit: KUBE_WATCH_OBJECTS_MAX });
    const addresses: string[] = [];
    for (const pod of pods.items) {
      const ready = pod.metadata?.deletionTimestamp === undefined && (pod.status?.conditions?.some((item) => item.type === 'Ready' && item.status === 'True') ?? false);
      const ip = pod.status?.podIP;
      if (!ready || ip === undefined || ip === '') continue;
      const named = pod.spec?.containers.flatMap((container) => container.ports ?? []).find((port) => port.name === 'grpc');
      const port = named?.containerPort ?? grpcPortDefault;
      addresses.push(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
    }
    return addresses;
  };
}
