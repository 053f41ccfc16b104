// Prometheus side of the coordinator's metrics port (src/coordinator/coordinator-metrics.ts).
// These are the figures the product is judged by: how long a quorum call takes at each
// W or R, how many acks were in hand when it returned, how each replica answered, why
// quorums failed, and how much read repair had to do. Buckets are explicit so the
// series stay comparable across releases (docs/style.md point 11). The ones every
// request touches (duration, acks, replica requests) find their children once
// (resolved-children.ts); the rare ones use prom-client directly.
import { Counter, type Registry } from 'prom-client';
import { ResolvedCounter, ResolvedHistogram } from './resolved-children.js';
import type {
  CoordinatorMetrics,
  CoordinatorOp,
  Outcome,
  QuorumFailureReason,
  ReplicaOp,
} from '../coordinator/coordinator-metrics.js';
import type { SpareReason } from '../coordinator/replica-fanout.js';

/** From 0.5 ms (a local quorum) to 10 s (past every default deadline). */
export const REQUEST_DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Acks are small integers, at most N; one bucket per count up to 7, then coarse. */
export const ACKS_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 7, 10, 16];

export class PrometheusCoordinatorMetrics implements CoordinatorMetrics {
  private readonly duration: ResolvedHistogram<'op' | 'quorum' | 'outcome'>;
  private readonly ackCount: ResolvedHistogram<'op'>;
  private readonly replicaRequests: ResolvedCounter<'op' | 'peer' | 'result'>;
  private readonly quorumFailures: Counter<'op' | 'reason'>;
  private readonly repairs: Counter;
  private readonly speculative: Counter<'reason'>;
  private readonly speculativeWon: Counter<'reason'>;

  constructor(registry: Registry) {
    this.duration = new ResolvedHistogram({
      name: 'qkv_coordinator_request_duration_seconds',
      help: 'Duration of a coordinated client call, by operation, the W or R it ran with, and outcome (ok or the error code).',
      labelNames: ['op', 'quorum', 'outcome'],
      buckets: REQUEST_DURATION_BUCKETS_SECONDS,
      registry,
    });
    this.ackCount = new ResolvedHistogram({
      name: 'qkv_coordinator_acks',
      help: 'Replica acks in hand when a coordinated call (or one key of a batch) returned.',
      labelNames: ['op'],
      buckets: ACKS_BUCKETS,
      registry,
    });
    this.replicaRequests = new ResolvedCounter({
      name: 'qkv_replica_requests_total',
      help: 'Messages from this coordinator to replicas, by operation, peer and result (ok or the error code), late replies included.',
      labelNames: ['op', 'peer', 'result'],
      registry,
    });
    this.quorumFailures = new Counter({
      name: 'qkv_quorum_failures_total',
      help: 'Keys whose quorum was not met, by operation and reason.',
      labelNames: ['op', 'reason'],
      registers: [registry],
    });
    this.repairs = new Counter({
      name: 'qkv_read_repairs_total',
      help: 'Records sent to stale replicas by read repair.',
      registers: [registry],
    });
    this.speculative = new Counter({
      name: 'qkv_speculative_reads_total',
      help: 'Keys for which a read asked one replica beyond R, by reason: latency (the first R were slower than their p99) or failure (one of them failed).',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.speculativeWon = new Counter({
      name: 'qkv_speculative_reads_won_total',
      help: 'Speculative replica reads whose reply completed the read quorum, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  requestDuration(labels: { op: CoordinatorOp; quorum: number; outcome: Outcome }, seconds: number): void {
    this.duration.child(labels.op, labels.quorum, labels.outcome).observe(seconds);
  }

  acks(labels: { op: CoordinatorOp }, acks: number): void {
    this.ackCount.child(labels.op).observe(acks);
  }

  replicaRequest(labels: { op: ReplicaOp; peer: string; result: Outcome }): void {
    this.replicaRequests.child(labels.op, labels.peer, labels.result).inc();
  }

  quorumFailure(labels: { op: CoordinatorOp; reason: QuorumFailureReason }): void {
    this.quorumFailures.inc({ op: labels.op, reason: labels.reason });
  }

  readRepairs(records: number): void {
    this.repairs.inc(records);
  }

  speculativeRead(labels: { reason: SpareReason }): void {
    this.speculative.inc({ reason: labels.reason });
  }

  speculativeReadWon(labels: { reason: SpareReason }): void {
    this.speculativeWon.inc({ reason: labels.reason });
  }
}
