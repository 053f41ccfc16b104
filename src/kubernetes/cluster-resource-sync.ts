// Keeps a node in step with its QuorumKVCluster resource (docs/decisions/0052):
// - watches the one resource (list/watch by name, ./list-watch.ts) and applies its
//   live settings to the node as soon as they change;
// - compares the restart-only settings (N, vnodes, fsync) with what the node runs and
//   never applies them while it runs: they are reported in the RestartRequired
//   condition until the pods restart with them;
// - writes the status (observedGeneration, members, ring digest, Ready and Degraded
//   conditions). Every node could; to keep the writes few and the status coherent,
//   only the node whose id sorts first among the ready members it sees writes it.
//   Conditions it does not own (the scale controller's Scaling) are sent back as they
//   were, since a merge patch replaces the whole list.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../logging/logger.js';
import type { Member } from '../ring/member.js';
import { ListWatch, type ListWatchTiming } from './list-watch.js';
import {
  CLUSTER_GROUP,
  CLUSTER_PLURAL,
  CLUSTER_VERSION,
  parseClusterSpec,
  pendingRestartChanges,
  type LiveSettings,
  type RestartSettings,
} from './cluster-spec.js';
import { condition, mergeConditions, type Condition } from './status-condition.js';

export interface ClusterNodeView {
  readonly nodeId: string;
  runningRestartSettings(): RestartSettings;
  /** Throws (ConfigInvalidError) and changes nothing when a value is refused. */
  applyLive(settings: LiveSettings): void;
  members(): readonly Member[];
  ringDigest(): string | undefined;
}

export interface ClusterResourceSyncOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly node: ClusterNodeView;
  readonly logger: Logger;
  readonly timing?: Partial<ListWatchTiming>;
}

interface ClusterObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string; readonly generation?: number };
  readonly spec?: unknown;
  readonly status?: { readonly conditions?: readonly Condition[] };
}

export class ClusterResourceSync {
  private readonly watch: ListWatch<ClusterObject>;
  private readonly api: k8s.CustomObjectsApi;
  private current: ClusterObject | undefined;
  private appliedGeneration: number | undefined;
  private appliedLive = '';
  private specError: string | undefined;
  private lastStatus = '';
  private writing: Promise<void> = Promise.resolve();
  private missingLogged = false;

  constructor(private readonly options: ClusterResourceSyncOptions) {
    this.api = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    const { namespace, name } = options;
    const base = { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL };
    this.watch = new ListWatch<ClusterObject>({
      kubeConfig: options.kubeConfig,
      path: `/apis/${CLUSTER_GROUP}/${CLUSTER_VERSION}/namespaces/${encodeURIComponent(namespace)}/${CLUSTER_PLURAL}`,
      fieldSelector: `metadata.name=${name}`,
      list: async (query) => (await this.api.listNamespacedCustomObject({ ...base, ...query })) as { items?: ClusterObject[]; metadata?: { resourceVersion?: string } },
      what: `QuorumKVCluster ${name}`,
      logger: options.logger,
      timing: options.timing,
      onChange: (objects) => this.onResource(objects.get(name)),
    });
  }

  start(): Promise<void> {
    return this.watch.start();
  }

  async stop(): Promise<void> {
    await this.watch.stop();
    await this.writing;
  }

  /** The node calls this after its member list or ring changed. */
  membersChanged(): void {
    this.scheduleStatus();
  }

  private onResource(resource: ClusterObject | undefined): void {
    const { logger, node, name } = this.options;
    this.current = resource;
    if (resource === undefined) {
      if (!this.missingLogged) logger.warn({ cluster: name }, 'QuorumKVCluster not found; running on the configured settings');
      this.missingLogged = true;
      return;
    }
    this.missingLogged = false;
    try {
      const spec = parseClusterSpec(resource.spec);
      const liveText = JSON.stringify(spec.live);
      if (liveText !== this.appliedLive) {
        node.applyLive(spec.live);
        logger.info({ cluster: name, generation: resource.metadata?.generation, live: spec.live }, 'applied live settings from QuorumKVCluster');
        this.appliedLive = liveText;
      }
      this.specError = undefined;
      this.appliedGeneration = resource.metadata?.generation;
    } catch (error) {
      this.specError = error instanceof Error ? error.message : String(error);
      logger.error({ err: error, cluster: name, generation: resource.metadata?.generation }, 'QuorumKVCluster spec refused; keeping the current settings');
    }
    this.scheduleStatus();
  }

  private scheduleStatus(): void {
    this.writing = this.writing.then(() => this.writeStatus()).catch((error: unknown) => {
      this.options.logger.warn({ err: error, cluster: this.options.name }, 'writing QuorumKVCluster status failed');
    });
  }

  private isStatusWriter(members: readonly Member[]): boolean {
    const ready = members.filter((member) => member.ready).map((member) => member.id).sort();
    return ready.length === 0 ? true : ready[0] === this.options.node.nodeId;
  }

  private async writeStatus(): Promise<void> {
    const resource = this.current;
    if (resource === undefined) return;
    const { node, namespace, name } = this.options;
    const members = node.members();
    if (!this.isStatusWriter(members)) return;
    const generation = resource.metadata?.generation;
    const readyMembers = members.filter((member) => member.ready).length;
    let pending: string[] = [];
    let replicationFactor = node.runningRestartSettings().replicationFactor;
    try {
      const spec = parseClusterSpec(resource.spec);
      pending = pendingRestartChanges(spec.restart, node.runningRestartSettings());
      replicationFactor = spec.restart.replicationFactor;
    } catch {
      // Reported through SpecInvalid below.
    }
    const enough = readyMembers >= replicationFactor && readyMembers === members.length;
    const previous = resource.status?.conditions ?? [];
    const owned: Condition[] = [
      condition(previous, 'Ready', enough, enough ? 'AllMembersReady' : 'MembersNotReady', `${readyMembers} of ${members.length} members ready; replication factor ${replicationFactor}`, generation),
      condition(previous, 'Degraded', !enough, enough ? 'AllMembersReady' : readyMembers < replicationFactor ? 'FewerReadyMembersThanReplicas' : 'MembersNotReady', `${readyMembers} of ${members.length} members ready`, generation),
      condition(previous, 'RestartRequired', pending.length > 0, pending.length > 0 ? 'NonLiveChange' : 'UpToDate', pending.length > 0 ? `not applied while running; restart the pods to apply: ${pending.join(', ')}` : 'every setting in the spec is in effect', generation),
      condition(previous, 'SpecInvalid', this.specError !== undefined, this.specError !== undefined ? 'Refused' : 'Accepted', this.specError ?? 'the spec was accepted', generation),
    ];
    const status = {
      observedGeneration: this.appliedGeneration,
      readyMembers,
      ringDigest: node.ringDigest() ?? '',
      reportedBy: node.nodeId,
      members: members.map((member) => ({ name: member.id, address: member.address, ready: member.ready, ...(member.zone === undefined ? {} : { zone: member.zone }) })),
      conditions: owned,
    };
    // Only what this node owns decides whether to write; others' conditions changing
    // (the controller's Scaling) is no reason to write again.
    const text = JSON.stringify(status);
    if (text === this.lastStatus) return;
    await this.api.patchNamespacedCustomObjectStatus(
      { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name, body: { status: { ...status, conditions: mergeConditions(previous, owned) } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    this.lastStatus = text;
  }
}
