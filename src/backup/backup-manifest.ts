// The manifest of a backup set, `<backup id>/manifest.json`, written after every
// member's snapshot file: a set without one is incomplete and never restored. JSON, so
// an operator can read it; versioned, so a later format is refused, not misread.
//
//   { format: "quorumkv-backup", formatVersion: 1, backupId, coordinator,
//     startedAt, finishedAt (ISO), startStamp (the coordinator's HLC stamp, decimal,
//     taken before the first member was read: every write acknowledged before it is in
//     the set), ringDigest, replicationFactor, vnodes,
//     members: [{ nodeId, file, records, bytes, sha256, snapshotFormatVersion }],
//     missingMembers: [{ nodeId, reason }] }
//
// missingMembers names the members that could not be read (docs/decisions/0245-backup-
// with-members-missing.md); every token range still had a replica among `members`. It
// came after version 1 without a new version: a reader that does not know it restores
// such a set exactly as one that does (the records in the files are all there is to
// apply), so nothing is misread. A manifest without it (written before) has none missing.
// A change that alters how the files are read or applied takes a new version.
import { BackupCorruptError } from '../errors/errors.js';
import { BACKUP_MANIFEST_BYTES_MAX, BACKUP_MEMBERS_MAX, BACKUP_MISSING_REASON_CHARS_MAX, NODE_ID_BYTES_MAX } from '../limits.js';
import { checkBackupPath } from './backup-path.js';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'quorumkv-backup';
export const MANIFEST_FORMAT_VERSION = 1;

export interface MemberSnapshot {
  readonly nodeId: string;
  /** Name of the snapshot file in the store, `<backup id>/<node id>.snap`. */
  readonly file: string;
  readonly records: number;
  readonly bytes: number;
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
  readonly snapshotFormatVersion: number;
}

/** A member of the rings whose snapshot is not in the set, and why it could not be read. */
export interface MissingMember {
  readonly nodeId: string;
  readonly reason: string;
}

export interface BackupManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly formatVersion: number;
  readonly backupId: string;
  readonly coordinator: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly startStamp: string;
  readonly ringDigest: string;
  readonly replicationFactor: number;
  readonly vnodes: number;
  readonly members: readonly MemberSnapshot[];
  /** Absent in sets written before the field existed: none was missing then. */
  readonly missingMembers?: readonly MissingMember[];
}

/** The members a set lacks; [] for a complete set and for one written before the field. */
export function missingMembersOf(manifest: BackupManifest): readonly MissingMember[] {
  return manifest.missingMembers ?? [];
}

export function encodeManifest(manifest: BackupManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Parses and checks a manifest; `file` names it in BACKUP_CORRUPT errors. */
export function parseManifest(bytes: Buffer, file: string): BackupManifest {
  if (bytes.length > BACKUP_MANIFEST_BYTES_MAX) throw new BackupCorruptError(file, `${bytes.length} bytes; a manifest holds at most ${BACKUP_MANIFEST_BYTES_MAX}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new BackupCorruptError(file, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const fail = (reason: string): never => {
    throw new BackupCorruptError(file, reason);
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const manifest = value as Record<string, unknown>;
  if (manifest['format'] !== MANIFEST_FORMAT) return fail(`format is ${JSON.stringify(manifest['format'])}, not "${MANIFEST_FORMAT}"`);
  if (manifest['formatVersion'] !== MANIFEST_FORMAT_VERSION) return fail(`format version ${JSON.stringify(manifest['formatVersion'])}; this build reads version ${MANIFEST_FORMAT_VERSION}`);
  for (const field of ['backupId', 'coordinator', 'startedAt', 'finishedAt', 'startStamp', 'ringDigest']) {
    if (typeof manifest[field] !== 'string') fail(`${field} must be a string`);
  }
  if (!/^[0-9]+$/.test(manifest['startStamp'] as string)) fail('startStamp must be a decimal HLC stamp');
  for (const field of ['replicationFactor', 'vnodes']) {
    if (!Number.isSafeInteger(manifest[field]) || (manifest[field] as number) < 1) fail(`${field} must be a positive integer`);
  }
  const members = manifest['members'];
  if (!Array.isArray(members) || members.length === 0 || members.length > BACKUP_MEMBERS_MAX) return fail(`members must be a list of 1 to ${BACKUP_MEMBERS_MAX} entries`);
  const backupId = manifest['backupId'] as string;
  members.forEach((entry: unknown, index) => {
    const member = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const where = `members[${index}]`;
    if (!isNodeId(member['nodeId'])) fail(`${where}.nodeId must be a node id of 1 to ${NODE_ID_BYTES_MAX} bytes`);
    if (typeof member['file'] !== 'string' || !member['file'].startsWith(`${backupId}/`)) fail(`${where}.file must be a file of the set ${backupId}`);
    try {
      checkBackupPath(member['file'] as string);
    } catch {
      fail(`${where}.file ${JSON.stringify(member['file'])} is not a valid name in the store`);
    }
    for (const field of ['records', 'bytes', 'snapshotFormatVersion']) {
      if (!Number.isSafeInteger(member[field]) || (member[field] as number) < 0) fail(`${where}.${field} must be a non-negative integer`);
    }
    if (typeof member['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(member['sha256'])) fail(`${where}.sha256 must be 64 hex digits`);
  });
  const missing = manifest['missingMembers'];
  if (missing !== undefined) {
    if (!Array.isArray(missing) || missing.length > BACKUP_MEMBERS_MAX) return fail(`missingMembers must be a list of at most ${BACKUP_MEMBERS_MAX} entries`);
    const present = new Set((members as Array<Record<string, unknown>>).map((member) => member['nodeId']));
    // The ids are logged and shown to operators: each one a node id, each member named once.
    const named = new Set<unknown>();
    missing.forEach((entry: unknown, index) => {
      const member = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      const where = `missingMembers[${index}]`;
      if (!isNodeId(member['nodeId'])) fail(`${where}.nodeId must be a node id of 1 to ${NODE_ID_BYTES_MAX} bytes`);
      if (present.has(member['nodeId'])) fail(`${where}.nodeId ${JSON.stringify(member['nodeId'])} is also in members`);
      if (named.has(member['nodeId'])) fail(`${where}.nodeId ${JSON.stringify(member['nodeId'])} is named twice`);
      named.add(member['nodeId']);
      if (typeof member['reason'] !== 'string' || member['reason'].length > BACKUP_MISSING_REASON_CHARS_MAX) fail(`${where}.reason must be a string of at most ${BACKUP_MISSING_REASON_CHARS_MAX} characters`);
    });
  }
  return manifest as unknown as BackupManifest;
}

/** A member's id as the ring takes it (src/ring/hash-ring.ts): 1 to NODE_ID_BYTES_MAX bytes of UTF-8. */
function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && Buffer.byteLength(value) <= NODE_ID_BYTES_MAX;
}
