// Prometheus side of the storage metrics port (src/storage/storage-metrics.ts): the WAL's
// and the engine's series. Registered on the registry the caller passes, so several
// engines in one process (tests, benchmarks) do not collide; a second engine on the same
// registry reuses the first's metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineMetrics, EngineState, StorageMetrics, WalMetrics } from '../storage/storage-metrics.js';
import { getOrCreateMetric } from './get-or-create-metric.js';

// Sync latencies on disks range from ~50 µs (NVMe with a write cache) to seconds
// (a saturated network volume); the buckets span both ends.
const FSYNC_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS_RECORDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const CHECKPOINT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function prometheusStorageMetrics(registry: Registry): StorageMetrics {
  return { wal: createWalMetrics(registry), engine: createEngineMetrics(registry) };
}

export function createWalMetrics(registry: Registry): WalMetrics {
  const registers = [registry];
  return {
    fsyncDuration: getOrCreateMetric(registry, 'qkv_wal_fsync_duration_seconds', () => new Histogram({
      name: 'qkv_wal_fsync_duration_seconds',
      help: 'Duration of WAL fdatasync calls.',
      buckets: FSYNC_BUCKETS_SECONDS,
      registers,
    })),
    bytesWritten: getOrCreateMetric(registry, 'qkv_wal_written_bytes_total', () => new Counter({
      name: 'qkv_wal_written_bytes_total',
      help: 'Bytes written to WAL segments, frame headers included.',
      registers,
    })),
    recordsWritten: getOrCreateMetric(registry, 'qkv_wal_written_records_total', () => new Counter({
      name: 'qkv_wal_written_records_total',
      help: 'Records written to the WAL.',
      registers,
    })),
    groupCommitRecords: getOrCreateMetric(registry, 'qkv_wal_group_commit_records', () => new Histogram({
      name: 'qkv_wal_group_commit_records',
      help: 'Records made durable by one group commit (one write and one sync).',
      buckets: BATCH_BUCKETS_RECORDS,
      registers,
    })),
  };
}

// Gauges read the engine's state when Prometheus scrapes instead of being updated on
// the write path.
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
