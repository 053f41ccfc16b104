// The backup controller (part of `qkv controller`; docs/decisions/0146-backup-resources.md,
// 0147-backup-schedule.md). Every `pollMs` it looks at the QuorumKVBackups of its
// namespace and its QuorumKVCluster's spec.backup, and:
//  - runs each new backup of its cluster (no phase, or Pending) once, through a member's Admin.Backup:
//    Running with a start time, progress while it runs, then Succeeded with the set's id,
//    size and completion time, or Failed with the error's code and message in the
//    Complete condition; an Event for the start, the success and the failure;
//  - runs each new QuorumKVRestore of its cluster the same way through Admin.Restore,
//    with its own Events (RestoreStarted, RestoreSucceeded, RestoreFailed);
//  - marks Failed a backup or restore left Running by a controller that stopped (the member's call
//    ended with it, and a set without its manifest is no backup);
//  - creates a scheduled backup when the newest one the schedule made is `every` old, or
//    when a time of its cron `schedule` has passed since it and since the schedule was
//    recorded in status.backupSchedule (0250-cron-backup-schedules.md, 0251-cron-schedule-since-in-status.md);
//    a spec.backup it cannot read is a warning in the log and a Warning Event
//    BackupScheduleInvalid on the QuorumKVCluster;
//  - deletes the scheduled backups that succeeded beyond the newest `retention`, except the
//    newest complete set (./backup-retention.ts), their backup sets first (manifest first,
//    so a half-deleted set is never taken for whole);
//  - restores a new cluster's spec.bootstrap.restore first (./bootstrap-restore.ts), and
//    schedules no backup of it until that has succeeded.
// One backup or restore at a time: a cluster backup already reads every member, and two at once
// would only compete for the same disks.
//
// Status writes carry the resourceVersion they were decided from, so a second controller
// (a rollout overlap) that claims the same backup gets a conflict and leaves it alone.
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { BackupStore } from '../backup/backup-store.js';
import { MANIFEST_NAME } from '../backup/backup-manifest.js';
import { membersRead, missingMembersGuarantee } from '../backup/missing-members-guarantee.js';
import { isQkvError } from '../errors/errors.js';
import {
  BACKUP_KIND,
  BACKUP_PLURAL,
  parseBackupSchedule,
  parseBackupSpec,
  parseRestoreSpec,
  RESTORE_KIND,
  RESTORE_PLURAL,
  SCHEDULE_LABEL,
  type BackupPhase,
  type BackupSchedule,
  type CronBackupSchedule,
} from '../kubernetes/backup-resource.js';
import { CLUSTER_GROUP, CLUSTER_PLURAL, CLUSTER_VERSION } from '../kubernetes/cluster-spec.js';
import { condition, type Condition } from '../kubernetes/status-condition.js';
import { WakeableSleep } from '../kubernetes/wakeable-sleep.js';
import { KUBE_WATCH_OBJECTS_MAX } from '../limits.js';
import type { Logger } from '../logging/logger.js';
import type { BackupAdmin, BackupProgressView, RestoreProgressView } from './backup-admin.js';
import { backupsBeyondRetention } from './backup-retention.js';
import { BootstrapRestore } from './bootstrap-restore.js';
import { ClusterEventRecorder } from './cluster-events.js';

export const COMPLETE_CONDITION = 'Complete';
/** When the schedule made a backup, by the controller's clock (creation times are the API server's). */
export const SCHEDULED_AT_ANNOTATION = 'quorumkv.io/scheduled-at';
/** How often a running backup's progress is written to its status. */
const PROGRESS_WRITE_INTERVAL_MS = 2_000;
const COMPONENT = 'qkv-controller';
const CLUSTER_KIND = 'QuorumKVCluster';

/** The two resources this controller runs, and the words of their Events. */
interface Resource {
  readonly plural: string;
  readonly kind: string;
  /** Event reasons: `${word}Started`, `${word}Succeeded`, `${word}Failed`. */
  readonly word: 'Backup' | 'Restore';
}
const BACKUP: Resource = { plural: BACKUP_PLURAL, kind: BACKUP_KIND, word: 'Backup' };
const RESTORE: Resource = { plural: RESTORE_PLURAL, kind: RESTORE_KIND, word: 'Restore' };

