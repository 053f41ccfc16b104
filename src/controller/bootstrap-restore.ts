// The bootstrap restore of a new cluster (docs/decisions/0185-bootstrap-restore.md): a
// QuorumKVCluster with spec.bootstrap.restore starts from a backup set. The backup
// controller calls `step()` at each look; it
//  - waits until spec.replicas members are ready (a restore writes every record to the
//    replicas the ring names, so the ring must be whole first);
//  - restores the set once, through a member's Admin.Restore, recording each attempt in
//    status.bootstrap (phase, attempts, set id, records, bytes, times) and its outcome in
//    the condition Bootstrapped, with Events BootstrapStarted, BootstrapSucceeded and
//    BootstrapFailed on the QuorumKVCluster;
//  - retries a failed attempt after a back-off that doubles from BOOTSTRAP_RETRY_MS_MIN to
//    BOOTSTRAP_RETRY_MS_MAX, the next time in status.bootstrap.nextAttemptTime so that a restarted
//    controller keeps it;
//  - never runs it again once status.bootstrap.phase is Succeeded, whatever the spec says
//    later: the record lives in the resource, not in this process.
// An attempt found Running was left by a controller that stopped; it is run again (a
// restore is idempotent: last writer wins, ADR 0141).
//
// Bootstrapped=False until then is the signal that the cluster holds none or part of its
// data: `kubectl wait --for=condition=Bootstrapped` waits on it, and the scheduled backups
// of this cluster wait for it too (an empty cluster's backup would become the newest set).
import * as k8s from '@kubernetes/client-node';
import { parseBootstrapRestore, type BootstrapRestoreSpec } from '../kubernetes/backup-resource.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../kubernetes/cluster-spec.js';
import { condition, mergeConditions, type Condition } from '../kubernetes/status-condition.js';
import type { Logger } from '../logging/logger.js';
import type { RestoreProgressView } from './backup-admin.js';
import type { ClusterEventRecorder } from './cluster-events.js';

export const BOOTSTRAPPED_CONDITION = 'Bootstrapped';
/** The first wait after a failed attempt; it doubles with each further failure. */
export const BOOTSTRAP_RETRY_MS_MIN = 10_000;
/** The longest wait between attempts. */
export const BOOTSTRAP_RETRY_MS_MAX = 300_000;
/** How often a running restore's progress is written to status.bootstrap. */
const PROGRESS_WRITE_INTERVAL_MS = 2_000;

export type BootstrapPhase = 'Running' | 'Succeeded' | 'Failed';

export interface BootstrapStatus {
  readonly phase?: BootstrapPhase;
  readonly attempts?: number;
  readonly backupId?: string;
  readonly member?: string;
  readonly records?: number;
  readonly bytes?: number;
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly nextAttemptTime?: string;
  readonly lastError?: string;
}

interface ClusterObject {
  readonly metadata?: { readonly name?: string; readonly uid?: string; readonly resourceVersion?: string; readonly generation?: number };
  readonly spec?: { readonly replicas?: unknown };
  readonly status?: { readonly bootstrap?: BootstrapStatus; readonly conditions?: readonly Condition[] };
}

/** The outcome of one restore through the members: the last progress, or the error's code. */
export type RestoreOutcome = { ok: true; last: RestoreProgressView; member: string } | { ok: false; code: string; message: string };

export interface BootstrapRestoreOptions {
  readonly custom: k8s.CustomObjectsApi;
  readonly events: ClusterEventRecorder;
  readonly namespace: string;
  readonly clusterResource: string;
  /** gRPC addresses of the cluster's ready members. */
  readonly members: () => Promise<readonly string[]>;
  /** Runs Admin.Restore on the first member that answers (the backup controller's). */
  readonly restore: (spec: BootstrapRestoreSpec, onProgress: (progress: RestoreProgressView) => void) => Promise<RestoreOutcome>;
  readonly logger: Logger;
  readonly now: () => number;
}

export class BootstrapRestore {
  private lastSpecProblem = '';

  constructor(private readonly options: BootstrapRestoreOptions) {}

