// Discovery through the Kubernetes API (docs/decisions/0050-kubernetes-discovery.md):
// list and watch the pods of this cluster by label selector in the pod's own namespace,
// keep those its StatefulSet owns, turn each into a member (./pod-member.ts), and report
// the member list after changes. A pod the selector finds but the StatefulSet does not
// own is logged once (a warning: a copied label is a misconfiguration or an attempt to
// join the ring) and never becomes a member.
//
// Changes are debounced: a rolling restart or a scale-up changes many pods within a
// second, and the ring is rebuilt once per burst, not once per event. Every reported
// change is logged with who joined, who left and whose readiness changed.
import * as k8s from '@kubernetes/client-node';
import { DISCOVERY_DEBOUNCE_MS_DEFAULT } from '../../limits.js';
import type { Logger } from '../../logging/logger.js';
import type { Member } from '../../ring/member.js';
import type { Discovery } from '../discovery.js';
import { ListWatch, type ListWatchStats, type ListWatchTiming } from '../../kubernetes/list-watch.js';
import { membersOfPods, refusedPods, sameMembers } from './pod-member.js';

export interface KubernetesDiscoveryOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  /** e.g. app.kubernetes.io/name=quorumkv,app.kubernetes.io/instance=prod */
  readonly labelSelector: string;
  /** Used for pods whose container declares no port named `peer`. */
  readonly peerPort: number;
  /** Only pods this StatefulSet owns (as their controller) are members. */
  readonly statefulSet: string;
  readonly logger: Logger;
  readonly debounceMs?: number;
  readonly timing?: Partial<ListWatchTiming>;
}

export class KubernetesDiscovery implements Discovery {
  private readonly watch: ListWatch<k8s.V1Pod>;
  private readonly debounceMs: number;
  private latest: readonly Member[] = [];
  /** Pods refused for their owner, as last logged: each is logged once, not per event. */
  private refused: ReadonlyMap<string, string> = new Map();
  private reported: readonly Member[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private onChange: ((members: readonly Member[]) => void) | undefined;

  constructor(private readonly options: KubernetesDiscoveryOptions) {
    this.debounceMs = options.debounceMs ?? DISCOVERY_DEBOUNCE_MS_DEFAULT;
    const core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.watch = new ListWatch<k8s.V1Pod>({
      kubeConfig: options.kubeConfig,
      path: `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`,
      labelSelector: options.labelSelector,
      list: (query) => core.listNamespacedPod({ namespace: options.namespace, ...query }),
      what: 'pods',
      logger: options.logger,
      timing: options.timing,
      onChange: (pods) => this.onPods(pods),
    });
  }

  get stats(): ListWatchStats {
    return this.watch.stats;
  }

  /** Resolves once the first list is reported, so the node starts with a full ring. */
  async start(onChange: (members: readonly Member[]) => void): Promise<void> {
    this.onChange = onChange;
    await this.watch.start();
    this.flush();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onChange = undefined;
    await this.watch.stop();
  }

  private onPods(pods: ReadonlyMap<string, k8s.V1Pod>): void {
    const { peerPort, statefulSet } = this.options;
    this.latest = membersOfPods(pods.values(), { peerPort, statefulSet });
    this.logRefused(refusedPods(pods.values(), statefulSet));
    // Before the first report, start() flushes synchronously after the first list.
    if (this.reported === undefined) return;
    this.timer ??= setTimeout(() => this.flush(), this.debounceMs);
  }

  private logRefused(refused: ReadonlyMap<string, string>): void {
    const fresh = [...refused].filter(([name, reason]) => this.refused.get(name) !== reason);
    // Bounded by the list/watch cache (KUBE_WATCH_OBJECTS_MAX pods), like the pods.
    this.refused = refused;
    if (fresh.length === 0) return;
    this.options.logger.warn(
      { refused: Object.fromEntries(fresh), statefulSet: this.options.statefulSet },
      'kubernetes discovery: pods match the label selector but are not owned by this StatefulSet; not members',
    );
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.latest;
    const previous = this.reported;
    if (previous !== undefined && sameMembers(previous, next)) return;
    this.reported = next;
    this.options.logger.info(
      { ...describeChange(previous ?? [], next), members: next.length, debounceMs: this.debounceMs },
      'kubernetes discovery: members changed',
    );
    this.onChange?.(next);
  }
}

function describeChange(previous: readonly Member[], next: readonly Member[]): { joined: string[]; left: string[]; readinessChanged: string[]; moved: string[] } {
  const before = new Map(previous.map((member) => [member.id, member]));
  const after = new Map(next.map((member) => [member.id, member]));
  return {
    joined: next.filter((member) => !before.has(member.id)).map((member) => member.id),
    left: previous.filter((member) => !after.has(member.id)).map((member) => member.id),
    readinessChanged: next.filter((member) => before.has(member.id) && before.get(member.id)!.ready !== member.ready).map((member) => `${member.id}=${member.ready ? 'ready' : 'not-ready'}`),
    moved: next.filter((member) => before.has(member.id) && before.get(member.id)!.address !== member.address).map((member) => member.id),
  };
}