export interface BackupControllerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  /** The QuorumKVCluster whose spec.backup schedules backups. */
  readonly clusterResource: string;
  readonly backupAdmin: BackupAdmin;
  /** gRPC addresses of the cluster's ready members, the first tried first. */
  readonly members: () => Promise<readonly string[]>;
  /** Opens a destination for retention to delete old sets from. */
  readonly openStore: (destination: string) => BackupStore;
  readonly logger: Logger;
  readonly pollMs: number;
  /** The clock of the schedule and of the bootstrap's retries; Date.now unless a test moves time. */
  readonly now?: () => number;
}

/** status.backupSchedule of the QuorumKVCluster: the cron schedule in force (as CronSchedule.toString()) and since when. */
interface CronScheduleStatus {
  readonly schedule?: string;
  readonly since?: string;
}

interface BackupObject {
  readonly metadata?: {
    readonly name?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    readonly creationTimestamp?: string | Date;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: unknown;
  readonly status?: {
    readonly phase?: BackupPhase;
    readonly backupId?: string;
    readonly completionTime?: string;
    readonly conditions?: readonly Condition[];
    /** Members the set lacks (ADR 0245); absent on sets written before the field. */
    readonly missingMembers?: readonly string[];
  };
}

export class BackupController {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly pause = new WakeableSleep();
  private readonly now: () => number;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastScheduleProblem = '';
  private readonly clusterEvents: ClusterEventRecorder;
  private readonly bootstrap: BootstrapRestore;

  constructor(private readonly options: BackupControllerOptions) {
    this.custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.core = options.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.now = options.now ?? Date.now;
    this.clusterEvents = new ClusterEventRecorder(this.core, options.logger, hostname());
    this.bootstrap = new BootstrapRestore({
      custom: this.custom,
      events: this.clusterEvents,
      namespace: options.namespace,
      clusterResource: options.clusterResource,
      members: options.members,
      restore: (spec, onProgress) => this.onMembers((address) => this.options.backupAdmin.restore(address, spec.destination, spec.backupId, onProgress)),
      logger: options.logger,
      now: this.now,
    });
  }

  start(): void {
    this.options.logger.info({ namespace: this.options.namespace, cluster: this.options.clusterResource }, 'backup controller starting');
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.running;
  }