  /**
   * One look at the cluster: starts, retries or records the bootstrap restore. Resolves
   * true when the cluster has its data (no bootstrap asked for, or it succeeded), false
   * while it waits or restores, and undefined when there is no QuorumKVCluster.
   */
  async step(): Promise<boolean | undefined> {
    const cluster = await this.get();
    if (cluster === undefined) return undefined;
    let spec: BootstrapRestoreSpec | undefined;
    try {
      spec = parseBootstrapRestore(cluster.spec);
    } catch (error) {
      const problem = messageOf(error);
      await this.setCondition(cluster, false, 'SpecInvalid', problem);
      if (problem !== this.lastSpecProblem) await this.event(cluster, 'Warning', 'BootstrapFailed', `SpecInvalid: ${problem}`);
      this.lastSpecProblem = problem;
      return false;
    }
    if (spec === undefined) return true;
    const status = cluster.status?.bootstrap ?? {};
    if (status.phase === 'Succeeded') {
      // A node's status write may have dropped the condition (it merges from its last view).
      await this.setCondition(cluster, true, 'Restored', succeededMessage(status));
      return true;
    }
    const nextAttemptMs = Date.parse(status.nextAttemptTime ?? '');
    if (status.phase === 'Failed' && nextAttemptMs > this.options.now()) {
      await this.setCondition(cluster, false, conditionReasonOf(status.lastError), `attempt ${status.attempts ?? 0} failed: ${status.lastError ?? ''}; next at ${status.nextAttemptTime}`);
      return false;
    }
    const wanted = integerOr(cluster.spec?.replicas, 1);
    const members = await this.options.members().catch(() => [] as readonly string[]);
    if (members.length < wanted) {
      await this.setCondition(cluster, false, 'WaitingForMembers', `${members.length} of ${wanted} members ready; the restore starts when all are`);
      return false;
    }
    await this.attempt(cluster, spec, status);
    return false;
  }

