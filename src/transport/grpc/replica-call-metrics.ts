// What the gRPC transport reports about its coalesced Replica calls. src/metrics
// implements it with prom-client; the transport only sees this port.

export interface ReplicaCallMetrics {
  /** One coalesced Replica call ended; `messages` is how many callers it carried. */
  observeCall(op: 'apply' | 'read', peer: string, result: 'ok' | 'error', seconds: number, messages: number): void;
}

export const noReplicaCallMetrics: ReplicaCallMetrics = { observeCall: () => {} };
