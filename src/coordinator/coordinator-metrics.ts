// The metrics port of the coordinator. The core only reports what happened; the node
// implements this with prom-client (qkv_coordinator_request_duration_seconds,
// qkv_coordinator_acks, qkv_replica_requests_total, qkv_quorum_failures_total,
// qkv_read_repairs_total, qkv_speculative_reads_total, qkv_speculative_reads_won_total) so the core never imports a metrics library. Every label value
// here comes from a small fixed set or from the node ids of the cluster, never from keys.
import type { ErrorCode } from '../errors/errors.js';
import type { SpareReason } from './replica-fanout.js';

export type CoordinatorOp = 'put' | 'get' | 'delete' | 'batch_put' | 'batch_get';

/** The message a coordinator sent to one replica. */
export type ReplicaOp = 'apply' | 'read' | 'repair';

/** 'ok', or the stable code of the error the call or reply ended with. */
export type Outcome = 'ok' | ErrorCode;

export type QuorumFailureReason =
  /** Too many replicas failed for the quorum to be reachable. */
  | 'replicas_failed'
  /** The preference list holds fewer nodes than the quorum needs. */
  | 'too_few_replicas'
  /** The deadline passed first. */
  | 'deadline_exceeded'
  /** A read could not repair enough stale replicas to return its answer. */
  | 'read_repair_failed';

export interface CoordinatorMetrics {
  /** One client call finished; `quorum` is the W or R it ran with. */
  requestDuration(labels: { op: CoordinatorOp; quorum: number; outcome: Outcome }, seconds: number): void;
  /** Acks in hand when a call (or one key of a batch) returned. */
  acks(labels: { op: CoordinatorOp }, acks: number): void;
  /** One message to one replica answered, early or late, or failed. */
  replicaRequest(labels: { op: ReplicaOp; peer: string; result: Outcome }): void;
  /** One key missed its quorum. */
  quorumFailure(labels: { op: CoordinatorOp; reason: QuorumFailureReason }): void;
  /** Records sent to stale replicas by read repair. */
  readRepairs(records: number): void;
  /** A read asked one spare replica for one key: the first R were slow ('latency') or one failed. */
  speculativeRead(labels: { reason: SpareReason }): void;
  /** That spare's reply completed the key's quorum. */
  speculativeReadWon(labels: { reason: SpareReason }): void;
}

const ignore = (): void => {};

export const noopCoordinatorMetrics: CoordinatorMetrics = {
  requestDuration: ignore,
  acks: ignore,
  replicaRequest: ignore,
  quorumFailure: ignore,
  readRepairs: ignore,
  speculativeRead: ignore,
  speculativeReadWon: ignore,
};
