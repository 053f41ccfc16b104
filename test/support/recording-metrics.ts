// A CoordinatorMetrics that keeps every observation, so tests can assert what the
// coordinator reported (late acks, repairs, failure reasons) without a metrics library.
import type { CoordinatorMetrics, CoordinatorOp, Outcome, QuorumFailureReason, ReplicaOp } from '../../src/coordinator/coordinator-metrics.js';
import type { SpareReason } from '../../src/coordinator/replica-fanout.js';

export class RecordingMetrics implements CoordinatorMetrics {
  readonly requests: Array<{ op: CoordinatorOp; quorum: number; outcome: Outcome; seconds: number }> = [];
  readonly acksSeen: Array<{ op: CoordinatorOp; acks: number }> = [];
  readonly replicaRequests: Array<{ op: ReplicaOp; peer: string; result: Outcome }> = [];
  readonly quorumFailures: Array<{ op: CoordinatorOp; reason: QuorumFailureReason }> = [];
  repairs = 0;
  readonly speculativeReads: SpareReason[] = [];
  readonly speculativeReadsWon: SpareReason[] = [];

  requestDuration(labels: { op: CoordinatorOp; quorum: number; outcome: Outcome }, seconds: number): void {
    this.requests.push({ ...labels, seconds });
  }

  acks(labels: { op: CoordinatorOp }, acks: number): void {
    this.acksSeen.push({ ...labels, acks });
  }

  replicaRequest(labels: { op: ReplicaOp; peer: string; result: Outcome }): void {
    this.replicaRequests.push({ ...labels });
  }

  quorumFailure(labels: { op: CoordinatorOp; reason: QuorumFailureReason }): void {
    this.quorumFailures.push({ ...labels });
  }

  readRepairs(records: number): void {
    this.repairs += records;
  }

  speculativeRead(labels: { reason: SpareReason }): void {
    this.speculativeReads.push(labels.reason);
  }

  speculativeReadWon(labels: { reason: SpareReason }): void {
    this.speculativeReadsWon.push(labels.reason);
  }
}
