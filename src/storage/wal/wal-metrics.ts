// WAL metrics, beside the code they measure (etcd's wal/metrics.go). Registered on the
// registry the caller passes, so several engines in one process (tests, benchmarks)
// do not collide; a second engine on the same registry reuses the first's metrics.
import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from '../../metrics/get-or-create-metric.js';

// Sync latencies on disks range from ~50 µs (NVMe with a write cache) to seconds
// (a saturated network volume); the buckets span both ends.
const FSYNC_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS_RECORDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export interface WalMetrics {
  readonly fsyncDuration: Histogram;
  readonly bytesWritten: Counter;
  readonly recordsWritten: Counter;
  readonly groupCommitRecords: Histogram;
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
