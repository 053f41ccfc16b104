// Prometheus side of the gRPC transport's ReplicaCallMetrics port: how long coalesced
// Replica calls take and how many callers each one carried, which is how an operator
// sees per-turn batching work (docs/decisions/0031-replica-batching-per-turn.md).
//
// Every coalesced Apply and Read to a peer reports here, so on a busy node this runs
// thousands of times a second: the children are resolved once per label set
// (resolved-children.ts, docs/decisions/0221-metric-children-resolved-once.md) instead of
// prom-client working out a labels string on each of the call's three updates, which
// took 1–2 % of a node's CPU under puts and gets (docs/decisions/0265-replica-call-metrics-resolved-once.md).
// /metrics reads the same as with prom-client's own metrics
// (test/metrics/replica-call-prometheus.test.ts).
import type { Registry } from 'prom-client';
import type { ReplicaCallMetrics } from '../transport/grpc/replica-call-metrics.js';
import { ResolvedCounter, ResolvedHistogram } from './resolved-children.js';

const DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const MESSAGES_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export class PrometheusReplicaCallMetrics implements ReplicaCallMetrics {
  private readonly duration: ResolvedHistogram<'op'>;
  private readonly messages: ResolvedHistogram<'op'>;
  private readonly calls: ResolvedCounter<'op' | 'peer' | 'result'>;

  constructor(registry: Registry) {
    this.duration = new ResolvedHistogram({
      name: 'qkv_replica_call_duration_seconds',
      help: 'Duration of one coalesced Replica gRPC call to a peer.',
      labelNames: ['op'],
      buckets: DURATION_BUCKETS_SECONDS,
      registry,
    });
    this.messages = new ResolvedHistogram({
      name: 'qkv_replica_call_messages',
      help: 'Coordinator messages carried by one coalesced Replica gRPC call.',
      labelNames: ['op'],
      buckets: MESSAGES_BUCKETS,
      registry,
    });
    this.calls = new ResolvedCounter({
      name: 'qkv_replica_calls_total',
      help: 'Coalesced Replica gRPC calls by peer and result.',
      labelNames: ['op', 'peer', 'result'],
      registry,
    });
  }

  observeCall(op: 'apply' | 'read', peer: string, result: 'ok' | 'error', seconds: number, messages: number): void {
    // A child is a Map lookup per label (one here, three for the counter), created on its
    // first use as prom-client creates a series on its first observation.
    this.duration.child(op).observe(seconds);
    this.messages.child(op).observe(messages);
    this.calls.child(op, peer, result).inc();
  }
}
