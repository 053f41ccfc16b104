// Prometheus side of the gRPC transport's ReplicaCallMetrics port: how long coalesced
// Replica calls take and how many callers each one carried, which is how an operator
// sees per-turn batching work (docs/decisions/0031-replica-batching-per-turn.md).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ReplicaCallMetrics } from '../transport/grpc/replica-call-metrics.js';

const DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const MESSAGES_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export class PrometheusReplicaCallMetrics implements ReplicaCallMetrics {
  private readonly duration: Histogram<'op'>;
  private readonly messages: Histogram<'op'>;
  private readonly calls: Counter<'op' | 'peer' | 'result'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'qkv_replica_call_duration_seconds',
      help: 'Duration of one coalesced Replica gRPC call to a peer.',
      labelNames: ['op'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.messages = new Histogram({
      name: 'qkv_replica_call_messages',
      help: 'Coordinator messages carried by one coalesced Replica gRPC call.',
      labelNames: ['op'],
      buckets: MESSAGES_BUCKETS,
      registers: [registry],
    });
    this.calls = new Counter({
      name: 'qkv_replica_calls_total',
      help: 'Coalesced Replica gRPC calls by peer and result.',
      labelNames: ['op', 'peer', 'result'],
      registers: [registry],
    });
  }

  observeCall(op: 'apply' | 'read', peer: string, result: 'ok' | 'error', seconds: number, messages: number): void {
    this.duration.observe({ op }, seconds);
    this.messages.observe({ op }, messages);
    this.calls.inc({ op, peer, result });
  }
}
