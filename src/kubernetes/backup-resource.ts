// The QuorumKVBackup and QuorumKVRestore resources (helm/quorumkv/crds),
// the backup schedule of a QuorumKVCluster's spec.backup and its spec.bootstrap.restore, as the controller reads them
// (docs/decisions/0146-backup-resources.md, 0147-backup-schedule.md, 0250-cron-backup-schedules.md). The CRDs' schemas
// check the same bounds at the API server; this parses what arrives, and refuses what a
// schema-less or older CRD let through with a message for the resource's status.
import { checkTimeZone, CRON_TIME_ZONE_DEFAULT, CronSchedule } from '../clock/cron-schedule.js';
import { ConfigInvalidError } from '../errors/errors.js';

export const BACKUP_PLURAL = 'quorumkvbackups';
export const BACKUP_KIND = 'QuorumKVBackup';
export const RESTORE_PLURAL = 'quorumkvrestores';
export const RESTORE_KIND = 'QuorumKVRestore';
/** Label on the backups a schedule created: the QuorumKVCluster's name. */
export const SCHEDULE_LABEL = 'quorumkv.io/schedule';
/** The shortest schedule interval: a backup reads every record of the cluster. */
export const SCHEDULE_INTERVAL_MS_MIN = 60_000;

export type BackupPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface BackupSpec {
  readonly cluster: string;
  readonly destination: string;
}

/** spec.backup: exactly one of an interval (`every`) and a cron schedule (`schedule`). */
export type BackupSchedule = IntervalBackupSchedule | CronBackupSchedule;

export interface IntervalBackupSchedule {
  readonly destination: string;
  readonly everyMs: number;
  readonly retention: number;
}

export interface CronBackupSchedule {
  readonly destination: string;
  /** spec.backup.schedule read in spec.backup.timeZone (UTC when unset). */
  readonly cron: CronSchedule;
  readonly retention: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseBackupSpec(spec: unknown): BackupSpec {
  const s = (typeof spec === 'object' && spec !== null ? spec : {}) as Record<string, unknown>;
  if (typeof s.cluster !== 'string' || s.cluster === '') throw new ConfigInvalidError('spec.cluster must name the QuorumKVCluster to back up');
  if (typeof s.destination !== 'string' || s.destination === '') throw new ConfigInvalidError('spec.destination must name where the backup set goes');
  return { cluster: s.cluster, destination: s.destination };
}

export interface RestoreSpec extends BackupSpec {
  /** The set to restore; '' for the newest complete one at the destination. */
  readonly backupId: string;
}

export function parseRestoreSpec(spec: unknown): RestoreSpec {
  const { cluster, destination } = parseBackupSpec(spec);
  const backupId = (spec as { backupId?: unknown }).backupId ?? '';
  if (typeof backupId !== 'string') throw new ConfigInvalidError('spec.backupId must be a string');
  return { cluster, destination, backupId };
}

/** spec.backup of a QuorumKVCluster; undefined when it has none (no schedule). */
export function parseBackupSchedule(clusterSpec: unknown): BackupSchedule | undefined {
  const backup = (clusterSpec as { backup?: unknown } | undefined)?.backup;
  if (backup === undefined || backup === null) return undefined;
  if (typeof backup !== 'object') throw new ConfigInvalidError('spec.backup must be an object');
  const b = backup as Record<string, unknown>;
  if (typeof b.destination !== 'string' || b.destination === '') throw new ConfigInvalidError('spec.backup.destination is required');
  const retention = b.retention ?? 7;
  if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 1 || retention > 1000) throw new ConfigInvalidError('spec.backup.retention must be an integer in 1..1000');
  const hasEvery = b.every !== undefined && b.every !== null;
  const hasSchedule = b.schedule !== undefined && b.schedule !== null;
  if (hasEvery === hasSchedule) {
    throw new ConfigInvalidError(`spec.backup needs exactly one of every (an interval such as 6h) and schedule (a cron expression such as "0 3 * * *"); it has ${hasEvery ? 'both' : 'neither'}`);
  }
  if (hasSchedule) return { destination: b.destination, cron: parseCron(b.schedule, b.timeZone), retention };
  if (b.timeZone !== undefined && b.timeZone !== null) throw new ConfigInvalidError('spec.backup.timeZone applies to schedule only; an every interval has no time of day');
  const every = typeof b.every === 'string' ? /^([0-9]{1,6})(s|m|h|d)$/.exec(b.every) : null;
  if (every === null) throw new ConfigInvalidError(`spec.backup.every ${JSON.stringify(b.every)} is not a number followed by s, m, h or d`);
  const everyMs = Number(every[1]) * UNIT_MS[every[2]!]!;
  if (everyMs < SCHEDULE_INTERVAL_MS_MIN) throw new ConfigInvalidError(`spec.backup.every ${b.every} is shorter than ${SCHEDULE_INTERVAL_MS_MIN / 1000}s`);
  return { destination: b.destination, everyMs, retention };
}

