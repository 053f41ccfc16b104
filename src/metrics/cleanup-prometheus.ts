// Prometheus side of cleanup (src/streaming/range-cleanup.ts):
//   qkv_cleanup_records_scanned_total   records read in the ranges this node no longer replicates
//   qkv_cleanup_records_removed_total   records deleted by cleanup (no tombstone)
//   qkv_cleanup_runs_total{outcome}     cleanups ended: done, stopped (by a drain), refused (or stopped by a ring
//                                       change), failed
//   qkv_cleanup_running                 1 while a cleanup runs
//   qkv_cleanup_needed                  1 while the node may hold records of ranges it no
//                                       longer replicates (src/streaming/held-ranges.ts)
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CleanupMetrics, CleanupOutcome } from '../streaming/range-cleanup.js';

export interface CleanupStateView {
  running(): boolean;
  needed(): boolean;
}

export class PrometheusCleanupMetrics implements CleanupMetrics {
  private readonly scannedTotal: Counter;
  private readonly removedTotal: Counter;
  private readonly runsTotal: Counter<'outcome'>;

  constructor(registry: Registry, view: CleanupStateView) {
    this.scannedTotal = new Counter({ name: 'qkv_cleanup_records_scanned_total', help: 'Records cleanup read in the ranges this node no longer replicates.', registers: [registry] });
    this.removedTotal = new Counter({ name: 'qkv_cleanup_records_removed_total', help: 'Records cleanup deleted from ranges this node no longer replicates.', registers: [registry] });
    this.runsTotal = new Counter({ name: 'qkv_cleanup_runs_total', help: 'Cleanups ended, by outcome: done, stopped (by a drain), refused (or stopped by a ring change), failed.', labelNames: ['outcome'], registers: [registry] });
    for (const outcome of ['done', 'stopped', 'refused', 'failed']) this.runsTotal.inc({ outcome }, 0);
    new Gauge({
      name: 'qkv_cleanup_running',
      help: '1 while a cleanup runs on this node.',
      registers: [registry],
      collect() {
        this.set(view.running() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qkv_cleanup_needed',
      help: '1 while this node may hold records of ranges it no longer replicates (a cleanup would delete them).',
      registers: [registry],
      collect() {
        this.set(view.needed() ? 1 : 0);
      },
    });
  }

  scanned(records: number): void {
    this.scannedTotal.inc(records);
  }

  removed(records: number): void {
    this.removedTotal.inc(records);
  }

  finished(outcome: CleanupOutcome): void {
    this.runsTotal.inc({ outcome });
  }
}
