// What a Coordinator is built from: its settings (CoordinatorConfig, checked once with
// ConfigInvalidError because they come from an operator) and its ports (hashicorp/raft's
// NewRaft(conf, fsm, logs, stable, snaps, trans) style: everything it talks to is passed
// in, nothing is reached through a global).
import type { Clock } from '../clock/clock.js';
import type { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import { ConfigInvalidError } from '../errors/errors.js';
import {
  BATCH_ITEMS_MAX,
  COORDINATOR_IN_FLIGHT_REQUESTS_CEILING,
  COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT,
  KEY_BYTES_MAX_CEILING,
  KEY_BYTES_MAX_DEFAULT,
  READ_SPECULATION_CEILING_MS_DEFAULT,
  READ_SPECULATION_FLOOR_MS_DEFAULT,
  READ_TIMEOUT_MS_DEFAULT,
  REPLICATION_FACTOR_MAX,
  REQUEST_TIMEOUT_MS_CEILING,
  VALUE_BYTES_MAX_CEILING,
  VALUE_BYTES_MAX_DEFAULT,
  WRITE_TIMEOUT_MS_DEFAULT,
} from '../limits.js';
import type { Logger } from '../logging/logger.js';
import type { PeerLiveness } from '../replica/peer-liveness.js';
import type { KvRecord } from '../storage/record.js';
import type { PeerTransport, ReplicaHandler } from '../replica/peer-transport.js';
import type { CoordinatorMetrics } from './coordinator-metrics.js';
import type { KeyPlacement } from '../ring/placement-rings.js';

export type { KeyPlacement };

/**
 * Where a key lives: its natural replicas (the preference list of the read ring, first
 * choice first, distinct), which reads ask, and its pending replicas (nodes taking the
 * key over in a join or a decommission), which writes reach too
 * (src/ring/placement-rings.ts). Tests may use a small fixed function.
 */
export type Placement = (key: Buffer) => KeyPlacement;

/** A placement with no pending replicas: the natural list `replicas`. */
export function naturalOnly(replicas: readonly string[]): KeyPlacement {
  return { natural: replicas, pending: [] };
}

export interface CoordinatorConfig {
  /** This node's id; it stamps every version this coordinator issues. */
  readonly nodeId: string;
  /** N: how many replicas hold each key. */
  readonly replicationFactor: number;
  /** W used when a write asks for 0; floor(N/2)+1 when absent. */
  readonly writeQuorum?: number;
  /** R used when a read asks for 0; floor(N/2)+1 when absent. */
  readonly readQuorum?: number;
  /** Write deadline when the client gives none. */
  readonly writeTimeoutMs?: number;
  /** Read deadline when the client gives none. */
  readonly readTimeoutMs?: number;
  /**
   * Reads ask R replicas and one spare after this replica's p99 read latency, clamped
   * to [floor, ceiling] (docs/decisions/0175-reads-sized-to-the-quorum.md).
   */
  readonly readSpeculationFloorMs?: number;
  readonly readSpeculationCeilingMs?: number;
  /** Repair stale replicas seen by reads (docs/decisions/0020-read-repair.md); default on. */
  readonly readRepair?: boolean;
  /** Calls in flight before new ones are refused with OVERLOADED. */
  readonly inFlightRequestsMax?: number;
  readonly keyBytesMax?: number;
  readonly valueBytesMax?: number;
  readonly batchItemsMax?: number;
  /**
   * Count a durably stored hint as an ack toward W (a sloppy quorum). Off by default: a
   * write is acked only when W real replicas hold it (docs/decisions/0071-hinted-handoff.md).
   */
  readonly hintedWritesCountTowardW?: boolean;
}

export interface CoordinatorPorts {
  readonly placement: Placement;
  readonly transport: PeerTransport;
  /** This node's own replica, called directly (no network) when it is in a preference list. */
  readonly localReplica: ReplicaHandler;
  readonly clock: HybridLogicalClock;
  readonly logger: Logger;
  readonly metrics?: CoordinatorMetrics;
  /** Time for deadlines and timers (src/clock/clock.ts); the machine's clock when absent. */
  readonly time?: Clock;
  /** Wall clock for TTL expiry; `time`'s when absent. */
  readonly wallClock?: () => number;
  /** Failure detection: down peers are not waited on. Every peer counts as up when absent. */
  readonly liveness?: PeerLiveness;
  /** Keeps writes a replica missed, for later delivery; no hints when absent. */
  readonly hints?: HintSink;
}

/** Where the coordinator leaves a write for a replica that missed it. */
export interface HintSink {
  /** Resolves true once the hint is durable, false when it was refused (bounds, window). */
  store(peer: string, records: readonly KvRecord[]): Promise<boolean>;
}

export type ResolvedCoordinatorConfig = Required<CoordinatorConfig>;

export function majority(replicationFactor: number): number {
  return Math.floor(replicationFactor / 2) + 1;
}

/** Fills in defaults and refuses settings outside their bounds. */
export function resolveCoordinatorConfig(config: CoordinatorConfig): ResolvedCoordinatorConfig {
  if (config.nodeId.length === 0) throw new ConfigInvalidError('coordinator nodeId must not be empty');
  const n = config.replicationFactor;
  checkInteger('replicationFactor', n, 1, REPLICATION_FACTOR_MAX);
  const resolved: ResolvedCoordinatorConfig = {
    nodeId: config.nodeId,
    replicationFactor: n,
    writeQuorum: config.writeQuorum ?? majority(n),
    readQuorum: config.readQuorum ?? majority(n),
    writeTimeoutMs: config.writeTimeoutMs ?? WRITE_TIMEOUT_MS_DEFAULT,
    readTimeoutMs: config.readTimeoutMs ?? READ_TIMEOUT_MS_DEFAULT,
    readSpeculationFloorMs: config.readSpeculationFloorMs ?? READ_SPECULATION_FLOOR_MS_DEFAULT,
    readSpeculationCeilingMs: config.readSpeculationCeilingMs ?? READ_SPECULATION_CEILING_MS_DEFAULT,
    readRepair: config.readRepair ?? true,
    inFlightRequestsMax: config.inFlightRequestsMax ?? COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT,
    keyBytesMax: config.keyBytesMax ?? KEY_BYTES_MAX_DEFAULT,
    valueBytesMax: config.valueBytesMax ?? VALUE_BYTES_MAX_DEFAULT,
    batchItemsMax: config.batchItemsMax ?? BATCH_ITEMS_MAX,
    hintedWritesCountTowardW: config.hintedWritesCountTowardW ?? false,
  };
  checkInteger('writeQuorum', resolved.writeQuorum, 1, n);
  checkInteger('readQuorum', resolved.readQuorum, 1, n);
  checkInteger('writeTimeoutMs', resolved.writeTimeoutMs, 1, REQUEST_TIMEOUT_MS_CEILING);
  checkInteger('readTimeoutMs', resolved.readTimeoutMs, 1, REQUEST_TIMEOUT_MS_CEILING);
  checkInteger('readSpeculationCeilingMs', resolved.readSpeculationCeilingMs, 0, REQUEST_TIMEOUT_MS_CEILING);
  checkInteger('readSpeculationFloorMs', resolved.readSpeculationFloorMs, 0, resolved.readSpeculationCeilingMs);
  checkInteger('inFlightRequestsMax', resolved.inFlightRequestsMax, 1, COORDINATOR_IN_FLIGHT_REQUESTS_CEILING);
  checkInteger('keyBytesMax', resolved.keyBytesMax, 1, KEY_BYTES_MAX_CEILING);
  checkInteger('valueBytesMax', resolved.valueBytesMax, 0, VALUE_BYTES_MAX_CEILING);
  checkInteger('batchItemsMax', resolved.batchItemsMax, 1, BATCH_ITEMS_MAX);
  return resolved;
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigInvalidError(`${name}=${value} is outside ${min}..${max}`);
  }
}