  private async attempt(cluster: ClusterObject, spec: BootstrapRestoreSpec, previous: BootstrapStatus): Promise<void> {
    const attempts = (previous.attempts ?? 0) + 1;
    const what = spec.backupId === '' ? `the newest backup set in ${spec.destination}` : `backup set ${spec.backupId} from ${spec.destination}`;
    const startTime = isoOf(this.options.now());
    const running: BootstrapStatus = { phase: 'Running', attempts, startTime, backupId: spec.backupId, records: 0, bytes: 0 };
    // Claimed with the resourceVersion it was decided from: a second controller gets a conflict.
    const claimed = await this.patch(cluster, { bootstrap: { ...running, completionTime: null, nextAttemptTime: null, lastError: null } }, [condition(cluster.status?.conditions ?? [], BOOTSTRAPPED_CONDITION, false, 'Restoring', `restoring ${what} (attempt ${attempts})`, cluster.metadata?.generation)], true);
    if (claimed === undefined) return;
    if (previous.phase === 'Running') this.options.logger.warn({ attempts }, 'bootstrap restore: the previous attempt was interrupted (controller restart); running it again');
    await this.event(cluster, 'Normal', 'BootstrapStarted', `restoring ${what} before the cluster takes traffic (attempt ${attempts})`);
    this.options.logger.info({ destination: spec.destination, backupId: spec.backupId, attempts }, 'bootstrap restore started');
    let lastWrite = 0;
    let progressWrite: Promise<unknown> = Promise.resolve();
    const onProgress = (progress: RestoreProgressView): void => {
      if (Date.now() - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
      lastWrite = Date.now();
      progressWrite = progressWrite.then(() => this.patch(claimed, { bootstrap: { backupId: progress.backupId, records: progress.records, bytes: progress.bytes } }, undefined, false).catch(() => undefined));
    };
    const outcome = await this.options.restore(spec, onProgress);
    await progressWrite;
    const completionTime = isoOf(this.options.now());
    if (outcome.ok) {
      const done: BootstrapStatus = { ...running, phase: 'Succeeded', backupId: outcome.last.backupId, member: outcome.member, records: outcome.last.records, bytes: outcome.last.bytes, completionTime };
      const message = succeededMessage(done);
      await this.patch(claimed, { bootstrap: done }, [condition(claimed.status?.conditions ?? [], BOOTSTRAPPED_CONDITION, true, 'Restored', message, claimed.metadata?.generation)], false);
      await this.event(cluster, 'Normal', 'BootstrapSucceeded', message);
      this.options.logger.info({ backupId: done.backupId, records: done.records, attempts }, 'bootstrap restore succeeded');
      return;
    }
    const waitMs = Math.min(BOOTSTRAP_RETRY_MS_MAX, BOOTSTRAP_RETRY_MS_MIN * 2 ** Math.min(attempts - 1, 30));
    const nextAttemptTime = isoOf(this.options.now() + waitMs);
    const lastError = `${outcome.code}: ${outcome.message}`;
    const failed = { phase: 'Failed', completionTime, nextAttemptTime, lastError };
    const message = `attempt ${attempts} failed: ${lastError}; next at ${nextAttemptTime}`;
    await this.patch(claimed, { bootstrap: failed }, [condition(claimed.status?.conditions ?? [], BOOTSTRAPPED_CONDITION, false, outcome.code, message, claimed.metadata?.generation)], false);
    await this.event(cluster, 'Warning', 'BootstrapFailed', message);
    this.options.logger.warn({ code: outcome.code, reason: outcome.message, attempts, nextAttemptTime }, 'bootstrap restore failed; it is retried');
  }

  /** Writes the condition when it differs from the one the resource has. */
  private async setCondition(cluster: ClusterObject, isTrue: boolean, reason: string, message: string): Promise<void> {
    const previous = cluster.status?.conditions ?? [];
    const before = previous.find((item) => item.type === BOOTSTRAPPED_CONDITION);
    if (before !== undefined && before.status === (isTrue ? 'True' : 'False') && before.reason === reason && before.message === message) return;
    await this.patch(cluster, {}, [condition(previous, BOOTSTRAPPED_CONDITION, isTrue, reason, message, cluster.metadata?.generation)], false);
  }

  private async get(): Promise<ClusterObject | undefined> {
    const { custom, namespace, clusterResource } = this.options;
    try {
      return (await custom.getNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name: clusterResource })) as ClusterObject;
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }

  /**
   * A merge patch of the status: `fields`, and the Bootstrapped condition merged into the
   * others as `cluster` has them. Guarded by the resourceVersion when `guarded`; undefined
   * when that conflicts (409) or the resource is gone (404).
   */
  private async patch(cluster: ClusterObject, fields: Record<string, unknown>, owned: readonly Condition[] | undefined, guarded: boolean): Promise<ClusterObject | undefined> {
    const { custom, namespace, clusterResource } = this.options;
    const status = { ...fields, ...(owned === undefined ? {} : { conditions: mergeConditions(cluster.status?.conditions ?? [], owned) }) };
    const resourceVersion = guarded ? cluster.metadata?.resourceVersion : undefined;
    try {
      return (await custom.patchNamespacedCustomObjectStatus(
        { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name: clusterResource, body: { ...(resourceVersion === undefined ? {} : { metadata: { resourceVersion } }), status } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as ClusterObject;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 409 || code === 404) return undefined;
      throw error;
    }
  }

  private async event(cluster: ClusterObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await this.options.events.record(
      { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: 'QuorumKVCluster', namespace: this.options.namespace, name: this.options.clusterResource, ...(cluster.metadata?.uid === undefined ? {} : { uid: cluster.metadata.uid }) },
      type,
      reason,
      message,
    );
  }
}

function succeededMessage(status: BootstrapStatus): string {
  return `backup set ${status.backupId ?? ''} restored: ${status.records ?? 0} records, ${status.bytes ?? 0} bytes (attempt ${status.attempts ?? 1})`;
}

/** The error's stable code, the part of lastError before the colon. */
function conditionReasonOf(lastError: string | undefined): string {
  const code = /^([A-Za-z_]+):/.exec(lastError ?? '')?.[1];
  return code ?? 'Failed';
}

function integerOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
