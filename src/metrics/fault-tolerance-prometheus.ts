// Prometheus side of the failure detector, hinted handoff and anti-entropy ports:
//   qkv_peer_state{peer,state}                 1 for the peer's current state, else 0
//   qkv_peer_state_transitions_total{peer,to}  state changes
//   qkv_hints_stored_total{peer} / qkv_hints_delivered_total{peer}
//   qkv_hints_dropped_total{peer,reason}       window | full | expired | damaged
//   qkv_hints_pending_bytes{peer}              hint bytes waiting per peer
//   qkv_repair_ranges_compared_total{peer,result}   in_sync | mismatch
//   qkv_repair_keys_streamed_total{direction}       pulled | pushed
//   qkv_repair_progress_ratio                  share of the running pass done
//   qkv_repair_pass_duration_seconds           duration of full passes
// Peer labels are node ids of the cluster: bounded.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AntiEntropyMetrics } from '../repair/anti-entropy.js';
import type { HintDropReason, HintMetrics } from '../handoff/hinted-handoff.js';
import { PEER_STATES, type FailureDetectorMetrics, type PeerState } from '../membership/failure-detector.js';

export class PrometheusFailureDetectorMetrics implements FailureDetectorMetrics {
  private readonly state: Gauge<'peer' | 'state'>;
  private readonly transitions: Counter<'peer' | 'to'>;

  constructor(registry: Registry) {
    this.state = new Gauge({ name: 'qkv_peer_state', help: 'Failure detector state of each peer: 1 for its current state.', labelNames: ['peer', 'state'], registers: [registry] });
    this.transitions = new Counter({ name: 'qkv_peer_state_transitions_total', help: 'Failure detector state changes per peer.', labelNames: ['peer', 'to'], registers: [registry] });
  }

  transition(peer: string, from: PeerState | undefined, to: PeerState): void {
    for (const state of PEER_STATES) this.state.set({ peer, state }, state === to ? 1 : 0);
    if (from !== undefined) this.transitions.inc({ peer, to });
  }
}

export class PrometheusHintMetrics implements HintMetrics {
  private readonly storedTotal: Counter<'peer'>;
  private readonly deliveredTotal: Counter<'peer'>;
  private readonly droppedTotal: Counter<'peer' | 'reason'>;

  constructor(registry: Registry, pendingBytes: () => ReadonlyMap<string, number>) {
    this.storedTotal = new Counter({ name: 'qkv_hints_stored_total', help: 'Records hinted for a peer that missed them.', labelNames: ['peer'], registers: [registry] });
    this.deliveredTotal = new Counter({ name: 'qkv_hints_delivered_total', help: 'Hinted records delivered to their peer.', labelNames: ['peer'], registers: [registry] });
    this.droppedTotal = new Counter({ name: 'qkv_hints_dropped_total', help: 'Hinted records dropped (anti-entropy repairs them), by reason.', labelNames: ['peer', 'reason'], registers: [registry] });
    new Gauge({
      name: 'qkv_hints_pending_bytes',
      help: 'Hint bytes waiting for delivery, per peer.',
      labelNames: ['peer'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [peer, bytes] of pendingBytes()) this.set({ peer }, bytes);
      },
    });
  }

  stored(peer: string, records: number): void {
    this.storedTotal.inc({ peer }, records);
  }
  delivered(peer: string, records: number): void {
    this.deliveredTotal.inc({ peer }, records);
  }
  dropped(peer: string, reason: HintDropReason, records: number): void {
    this.droppedTotal.inc({ peer, reason }, records);
  }
}

export class PrometheusAntiEntropyMetrics implements AntiEntropyMetrics {
  private readonly compared: Counter<'peer' | 'result'>;
  private readonly streamed: Counter<'direction'>;
  private readonly progressRatio: Gauge;
  private readonly passDuration: Histogram;

  constructor(registry: Registry) {
    this.compared = new Counter({ name: 'qkv_repair_ranges_compared_total', help: 'Token ranges compared with a peer, by result (in_sync or mismatch).', labelNames: ['peer', 'result'], registers: [registry] });
    this.streamed = new Counter({ name: 'qkv_repair_keys_streamed_total', help: 'Records streamed by anti-entropy, pulled to or pushed from this node.', labelNames: ['direction'], registers: [registry] });
    this.progressRatio = new Gauge({ name: 'qkv_repair_progress_ratio', help: 'Share of the current anti-entropy pass done (1 when idle after a pass).', registers: [registry] });
    this.passDuration = new Histogram({ name: 'qkv_repair_pass_duration_seconds', help: 'Duration of full anti-entropy passes.', buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600], registers: [registry] });
  }

  rangeCompared(peer: string, inSync: boolean): void {
    this.compared.inc({ peer, result: inSync ? 'in_sync' : 'mismatch' });
  }
  keysStreamed(direction: 'pulled' | 'pushed', records: number): void {
    if (records > 0) this.streamed.inc({ direction }, records);
  }
  progress(done: number, total: number): void {
    this.progressRatio.set(total === 0 ? 1 : done / total);
  }
  passFinished(seconds: number): void {
    this.passDuration.observe(seconds);
  }
}
