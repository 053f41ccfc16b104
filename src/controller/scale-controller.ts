// The scale controller (`qkv controller`, docs/decisions/0090): sizes a quorumkv
// StatefulSet to its QuorumKVCluster's spec.replicas without losing data. It adds
// members by raising the StatefulSet; it removes them one at a time, highest ordinal
// first, and lowers the StatefulSet only after the member has streamed its ranges away
// and reports LEFT. Once members have joined, and before any decommission, it has
// every member that reports it clean up the ranges it handed over (docs/decisions/0082). What to do is decided by ./scale-plan.ts from one fresh look at the
// API objects and the members' own status; this file looks, acts and reports.
//
// When it looks: at once when the resource's spec changes (a watch on the one
// QuorumKVCluster; status-only changes are ignored, the nodes write the status often),
// every `pollMs` while something moves (a member joining or leaving, pods coming or
// going), and every `resyncMs` otherwise. It has no watch on the StatefulSet or the
// pods: its RBAC is get/patch on the StatefulSet's scale and list on pods, and polling
// them at these rates is cheap.
//
// Writes are guarded so that two controllers (a rollout overlap) or a person cannot be
// overridden by a stale view: the StatefulSet resize is a JSON patch that first tests
// the replicas it was decided from, and the status patch carries the resource's
// resourceVersion (a conflict means: look again).
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../logging/logger.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../kubernetes/cluster-spec.js';
import { ListWatch, type ListWatchTiming } from '../kubernetes/list-watch.js';
import { condition, mergeConditions, type Condition } from '../kubernetes/status-condition.js';
import { CONTROLLER_STATUS_CALLS_IN_FLIGHT_MAX, KUBE_WATCH_OBJECTS_MAX, REPLICATION_FACTOR_DEFAULT } from '../limits.js';
import type { Readiness } from '../metrics/metrics-http-server.js';
import { NO_CONTROLLER_METRICS, type ControllerMetrics } from './controller-metrics.js';
import { ClusterEventRecorder, type InvolvedCluster } from './cluster-events.js';
import { expandClaim, listDataClaims, planVolumeExpansion } from './volume-expansion.js';
import type { NodeAdmin } from './node-admin.js';
import { ordinalOf, planScale, type NodeProbe, type PodView, type ScaleObservation, type ScalePlan } from './scale-plan.js';
import { WakeableSleep } from '../kubernetes/wakeable-sleep.js';

export const SCALING_CONDITION = 'Scaling';
const CLUSTER_KIND = 'QuorumKVCluster';

const WARNING_REASONS: ReadonlySet<string> = new Set(['DecommissionFailed', 'CleanupFailed', 'NodeUnreachable', 'WrongNode', 'BelowReplicationFactor']);

export interface ScaleControllerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  readonly clusterResource: string;
  readonly statefulSet: string;
  readonly nodeAdmin: NodeAdmin;
  readonly logger: Logger;
  /** Members' gRPC port when a pod names no `grpc` container port. */
  readonly grpcPortDefault: number;
  readonly resyncMs: number;
  readonly pollMs: number;
  readonly metrics?: ControllerMetrics;
  readonly watchTiming?: Partial<ListWatchTiming>;
}

interface ClusterObject {
  readonly metadata?: { readonly name?: string; readonly uid?: string; readonly resourceVersion?: string; readonly generation?: number };
  readonly spec?: { readonly replicas?: unknown; readonly replicationFactor?: unknown; readonly persistence?: { readonly size?: unknown } };
  readonly status?: { readonly replicas?: number; readonly scaling?: unknown; readonly conditions?: readonly Condition[] };
}

interface MemberReport {
  readonly name: string;
  readonly ready: boolean;
  readonly ringState: string;
  readonly rangesDone?: number;
  readonly rangesTotal?: number;
  readonly streamedKeys?: number;
  readonly streamedBytes?: number;
}

/** A look at the cluster and what came of it. */
interface Outcome {
  readonly plan: ScalePlan;
  readonly statefulSetReplicas: number;
  readonly podReplicas: number;
  readonly members: readonly MemberReport[];
}

