// Storage engine metrics, beside the engine. Gauges read the engine's state when
// Prometheus scrapes instead of being updated on the write path.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from '../../metrics/get-or-create-metric.js';

const CHECKPOINT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface EngineState {
  memtableBytes(): number;
  memtableRecords(): number;
}

export interface EngineMetrics {
  readonly checkpointDuration: Histogram;
  readonly checkpointRecords: Counter;
  readonly purgedRecords: Counter;
  /** Points the scrape-time gauges at the engine that is open now. */
  bind(state: EngineState): void;
}

export function createEngineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  let state: EngineState | undefined;
  getOrCreateMetric(registry, 'qkv_memtable_bytes', () => new Gauge({
    name: 'qkv_memtable_bytes',
    help: 'Approximate bytes held by the memtables (active and checkpointing).',
    registers,
    collect() {
      this.set(state?.memtableBytes() ?? 0);
    },
  }));
  getOrCreateMetric(registry, 'qkv_memtable_records', () => new Gauge({
    name: 'qkv_memtable_records',
    help: 'Records held by the memtables (active and checkpointing).',
    registers,
    collect() {
      this.set(state?.memtableRecords() ?? 0);
    },
  }));
  return {
    checkpointDuration: getOrCreateMetric(registry, 'qkv_checkpoint_duration_seconds', () => new Histogram({
      name: 'qkv_checkpoint_duration_seconds',
      help: 'Duration of checkpoints of the memtable into the ordered store.',
      buckets: CHECKPOINT_BUCKETS_SECONDS,
      registers,
    })),
    checkpointRecords: getOrCreateMetric(registry, 'qkv_checkpoint_records_total', () => new Counter({
      name: 'qkv_checkpoint_records_total',
      help: 'Records written or removed in the ordered store by checkpoints.',
      registers,
    })),
    purgedRecords: getOrCreateMetric(registry, 'qkv_purged_records_total', () => new Counter({
      name: 'qkv_purged_records_total',
      help: 'Tombstones and expired records purged after the grace period.',
      registers,
    })),
    bind(next) {
      state = next;
    },
  };
}