/** spec.backup.schedule read in spec.backup.timeZone; a refusal names the field at fault. */
function parseCron(schedule: unknown, timeZone: unknown): CronSchedule {
  if (typeof schedule !== 'string') throw new ConfigInvalidError('spec.backup.schedule must be a string, a cron expression such as "0 3 * * *"');
  if (timeZone !== undefined && timeZone !== null && typeof timeZone !== 'string') throw new ConfigInvalidError('spec.backup.timeZone must be a string, an IANA name such as Europe/Berlin');
  const zone = timeZone ?? CRON_TIME_ZONE_DEFAULT;
  inField('spec.backup.timeZone', () => checkTimeZone(zone));
  return inField('spec.backup.schedule', () => CronSchedule.parse(schedule, zone));
}

/** Runs `parse`, its ConfigInvalidError's message prefixed with the field it read. */
function inField<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigInvalidError)) throw error;
    throw new ConfigInvalidError(`${field}: ${error.message}`);
  }
}

/** spec.bootstrap.restore of a QuorumKVCluster: the backup set a new cluster starts from. */
export interface BootstrapRestoreSpec {
  readonly destination: string;
  /** The set to restore; '' for the newest complete one at the destination. */
  readonly backupId: string;
}

/** The longest set id the CRD accepts (a Kubernetes name's bound; ids are far shorter). */
export const BACKUP_ID_CHARS_MAX = 253;
/** The longest destination the CRD accepts, as for QuorumKVBackup's spec.destination. */
export const BACKUP_DESTINATION_CHARS_MAX = 512;

/** spec.bootstrap.restore of a QuorumKVCluster; undefined when it has none (nothing to restore). */
export function parseBootstrapRestore(clusterSpec: unknown): BootstrapRestoreSpec | undefined {
  const bootstrap = (clusterSpec as { bootstrap?: unknown } | undefined)?.bootstrap;
  if (bootstrap === undefined || bootstrap === null) return undefined;
  if (typeof bootstrap !== 'object') throw new ConfigInvalidError('spec.bootstrap must be an object');
  const restore = (bootstrap as { restore?: unknown }).restore;
  if (restore === undefined || restore === null) return undefined;
  if (typeof restore !== 'object') throw new ConfigInvalidError('spec.bootstrap.restore must be an object');
  const r = restore as Record<string, unknown>;
  if (typeof r.destination !== 'string' || r.destination === '') throw new ConfigInvalidError('spec.bootstrap.restore.destination must name where the backup set is');
  if (r.destination.length > BACKUP_DESTINATION_CHARS_MAX) throw new ConfigInvalidError(`spec.bootstrap.restore.destination is longer than ${BACKUP_DESTINATION_CHARS_MAX} characters`);
  const backupId = r.backupId ?? '';
  if (typeof backupId !== 'string') throw new ConfigInvalidError('spec.bootstrap.restore.backupId must be a string');
  if (backupId.length > BACKUP_ID_CHARS_MAX) throw new ConfigInvalidError(`spec.bootstrap.restore.backupId is longer than ${BACKUP_ID_CHARS_MAX} characters`);
  return { destination: r.destination, backupId };
}
