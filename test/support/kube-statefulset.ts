// Plays the StatefulSet controller for tests against the real API server, where no
// controller manager runs: it follows one StatefulSet's spec.replicas and, as the real
// controller does with podManagementPolicy Parallel, creates the missing pods
// `<name>-0..replicas-1` from the pod template (with the `data` claim volume, the
// StatefulSet as their controlling owner, an IP on 127.0.0.x and Ready, as a kubelet
// would report), deletes every pod at or above
// `replicas` at once, and writes the StatefulSet's status.
//
// It records each spec.replicas it sees (with the time it saw it) and each pod it
// deletes, so a test can check the order of events against what the members reported.
import * as k8s from '@kubernetes/client-node';
import { setPodStatus, statefulSetOwner } from './kube-pods.js';

const TICK_MS = 100;

export interface ReplicaChange {
  readonly at: number;
  readonly replicas: number;
}

export interface PodDeletion {
  readonly at: number;
  readonly pod: string;
}

export interface StatefulSetPlayerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** The pod IP of an ordinal. */
  readonly ipOf: (ordinal: number) => string;
  /** Called after the pod of an ordinal was created and marked Ready. */
  readonly onPodCreated?: (ordinal: number) => void;
  /** Changes a pod's spec before it is created (a test standing in for what the template cannot say). */
  readonly podSpec?: (spec: k8s.V1PodSpec) => k8s.V1PodSpec;
}

export class StatefulSetPlayer {
  readonly replicaHistory: ReplicaChange[] = [];
  readonly deletions: PodDeletion[] = [];
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private stopped = false;
  private running: Promise<void> | undefined;
  private lastError: unknown;

  constructor(private readonly options: StatefulSetPlayerOptions) {
    this.apps = options.kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  /** Starts following; resolves after the first pass created the pods. */
  async start(): Promise<void> {
    await this.pass();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** The replicas values seen, in order, without repeats. */
  replicasSeen(): number[] {
    return this.replicaHistory.map((change) => change.replicas);
  }

  describe(): string {
    return `replicas seen ${JSON.stringify(this.replicaHistory)}, deleted ${JSON.stringify(this.deletions)}${this.lastError ? `, last error ${String(this.lastError)}` : ''}`;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pass();
        this.lastError = undefined;
      } catch (error) {
        // The API server is shared with the code under test; a failed pass is retried.
        this.lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  }

  private async pass(): Promise<void> {
    const { namespace, name, ipOf } = this.options;
    const set = await this.apps.readNamespacedStatefulSet({ name, namespace });
    const replicas = set.spec?.replicas ?? 1;
    if (this.replicaHistory.at(-1)?.replicas !== replicas) this.replicaHistory.push({ at: Date.now(), replicas });
    const selector = Object.entries(set.spec!.selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`).join(',');
    const pods = (await this.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
    const existing = new Set(pods.map((pod) => pod.metadata!.name!));
    for (const pod of pods) {
      const podName = pod.metadata!.name!;
      const ordinal = Number(podName.slice(name.length + 1));
      if (ordinal < replicas) continue;
      await this.core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 });
      existing.delete(podName);
      this.deletions.push({ at: Date.now(), pod: podName });
    }
    const template = set.spec!.template;
    for (let ordinal = 0; ordinal < replicas; ordinal += 1) {
      const podName = `${name}-${ordinal}`;
      if (existing.has(podName)) continue;
      const volumes = [...(template.spec!.volumes ?? []), { name: 'data', persistentVolumeClaim: { claimName: `data-${podName}` } }];
      const spec = this.options.podSpec?.({ ...template.spec!, volumes }) ?? { ...template.spec!, volumes };
      const metadata = { name: podName, labels: template.metadata?.labels, ownerReferences: [statefulSetOwner(name, set.metadata!.uid!)] };
      await this.core.createNamespacedPod({ namespace, body: { metadata, spec } });
      await setPodStatus(this.core, namespace, podName, ipOf(ordinal), true);
      existing.add(podName);
      this.options.onPodCreated?.(ordinal);
    }
    const count = existing.size;
    const status = set.status;
    if (status?.replicas !== count || status.readyReplicas !== count || status.observedGeneration !== set.metadata?.generation) {
      await this.apps.patchNamespacedStatefulSetStatus(
        { name, namespace, body: { status: { replicas: count, readyReplicas: count, currentReplicas: count, updatedReplicas: count, availableReplicas: count, observedGeneration: set.metadata?.generation } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
  }
}
