// Prometheus side of ring states and range movement (join and decommission streaming):
//   qkv_ring_state{state}                    1 for this node's own ring state, else 0
//   qkv_ring_members{state}                  members by ring state as this node heard it
//                                            (UNKNOWN: never heard)
//   qkv_stream_bytes_total{direction}        key + value bytes streamed in (join) or out (decommission)
//   qkv_stream_keys_total{direction}         records streamed
//   qkv_stream_ranges_total{direction}       token ranges finished
//   qkv_stream_ranges_remaining              ranges the running join or decommission has left
import { Counter, Gauge, type Registry } from 'prom-client';
import { RING_STATES, RING_STATE_UNKNOWN, type RingState } from '../ring/ring-state.js';
import type { StreamDirection, StreamMetrics } from '../streaming/range-movement.js';

export interface RingStateView {
  self(): RingState | undefined;
  /** Every member's state as heard (this node's own included), undefined when never heard. */
  memberStates(): ReadonlyArray<RingState | undefined>;
  /** Ranges the running movement still has to stream; 0 when none runs. */
  rangesRemaining(): number;
}

export class PrometheusStreamMetrics implements StreamMetrics {
  private readonly bytesTotal: Counter<'direction'>;
  private readonly keysTotal: Counter<'direction'>;
  private readonly rangesTotal: Counter<'direction'>;

  constructor(registry: Registry, view: RingStateView) {
    this.bytesTotal = new Counter({ name: 'qkv_stream_bytes_total', help: 'Key and value bytes streamed by joins (in) and decommissions (out).', labelNames: ['direction'], registers: [registry] });
    this.keysTotal = new Counter({ name: 'qkv_stream_keys_total', help: 'Records streamed by joins (in) and decommissions (out).', labelNames: ['direction'], registers: [registry] });
    this.rangesTotal = new Counter({ name: 'qkv_stream_ranges_total', help: 'Token ranges a join (in) or decommission (out) finished streaming.', labelNames: ['direction'], registers: [registry] });
    for (const direction of ['in', 'out']) {
      this.bytesTotal.inc({ direction }, 0);
      this.keysTotal.inc({ direction }, 0);
      this.rangesTotal.inc({ direction }, 0);
    }
    new Gauge({
      name: 'qkv_ring_state',
      help: "This node's ring state: 1 for the current one (JOINING, NORMAL, LEAVING, LEFT).",
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const self = view.self();
        for (const state of RING_STATES) this.set({ state }, state === self ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qkv_ring_members',
      help: 'Members by ring state as this node last heard it (UNKNOWN: never heard).',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const counts = new Map<string, number>([...RING_STATES, RING_STATE_UNKNOWN].map((state) => [state, 0]));
        for (const state of view.memberStates()) {
          const label = state ?? RING_STATE_UNKNOWN;
          counts.set(label, (counts.get(label) ?? 0) + 1);
        }
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'qkv_stream_ranges_remaining',
      help: 'Token ranges the running join or decommission still has to stream (0 when none runs).',
      registers: [registry],
      collect() {
        this.set(view.rangesRemaining());
      },
    });
  }

  streamed(direction: StreamDirection, records: number, bytes: number): void {
    this.keysTotal.inc({ direction }, records);
    this.bytesTotal.inc({ direction }, bytes);
  }

  rangeMoved(direction: StreamDirection): void {
    this.rangesTotal.inc({ direction });
  }
}
