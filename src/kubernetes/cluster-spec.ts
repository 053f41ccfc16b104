// The spec of a QuorumKVCluster (helm/quorumkv/crds) as the node reads it, split into
// what a running node may apply at once and what only a restart may change. The API
// server already validated it against the CRD's schema; it is checked again here
// because the resource may have been written under an older or hand-edited CRD, and a
// node must never act on a value it does not understand.
import { ConfigInvalidError } from '../errors/errors.js';
import { parseUsers, type UserEntry } from '../security/user-roles.js';
import { LOG_LEVELS, type LogLevel } from '../logging/log-level.js';
import { formatFsyncPolicy, parseFsyncPolicy } from '../storage/wal/fsync-policy.js';
import type { LiveCoordinatorSettings } from '../coordinator/coordinator.js';

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

export interface LiveSettings {
  readonly coordinator: LiveCoordinatorSettings;
  readonly logLevel: LogLevel;
  /**
   * The client identities and their roles; the whole list, replacing the previous one
   * (an absent spec.users is the empty list: only the built-in admin user may call;
   * src/security/user-roles.ts).
   */
  readonly users: readonly UserEntry[];
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
      users: parseUsers(s.users, 'spec.users'),
    },
  };
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