export class ScaleController {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly watch: ListWatch<ClusterObject>;
  private readonly metrics: ControllerMetrics;
  private readonly events: ClusterEventRecorder;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lookAgain = false;
  private readonly pause = new WakeableSleep();
  private seenGeneration: number | undefined;
  private looked = false;
  private lastLogged = '';
  private lastReason = '';
  private missingLogged = false;

  constructor(private readonly options: ScaleControllerOptions) {
    const { kubeConfig, namespace, clusterResource } = options;
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.metrics = options.metrics ?? NO_CONTROLLER_METRICS;
    this.events = new ClusterEventRecorder(this.core, options.logger, hostname());
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    this.watch = new ListWatch<ClusterObject>({
      kubeConfig,
      path: `/apis/${CLUSTER_GROUP}/${CLUSTER_VERSION}/namespaces/${encodeURIComponent(namespace)}/${CLUSTER_PLURAL}`,
      fieldSelector: `metadata.name=${clusterResource}`,
      list: async (query) => (await this.custom.listNamespacedCustomObject({ ...base, ...query })) as { items?: ClusterObject[]; metadata?: { resourceVersion?: string } },
      what: `QuorumKVCluster ${clusterResource}`,
      logger: options.logger,
      timing: options.watchTiming,
      onChange: (objects) => this.onResource(objects.get(clusterResource)),
    });
  }

  /** Starts watching and looking; resolves once the watch has listed the resource. */
  async start(): Promise<void> {
    this.options.logger.info({ cluster: this.options.clusterResource, statefulSet: this.options.statefulSet, namespace: this.options.namespace }, 'scale controller starting');
    this.running = this.loop();
    await this.watch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.watch.stop();
    await this.running;
    this.options.nodeAdmin.close();
  }

  /** Ready once a look at the cluster has succeeded: the API and RBAC work. */
  readiness(): Readiness {
    return this.looked ? { ready: true } : { ready: false, reason: 'no successful look at the cluster yet' };
  }

  private onResource(resource: ClusterObject | undefined): void {
    const generation = resource?.metadata?.generation;
    // The nodes rewrite the status often; only a new spec (or the resource coming or
    // going) is worth an immediate look.
    if (resource !== undefined && generation === this.seenGeneration) return;
    this.seenGeneration = generation;
    this.lookAgain = true;
    this.pause.wake();
  }

  private async loop(): Promise<void> {
    const { logger, resyncMs, pollMs } = this.options;
    while (!this.stopped) {
      this.lookAgain = false;
      let delayMs = resyncMs;
      try {
        const outcome = await this.reconcile();
        this.metrics.reconciled('ok');
        this.looked = true;
        if (outcome?.plan.pollSoon) delayMs = pollMs;
      } catch (error) {
        this.metrics.reconciled('error');
        logger.warn({ err: error, cluster: this.options.clusterResource, retryInMs: resyncMs }, 'looking at the cluster failed');
      }
      if (!this.lookAgain && !this.stopped) await this.pause.sleep(delayMs);
    }
  }

  /** One look: observe, plan, act, report. Undefined when there is no resource. */
  private async reconcile(): Promise<Outcome | undefined> {
    const { namespace, clusterResource, statefulSet, logger } = this.options;
    const cluster = await this.readCluster();
    if (cluster === undefined) {
      if (!this.missingLogged) logger.warn({ cluster: clusterResource }, 'QuorumKVCluster not found; nothing to do until it exists');
      this.missingLogged = true;
      return undefined;
    }
    this.missingLogged = false;

    let scale: k8s.V1Scale;
    try {
      scale = await this.apps.readNamespacedStatefulSetScale({ name: statefulSet, namespace });
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      const plan: ScalePlan = { action: { kind: 'none' }, scaling: true, reason: 'WaitingForStatefulSet', message: `StatefulSet ${statefulSet} not found`, pollSoon: false };
      const outcome = { plan, statefulSetReplicas: 0, podReplicas: 0, members: [] };
      await this.report(cluster, outcome);
      return outcome;
    }
    const observation = await this.observe(cluster, scale);
    const plan = planScale(observation);
    const outcome = await this.act(observation, plan, scale.status?.replicas ?? 0);
    await this.expandVolumes(cluster, scale.status!.selector!);
    await this.report(cluster, outcome);
    return outcome;
  }

