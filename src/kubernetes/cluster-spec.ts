// The spec of a QuorumKVCluster (helm/quorumkv/crds) as the node reads it, split into
// what a running node may apply at once and what only a restart may change. The API
// server already validated it against the CRD's schema; it is checked again here
// because the resource may have been written under an older or hand-edited CRD, and a
// node must never act on a value it does not understand.
import { ConfigInvalidError } from '../errors/errors.js';
import { LOG_LEVELS, type LogLevel } from '../config/node-config.js';
import { formatFsyncPolicy, parseFsyncPolicy } from '../storage/wal/fsync-policy.js';
import type { LiveCoordinatorSettings } from '../coordinator/coordinator.js';
import { USER_NAME_LENGTH_MAX, USERS_MAX } from '../limits.js';

export const CLUSTER_GROUP = 'quorumkv.io';
export const CLUSTER_VERSION = 'v1alpha1';
export const CLUSTER_PLURAL = 'quorumkvclusters';

/** Settings that change the ring or the WAL: applied only at start. */
export interface RestartSettings {
  readonly replicationFactor: number;
  readonly vnodes: number;
  /** Canonical text form (always, never, interval:<ms>). */
  readonly fsync: string;
}

/**
 * Roles a client identity may hold: `read` (KV reads), `write` (KV reads and writes),
 * `admin` (the Admin service: repair, cleanup, decommission).
 */
export const USER_ROLES = ['read', 'write', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * A user name: what follows `quorumkv://user/` in a client certificate's URI SAN. Only
 * characters that need no escaping in a URI path, so the name compares as it is written.
 */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface User {
  readonly name: string;
  readonly roles: readonly UserRole[];
}

export interface LiveSettings {
  readonly coordinator: LiveCoordinatorSettings;
  readonly logLevel: LogLevel;
  /**
   * The client identities and their roles; the whole list, replacing the previous one
   * (an absent spec.users is the empty list: no client is allowed anything).
   */
  readonly users: readonly User[];
}

export interface ClusterSpec {
  readonly restart: RestartSettings;
  readonly live: LiveSettings;
}

type Json = Record<string, unknown>;

export function parseClusterSpec(spec: unknown): ClusterSpec {
  if (typeof spec !== 'object' || spec === null) throw new ConfigInvalidError('QuorumKVCluster has no spec');
  const s = spec as Json;
  const limits = (typeof s.limits === 'object' && s.limits !== null ? s.limits : {}) as Json;
  const replicationFactor = integer(s, 'replicationFactor', 3);
  const writeQuorum = integer(s, 'writeQuorum', 0);
  const readQuorum = integer(s, 'readQuorum', 0);
  const logLevel = s.logLevel ?? 'info';
  if (typeof logLevel !== 'string' || !(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigInvalidError(`spec.logLevel "${String(logLevel)}" is not one of ${LOG_LEVELS.join(', ')}`);
  const readRepair = s.readRepair ?? true;
  if (typeof readRepair !== 'boolean') throw new ConfigInvalidError('spec.readRepair must be a boolean');
  const fsyncText = s.fsync ?? 'always';
  if (typeof fsyncText !== 'string') throw new ConfigInvalidError('spec.fsync must be a string');
  return {
    restart: {
      replicationFactor,
      vnodes: integer(s, 'vnodesPerNode', 256),
      fsync: formatFsyncPolicy(parseFsyncPolicy(fsyncText)),
    },
    live: {
      coordinator: {
        // 0 means "a majority of N", which the coordinator computes when it is absent.
        writeQuorum: writeQuorum === 0 ? undefined : writeQuorum,
        readQuorum: readQuorum === 0 ? undefined : readQuorum,
        readRepair,
        writeTimeoutMs: integer(s, 'writeTimeoutMs', undefined),
        readTimeoutMs: integer(s, 'readTimeoutMs', undefined),
        keyBytesMax: integer(limits, 'keyBytesMax', undefined),
        valueBytesMax: integer(limits, 'valueBytesMax', undefined),
        batchItemsMax: integer(limits, 'batchItemsMax', undefined),
        inFlightRequestsMax: integer(limits, 'inFlightRequestsMax', undefined),
      },
      logLevel: logLevel as LogLevel,
      users: parseUsers(s.users),
    },
  };
}

/** spec.users: [{name, roles}], names unique, roles from USER_ROLES without repeats. */
export function parseUsers(value: unknown): User[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigInvalidError(`spec.users must be a list of {name, roles}, got ${JSON.stringify(value)}`);
  if (value.length > USERS_MAX) throw new ConfigInvalidError(`spec.users has ${value.length} entries; at most ${USERS_MAX}`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const where = `spec.users[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigInvalidError(`${where} must be an object {name, roles}, got ${JSON.stringify(entry)}`);
    const { name, roles, ...rest } = entry as Json;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ConfigInvalidError(`${where} has unknown field(s) ${unknown.join(', ')}; known: name, roles`);
    if (typeof name !== 'string' || name.length === 0 || name.length > USER_NAME_LENGTH_MAX || !USER_NAME_PATTERN.test(name)) {
      throw new ConfigInvalidError(`${where}.name must be 1 to ${USER_NAME_LENGTH_MAX} of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new ConfigInvalidError(`${where}.name "${name}" is listed twice`);
    seen.add(name);
    if (!Array.isArray(roles) || roles.length === 0) throw new ConfigInvalidError(`${where}.roles must be a non-empty list of ${USER_ROLES.join(', ')}, got ${JSON.stringify(roles)}`);
    const checked: UserRole[] = [];
    for (const role of roles as unknown[]) {
      if (typeof role !== 'string' || !(USER_ROLES as readonly string[]).includes(role)) throw new ConfigInvalidError(`${where}.roles: ${JSON.stringify(role)} is not one of ${USER_ROLES.join(', ')} (user "${name}")`);
      if (checked.includes(role as UserRole)) throw new ConfigInvalidError(`${where}.roles lists "${role}" twice (user "${name}")`);
      checked.push(role as UserRole);
    }
    return { name, roles: checked };
  });
}

function integer<D extends number | undefined>(object: Json, key: string, fallback: D): number | D {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigInvalidError(`spec.${key} must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

/** Restart-only fields whose spec value differs from what the node runs, as text. */
export function pendingRestartChanges(spec: RestartSettings, running: RestartSettings): string[] {
  const changes: string[] = [];
  if (spec.replicationFactor !== running.replicationFactor) changes.push(`replicationFactor ${running.replicationFactor} -> ${spec.replicationFactor}`);
  if (spec.vnodes !== running.vnodes) changes.push(`vnodesPerNode ${running.vnodes} -> ${spec.vnodes}`);
  if (spec.fsync !== running.fsync) changes.push(`fsync ${running.fsync} -> ${spec.fsync}`);
  return changes;
}