  /** Looks now instead of at the next poll. */
  wake(): void {
    this.pause.wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.look();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'backup controller: a look failed; trying again');
      }
      if (this.stopped) break;
      await this.pause.sleep(this.options.pollMs);
    }
  }

  private async look(): Promise<void> {
    // Before the backups: a cluster still restoring its bootstrap set is not backed up.
    let bootstrapped: boolean | undefined = false;
    try {
      bootstrapped = await this.bootstrap.step();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'bootstrap restore: a look failed; trying again');
    }
    for (const resource of [BACKUP, RESTORE]) {
      for (const object of await this.list(resource)) {
        if (this.stopped) return;
        // Another release's controller runs its own cluster's (a namespace may hold two).
        if ((object.spec as { cluster?: unknown } | undefined)?.cluster !== this.options.clusterResource) continue;
        const phase = object.status?.phase;
        // One this process is not running but that says Running was left by a controller that stopped.
        if (phase === 'Running') await this.finish(resource, object, undefined, 'Failed', 'Interrupted', `the controller running this ${resource.word.toLowerCase()} stopped before it ended; create another`, undefined);
        else if (phase === undefined || phase === 'Pending') await (resource === BACKUP ? this.run(object) : this.runRestore(object));
      }
    }
    if (bootstrapped !== false) await this.schedule(await this.list(BACKUP));
  }

  private async runRestore(restore: BackupObject): Promise<void> {
    const name = restore.metadata?.name ?? '';
    let spec;
    try {
      spec = parseRestoreSpec(restore.spec);
    } catch (error) {
      await this.finish(RESTORE, restore, undefined, 'Failed', 'SpecInvalid', messageOf(error), undefined);
      return;
    }
    const startTime = isoNow();
    const claimed = await this.patchStatus(RESTORE, restore, { phase: 'Running', startTime, conditions: [condition(restore.status?.conditions ?? [], COMPLETE_CONDITION, false, 'Running', 'the restore is running', restore.metadata?.generation)] });
    if (claimed === undefined) return;
    await this.event(RESTORE, restore, 'Normal', 'RestoreStarted', `restoring ${spec.backupId === '' ? 'the newest backup set' : `backup set ${spec.backupId}`} from ${spec.destination} into cluster ${spec.cluster}`);
    let lastWrite = 0;
    let progressWrite: Promise<unknown> = Promise.resolve();
    const onProgress = (progress: RestoreProgressView): void => {
      if (Date.now() - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
      lastWrite = Date.now();
      progressWrite = progressWrite.then(() => this.patchStatus(RESTORE, undefinedVersion(claimed), restoreStatus(progress)).catch(() => undefined));
    };
    const outcome = await this.onMembers((address) => this.options.backupAdmin.restore(address, spec.destination, spec.backupId, onProgress));
    await progressWrite;
    if (outcome.ok) {
      const { last, member } = outcome;
      const message = `backup set ${last.backupId} restored: ${last.filesTotal} files, ${last.records} records, ${last.bytes} bytes`;
      await this.finish(RESTORE, claimed, startTime, 'Succeeded', 'Succeeded', message, { ...restoreStatus(last), member });
      this.options.logger.info({ restore: name, backupId: last.backupId, records: last.records }, 'restore succeeded');
    } else {
      await this.finish(RESTORE, claimed, startTime, 'Failed', outcome.code, outcome.message, undefined);
      this.options.logger.warn({ restore: name, code: outcome.code, reason: outcome.message }, 'restore failed');
    }
  }

  /** Runs `call` on the first member that answers; an unreachable member passes to the next. */
  private async onMembers<T>(call: (address: string) => Promise<T>): Promise<{ ok: true; last: T; member: string } | { ok: false; code: string; message: string }> {
    const members = await this.options.members().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'cannot list the members');
      return [] as string[];
    });
    let outcome: { ok: true; last: T; member: string } | { ok: false; code: string; message: string } = { ok: false, code: 'NoMember', message: 'no ready member of the cluster to run it' };
    for (const address of members) {
      try {
        return { ok: true, last: await call(address), member: address };
      } catch (error) {
        outcome = { ok: false, code: isQkvError(error) ? error.code : 'Error', message: messageOf(error) };
        // Another member may answer; any other error is the call's own and final.
        if (!isQkvError(error) || error.code !== 'PEER_UNREACHABLE') break;
      }
    }
    return outcome;
  }

  private async run(backup: BackupObject): Promise<void> {
    const name = backup.metadata?.name ?? '';
    let spec;
    try {
      spec = parseBackupSpec(backup.spec);
    } catch (error) {
      await this.finish(BACKUP, backup, undefined, 'Failed', 'SpecInvalid', messageOf(error), undefined);
      return;
    }
    const startTime = isoNow();
    const claimed = await this.patchStatus(BACKUP, backup, { phase: 'Running', startTime, conditions: [condition(backup.status?.conditions ?? [], COMPLETE_CONDITION, false, 'Running', 'the backup is running', backup.metadata?.generation)] });
    if (claimed === undefined) return;
    await this.event(BACKUP, backup, 'Normal', 'BackupStarted', `backing up cluster ${spec.cluster} to ${spec.destination}`);
    this.options.logger.info({ backup: name, destination: spec.destination }, 'backup started');
    let lastWrite = 0;
    let progressWrite: Promise<unknown> = Promise.resolve();
    const onProgress = (progress: BackupProgressView): void => {
      if (Date.now() - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
      lastWrite = Date.now();
      // Written without a resourceVersion: only this process writes a Running backup's status.
      progressWrite = progressWrite.then(() => this.patchStatus(BACKUP, undefinedVersion(claimed), progressStatus(progress)).catch(() => undefined));
    };
    const outcome = await this.onMembers((address) => this.options.backupAdmin.backup(address, spec.destination, onProgress));
    await progressWrite;
    if (outcome.ok) {
      const { last, member } = outcome;
      const missing = last.missingMembers.map((entry) => entry.nodeId);
      const message = `backup set ${last.backupId} at ${last.location}: ${membersRead(last.membersTotal, missing)}, ${last.records} records, ${last.bytes} bytes`;
      await this.finish(BACKUP, claimed, startTime, 'Succeeded', 'Succeeded', message, { ...progressStatus(last), member });
      this.options.logger.info({ backup: name, backupId: last.backupId, records: last.records, bytes: last.bytes, missingMembers: missing }, 'backup succeeded');
      if (missing.length > 0) {
        // The set is usable, but an operator must see that it lacks members: a write only
        // missing members acknowledged may not be in it (docs/operations/backup.md).
        const reasons = last.missingMembers.map((entry) => `${entry.nodeId} (${entry.reason})`).join(', ');
        await this.event(BACKUP, claimed, 'Warning', 'BackupMembersMissing', `backup set ${last.backupId} lacks ${reasons}; every token range came from another replica, and ${missingMembersGuarantee(missing.length)}`);
        this.options.logger.warn({ backup: name, backupId: last.backupId, missingMembers: missing }, 'backup succeeded without some members');
      }
    } else {
      await this.finish(BACKUP, claimed, startTime, 'Failed', outcome.code, outcome.message, undefined);
      this.options.logger.warn({ backup: name, code: outcome.code, reason: outcome.message }, 'backup failed');
    }
  }

  /** The end of a backup or restore: its phase, the Complete condition and an Event. */
  private async finish(resource: Resource, backup: BackupObject, startTime: string | undefined, phase: 'Succeeded' | 'Failed', reason: string, message: string, extra: Record<string, unknown> | undefined): Promise<void> {
    const conditions = [condition(backup.status?.conditions ?? [], COMPLETE_CONDITION, phase === 'Succeeded', reason, message, backup.metadata?.generation)];
    const patched = await this.patchStatus(resource, undefinedVersion(backup), { phase, ...(startTime === undefined ? {} : { startTime }), completionTime: isoNow(), conditions, ...extra });
    if (patched === undefined) return;
    await this.event(resource, backup, phase === 'Succeeded' ? 'Normal' : 'Warning', `${resource.word}${phase}`, phase === 'Succeeded' ? message : `${reason}: ${message}`);
  }

  private async schedule(backups: readonly BackupObject[]): Promise<void> {
    const { clusterResource, namespace } = this.options;
    let cluster: { metadata?: { uid?: string }; spec?: unknown; status?: { backupSchedule?: CronScheduleStatus } };
    try {
      cluster = (await this.custom.getNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name: clusterResource })) as typeof cluster;
    } catch (error) {
      // No QuorumKVCluster (yet): nothing is scheduled, and nothing is wrong.
      if (httpStatusOf(error) === 404) return;
      const problem = messageOf(error);
      if (problem !== this.lastScheduleProblem) this.options.logger.warn({ err: error }, 'backup schedule: cannot read the QuorumKVCluster');
      this.lastScheduleProblem = problem;
      return;
    }
    let schedule: BackupSchedule | undefined;
    try {
      schedule = parseBackupSchedule(cluster.spec);
      this.lastScheduleProblem = '';
    } catch (error) {
      // A spec the CRD's schema let through (an older CRD, a time zone this Node.js lacks):
      // said once per problem, in the log and where `kubectl describe` shows it.
      const problem = messageOf(error);
      if (problem !== this.lastScheduleProblem) {
        this.options.logger.warn({ err: error }, 'backup schedule: cannot read the QuorumKVCluster\'s spec.backup; no scheduled backups until it is fixed');
        const uid = cluster.metadata?.uid;
        await this.clusterEvents.record({ apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: CLUSTER_KIND, namespace, name: clusterResource, ...(uid === undefined ? {} : { uid }) }, 'Warning', 'BackupScheduleInvalid', problem);
      }
      this.lastScheduleProblem = problem;
      return;
    }
    if (schedule === undefined) return;
    const scheduled = backups.filter((backup) => backup.metadata?.labels?.[SCHEDULE_LABEL] === clusterResource);
    const newestAt = Math.max(-Infinity, ...scheduled.map(scheduledAtOf));
    const now = this.now();
    // Times missed while the controller was down make one backup, and the next counts from it.
    let dueAtMs: number;
    if ('everyMs' in schedule) {
      await this.forgetCronSchedule(cluster.status?.backupSchedule);
      dueAtMs = newestAt + schedule.everyMs;
    } else {
      const fromMs = Math.max(newestAt, await this.cronScheduleSinceMs(schedule, cluster.status?.backupSchedule, now));
      // A time ahead of this clock (another controller's clock) is not due before it passes.
      dueAtMs = fromMs > now ? Infinity : schedule.cron.nextAfter(fromMs);
    }
    if (now >= dueAtMs) await this.createScheduled(schedule, now);
    await this.prune(scheduled, schedule);
  }

  /**
   * Since when the cron schedule has been in force, from status.backupSchedule, where it
   * is recorded the first time the controller sees it and again when schedule or timeZone
   * changes (ADR 0251). A cron backup is due at the first time of the schedule after both
   * this and the newest scheduled backup: the first one waits for the schedule's first time
   * ("0 3 * * *" means 03:00, not now), an edit makes nothing at once, and, the record being
   * in the resource, a controller restarted across a time still makes that time's backup.
   */
  private async cronScheduleSinceMs(schedule: CronBackupSchedule, recorded: CronScheduleStatus | undefined, nowMs: number): Promise<number> {
    const text = schedule.cron.toString();
    const recordedMs = Date.parse(recorded?.since ?? '');
    if (recorded?.schedule === text && !Number.isNaN(recordedMs)) return recordedMs;
    // Written before any backup counts from it: a failed write fails this look, and the
    // next look tries again, instead of keeping a time only this process knows.
    const since = new Date(nowMs).toISOString();
    await this.patchClusterStatus({ backupSchedule: { schedule: text, since } });
    this.options.logger.info({ schedule: text, since, firstAt: new Date(schedule.cron.nextAfter(nowMs)).toISOString() }, 'backup schedule recorded');
    return nowMs;
  }

  /** Drops status.backupSchedule under an `every` interval, so a cron schedule set again later counts from then. */
  private async forgetCronSchedule(recorded: CronScheduleStatus | undefined): Promise<void> {
    if (recorded !== undefined) await this.patchClusterStatus({ backupSchedule: null });
  }

  /** A merge patch of the QuorumKVCluster's status (fields other writers own are left alone). */
  private async patchClusterStatus(status: Record<string, unknown>): Promise<void> {
    const { clusterResource, namespace } = this.options;
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: CLUSTER_PLURAL, name: clusterResource, body: { status } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  private async createScheduled(schedule: BackupSchedule, now: number): Promise<void> {
    const { clusterResource, namespace } = this.options;
    const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
    const name = `${clusterResource}-${stamp}`.slice(0, 253);
    const body = {
      apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`,
      kind: BACKUP_KIND,
      metadata: { name, labels: { [SCHEDULE_LABEL]: clusterResource }, annotations: { [SCHEDULED_AT_ANNOTATION]: new Date(now).toISOString() } },
      spec: { cluster: clusterResource, destination: schedule.destination },
    };
    try {
      await this.custom.createNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace, plural: BACKUP_PLURAL, body });
      const cronNext = 'cron' in schedule ? { schedule: schedule.cron.toString(), nextAt: new Date(schedule.cron.nextAfter(now)).toISOString() } : {};
      this.options.logger.info({ backup: name, ...cronNext }, 'scheduled backup created');
      this.pause.wake();
    } catch (error) {
      // 409: another controller created it in the same second.
      if (httpStatusOf(error) !== 409) throw error;
    }
  }

  /** Deletes the succeeded scheduled backups beyond the newest `retention`, sets first. */
  private async prune(scheduled: readonly BackupObject[], schedule: BackupSchedule): Promise<void> {
    const succeeded = scheduled
      .filter((backup) => backup.status?.phase === 'Succeeded')
      .map((backup) => ({ backup, scheduledAtMs: scheduledAtOf(backup), missingMembers: backup.status?.missingMembers ?? [] }));
    for (const { backup } of backupsBeyondRetention(succeeded, schedule.retention)) {
      const name = backup.metadata?.name ?? '';
      const backupId = backup.status?.backupId ?? '';
      try {
        if (backupId !== '') await this.deleteSet(parseBackupSpec(backup.spec).destination, backupId);
        await this.custom.deleteNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: this.options.namespace, plural: BACKUP_PLURAL, name });
        this.options.logger.info({ backup: name, backupId }, 'backup pruned by retention');
      } catch (error) {
        if (httpStatusOf(error) === 404) continue;
        this.options.logger.warn({ err: error, backup: name }, 'could not prune a backup; trying again at the next look');
        await this.event(BACKUP, backup, 'Warning', 'PruneFailed', `deleting backup set ${backupId}: ${messageOf(error)}`);
      }
    }
  }

  private async deleteSet(destination: string, backupId: string): Promise<void> {
    const store = this.options.openStore(destination);
    try {
      const names = await store.list(`${backupId}/`);
      const manifest = `${backupId}/${MANIFEST_NAME}`;
      if (names.includes(manifest)) await store.remove(manifest);
      for (const name of names) if (name !== manifest) await store.remove(name);
    } finally {
      (store as { close?: () => void }).close?.();
    }
  }

  private async list(resource: Resource): Promise<BackupObject[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: CLUSTER_GROUP, version: CLUSTER_VERSION, namespace: this.options.namespace, plural: resource.plural, limit: KUBE_WATCH_OBJECTS_MAX })) as { items?: BackupObject[] };
    return [...(list.items ?? [])].sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  }

  /** A merge patch of the status; undefined when the object changed (409) or is gone (404). */
  private async patchStatus(resource: Resource, backup: BackupObject, status: Record<string, unknown>): Promise<BackupObject | undefined> {
    const resourceVersion = backup.metadata?.resourceVersion;
    try {
      return (await this.custom.patchNamespacedCustomObjectStatus(
        {
          group: CLUSTER_GROUP,
          version: CLUSTER_VERSION,
          namespace: this.options.namespace,
          plural: resource.plural,
          name: backup.metadata?.name ?? '',
          body: { ...(resourceVersion === undefined ? {} : { metadata: { resourceVersion } }), status },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as BackupObject;
    } catch (error) {
      const code = httpStatusOf(error);
      if (code === 409 || code === 404) return undefined;
      throw error;
    }
  }

  private async event(resource: Resource, backup: BackupObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const { namespace } = this.options;
    const name = backup.metadata?.name ?? '';
    const time = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: { apiVersion: `${CLUSTER_GROUP}/${CLUSTER_VERSION}`, kind: resource.kind, name, namespace, uid: backup.metadata?.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    } catch (error) {
      // An Event is for people; the status already says it.
      this.options.logger.warn({ err: error, reason }, 'could not record an Event');
    }
  }
}

function progressStatus(progress: BackupProgressView): Record<string, unknown> {
  return {
    backupId: progress.backupId,
    location: progress.location,
    membersDone: progress.membersDone,
    membersTotal: progress.membersTotal,
    missingMembers: progress.missingMembers.map((entry) => entry.nodeId),
    records: progress.records,
    bytes: progress.bytes,
  };
}

function restoreStatus(progress: RestoreProgressView): Record<string, unknown> {
  return { backupId: progress.backupId, filesDone: progress.filesDone, filesTotal: progress.filesTotal, records: progress.records, bytes: progress.bytes };
}

function undefinedVersion(backup: BackupObject): BackupObject {
  return { ...backup, metadata: { ...backup.metadata, resourceVersion: undefined } };
}

function scheduledAtOf(backup: BackupObject): number {
  const text = backup.metadata?.annotations?.[SCHEDULED_AT_ANNOTATION] ?? String(backup.metadata?.creationTimestamp ?? '');
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? -Infinity : ms;
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