  private async readCluster(): Promise<ClusterObject | undefined> {
    const { namespace, clusterResource } = this.options;
    try {
      return (await this.custom.getNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name: clusterResource })) as ClusterObject;
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async observe(cluster: ClusterObject, scale: k8s.V1Scale): Promise<ScaleObservation> {
    const { namespace, statefulSet, nodeAdmin } = this.options;
    const selector = scale.status?.selector;
    if (selector === undefined || selector === '') throw new Error(`StatefulSet ${statefulSet} reports no pod selector in its scale`);
    const list = await this.core.listNamespacedPod({ namespace, labelSelector: selector, limit: KUBE_WATCH_OBJECTS_MAX });
    const pods: PodView[] = [];
    for (const pod of list.items) {
      const name = pod.metadata?.name ?? '';
      const ordinal = ordinalOf(statefulSet, name);
      if (ordinal === undefined) continue;
      pods.push({ name, ordinal, address: this.addressOf(pod), ready: isReady(pod) });
    }
    const probed = pods.filter((pod) => pod.address !== undefined);
    const nodes = new Map<string, NodeProbe>();
    await forEachLimited(probed, CONTROLLER_STATUS_CALLS_IN_FLIGHT_MAX, async (pod) => {
      try {
        nodes.set(pod.name, { ok: true, status: await nodeAdmin.status(pod.address!) });
      } catch (error) {
        nodes.set(pod.name, { ok: false, error: messageOf(error) });
      }
    });
    nodeAdmin.retain(new Set(probed.map((pod) => pod.address!)));
    return {
      desiredReplicas: integerOrUndefined(cluster.spec?.replicas),
      replicationFactor: integerOrUndefined(cluster.spec?.replicationFactor) ?? REPLICATION_FACTOR_DEFAULT,
      statefulSet,
      statefulSetReplicas: scale.spec?.replicas ?? 0,
      pods,
      nodes,
    };
  }

  private async act(observation: ScaleObservation, plan: ScalePlan, podReplicas: number): Promise<Outcome> {
    const { logger, statefulSet, nodeAdmin } = this.options;
    const members = memberReports(observation);
    const action = plan.action;
    const base = { plan, statefulSetReplicas: observation.statefulSetReplicas, podReplicas, members };
    if (action.kind === 'scale') {
      try {
        await this.resize(action.from, action.to);
      } catch (error) {
        const status = httpStatusOf(error);
        // 422: the JSON patch's test failed; 409: a concurrent write. Someone else
        // changed the StatefulSet since this look: look again rather than override it.
        if (status !== 409 && status !== 422) throw error;
        logger.info({ statefulSet, from: action.from, to: action.to }, 'the StatefulSet changed since this look; looking again');
        return { ...base, plan: { ...plan, action: { kind: 'none' }, pollSoon: true } };
      }
      this.metrics.acted(action.to > action.from ? 'scale_up' : 'scale_down');
      logger.info({ statefulSet, from: action.from, to: action.to, reason: plan.reason }, action.to > action.from ? 'raised the StatefulSet' : 'lowered the StatefulSet by one');
      return { ...base, statefulSetReplicas: action.to };
    }
    if (action.kind === 'decommission') {
      let failure: string | undefined;
      try {
        const state = await nodeAdmin.decommission(action.address);
        if (state !== 'LEAVING' && state !== 'LEFT') failure = `it answered ring state "${state}" instead of LEAVING or LEFT`;
        else logger.info({ pod: action.pod, address: action.address, ringState: state }, 'decommission started');
      } catch (error) {
        failure = messageOf(error);
      }
      if (failure === undefined) {
        this.metrics.acted('decommission');
        return base;
      }
      this.metrics.decommissionFailed();
      const message = `Decommission of ${action.pod} failed: ${failure}; the StatefulSet stays at ${observation.statefulSetReplicas} replicas, and the call is retried every ${Math.round(this.options.resyncMs / 1000)} s`;
      return { ...base, plan: { action: { kind: 'none' }, scaling: true, reason: 'DecommissionFailed', message, pollSoon: false } };
    }
    if (action.kind === 'cleanup') {
      this.metrics.acted('cleanup');
      try {
        const result = await nodeAdmin.cleanup(action.address);
        logger.info({ pod: action.pod, address: action.address, ...result }, 'cleanup done');
        return base;
      } catch (error) {
        // A cleanup of much data outlives the call; the member goes on, and its Status
        // shows it running until it is done.
        if ((error as { code?: unknown } | null)?.code === 'DEADLINE_EXCEEDED') {
          logger.info({ pod: action.pod, address: action.address }, 'cleanup goes on past the call; following it in the member\'s status');
          return base;
        }
        const message = `Cleanup of ${action.pod} failed: ${messageOf(error)}; no decommission starts until it succeeds, and the call is retried every ${Math.round(this.options.resyncMs / 1000)} s`;
        return { ...base, plan: { action: { kind: 'none' }, scaling: true, reason: 'CleanupFailed', message, pollSoon: false } };
      }
    }
    return base;
  }

  /**
   * Raises the members' volume claims to spec.persistence.size (./volume-expansion.ts).
   * Independent of scaling, and never in its way: a claim that cannot be expanded is
   * reported as a Warning Event and asked again on the next look.
   */
  private async expandVolumes(cluster: ClusterObject, selector: string): Promise<void> {
    const { namespace, statefulSet, logger } = this.options;
    const desired = cluster.spec?.persistence?.size;
    if (desired === undefined) return;
    const involved = this.involved(cluster);
    try {
      if (typeof desired !== 'string') throw new Error(`spec.persistence.size must be a string such as 20Gi, got ${JSON.stringify(desired)}`);
      const steps = planVolumeExpansion(desired, await listDataClaims(this.core, namespace, statefulSet, selector));
      for (const step of steps) {
        if (step.kind === 'larger') {
          await this.events.record(involved, 'Warning', 'VolumeLargerThanSpec', `claim ${step.claim} asks for ${step.requested}, more than spec.persistence.size ${step.desired}; volumes are never shrunk, it stays as it is`);
          continue;
        }
        try {
          await expandClaim(this.core, namespace, step.claim, step.to);
        } catch (error) {
          logger.warn({ claim: step.claim, from: step.from, to: step.to, err: error }, 'expanding a volume claim failed');
          await this.events.record(involved, 'Warning', 'VolumeExpansionFailed', `claim ${step.claim} stays at ${step.from}: ${apiMessageOf(error)}; asked again on every look`);
          continue;
        }
        this.metrics.acted('expand_volume');
        logger.info({ claim: step.claim, from: step.from, to: step.to }, 'asked for a larger volume');
        await this.events.record(involved, 'Normal', 'ExpandingVolume', `claim ${step.claim}: storage request raised from ${step.from} to ${step.to}; the storage provider expands the volume`);
      }
    } catch (error) {
      logger.warn({ err: error }, 'checking the volume claims failed');
      await this.events.record(involved, 'Warning', 'VolumeExpansionFailed', `cannot check the members' volume claims: ${apiMessageOf(error)}`);
    }
  }

  private involved(cluster: ClusterObject): InvolvedCluster {
    const { namespace, clusterResource } = this.options;
    return { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: CLUSTER_KIND, namespace, name: clusterResource, uid: cluster.metadata?.uid };
  }

  private async resize(from: number, to: number): Promise<void> {
    const { statefulSet, namespace } = this.options;
    await this.apps.patchNamespacedStatefulSetScale(
      {
        name: statefulSet,
        namespace,
        body: [
          { op: 'test', path: '/spec/replicas', value: from },
          { op: 'replace', path: '/spec/replicas', value: to },
        ],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
  }

  /** Logs what changed and writes the status when it differs from what is stored. */
  private async report(cluster: ClusterObject, outcome: Outcome): Promise<void> {
    const { logger, namespace, clusterResource } = this.options;
    const { plan } = outcome;
    this.metrics.replicas(integerOrUndefined(cluster.spec?.replicas), outcome.statefulSetReplicas);
    this.metrics.scaling(plan.scaling);
    const warn = WARNING_REASONS.has(plan.reason);
    // An Event for every step (a new reason) and every failure (a warning on every look,
    // which the recorder counts as repeats of one Event); progress within a step (new
    // figures on every look) stays in the status and the debug log.
    if (warn || plan.reason !== this.lastReason) {
      await this.events.record(this.involved(cluster), warn ? 'Warning' : 'Normal', plan.reason, plan.message);
    }
    const logKey = `${plan.reason} ${plan.message}`;
    if (logKey !== this.lastLogged) {
      const fields = { cluster: clusterResource, reason: plan.reason, scaling: plan.scaling, statefulSetReplicas: outcome.statefulSetReplicas, desiredReplicas: cluster.spec?.replicas };
      // A new reason, or a new failure, is news; progress while streaming (the same
      // reason with new figures on every look) is debug.
      if (warn) logger.warn(fields, plan.message);
      else if (plan.reason !== this.lastReason) logger.info(fields, plan.message);
      else logger.debug(fields, plan.message);
      this.lastLogged = logKey;
      this.lastReason = plan.reason;
    }

    const generation = cluster.metadata?.generation;
    const previous = cluster.status?.conditions ?? [];
    const scaling = condition(previous, SCALING_CONDITION, plan.scaling, plan.reason, plan.message, generation);
    const status = {
      replicas: outcome.podReplicas,
      scaling: { observedGeneration: generation, statefulSetReplicas: outcome.statefulSetReplicas, members: outcome.members },
    };
    const stored = previous.find((item) => item.type === SCALING_CONDITION);
    const same =
      canonicalJson({ replicas: cluster.status?.replicas, scaling: cluster.status?.scaling }) === canonicalJson(status) &&
      stored !== undefined && stored.status === scaling.status && stored.reason === scaling.reason && stored.message === scaling.message && stored.observedGeneration === generation;
    if (same) return;
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: CLUSTER_GROUP,
          version: CLUSTER_VERSION,
          namespace,
          plural: CLUSTER_PLURAL,
          name: clusterResource,
          body: { metadata: { resourceVersion: cluster.metadata?.resourceVersion }, status: { ...status, conditions: mergeConditions(previous, [scaling]) } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (httpStatusOf(error) !== 409) throw error;
      // The nodes wrote the status meanwhile: the next look writes ours on top of theirs.
      this.lookAgain = true;
    }
  }

  private addressOf(pod: k8s.V1Pod): string | undefined {
    const ip = pod.status?.podIP;
    if (ip === undefined || ip === '') return undefined;
    const named = pod.spec?.containers.flatMap((container) => container.ports ?? []).find((port) => port.name === 'grpc');
    const port = named?.containerPort ?? this.options.grpcPortDefault;
    return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

}

function memberReports(observation: ScaleObservation): MemberReport[] {
  return [...observation.pods].sort((a, b) => a.ordinal - b.ordinal).map((pod) => {
    const probe = observation.nodes.get(pod.name);
    if (pod.address === undefined || probe === undefined) return { name: pod.name, ready: pod.ready, ringState: 'NOT_RUNNING' };
    if (!probe.ok) return { name: pod.name, ready: pod.ready, ringState: 'UNREACHABLE' };
    const { ringState, stream } = probe.status;
    return {
      name: pod.name,
      ready: pod.ready,
      ringState: ringState === '' ? 'UNKNOWN' : ringState.slice(0, 32),
      ...(stream === undefined ? {} : { rangesDone: stream.rangesDone, rangesTotal: stream.rangesTotal, streamedKeys: stream.keys, streamedBytes: stream.bytes }),
    };
  });
}

/** JSON with object keys sorted and undefined dropped: the API server sorts stored keys. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

function isReady(pod: k8s.V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp !== undefined) return false;
  return pod.status?.conditions?.some((item) => item.type === 'Ready' && item.status === 'True') ?? false;
}

function integerOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function messageOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

/** The API server's own message of a refused call (a Status object's message), or the error's. */
function apiMessageOf(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // Not a Status object: the error's own message says more.
    }
  }
  return messageOf(error);
}

/** The HTTP status of a failed client-node call (ApiException.code), if any. */
function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
