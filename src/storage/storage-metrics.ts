// What the storage engine and its WAL report, beside the code they measure (etcd's
// wal/metrics.go; docs/style.md point 11). Storage defines the port and never imports a
// metrics library: it is the layer below everything that reports metrics, so it cannot
// depend on src/metrics, where the Prometheus adapter lives
// (src/metrics/storage-prometheus.ts; docs/decisions/0116-directory-cycles-broken.md).
// prom-client's Counter and Histogram satisfy the two sinks as they are.

/** A monotonic count; prom-client's Counter satisfies it. */
export interface CountSink {
  inc(amount?: number): void;
}

/** A distribution of observed values; prom-client's Histogram satisfies it. */
export interface ObservationSink {
  observe(value: number): void;
}

export interface WalMetrics {
  /** Seconds per fdatasync call. */
  readonly fsyncDuration: ObservationSink;
  /** Bytes written to segments, frame headers included. */
  readonly bytesWritten: CountSink;
  readonly recordsWritten: CountSink;
  /** Records made durable by one group commit (one write and one sync). */
  readonly groupCommitRecords: ObservationSink;
}

/** The engine state that scrape-time gauges read instead of being updated on writes. */
export interface EngineState {
  memtableBytes(): number;
  memtableRecords(): number;
}

export interface EngineMetrics {
  /** Seconds per checkpoint of the memtable into the ordered store. */
  readonly checkpointDuration: ObservationSink;
  readonly checkpointRecords: CountSink;
  readonly purgedRecords: CountSink;
  /** Points the scrape-time gauges at the engine that is open now. */
  bind(state: EngineState): void;
}

export interface StorageMetrics {
  readonly wal: WalMetrics;
  readonly engine: EngineMetrics;
}

const ignoreCount: CountSink = { inc: () => {} };
const ignoreObservation: ObservationSink = { observe: () => {} };

/** For a WAL whose figures nobody reads (the hint log's, a test's). */
export const noWalMetrics: WalMetrics = {
  fsyncDuration: ignoreObservation,
  bytesWritten: ignoreCount,
  recordsWritten: ignoreCount,
  groupCommitRecords: ignoreObservation,
};

/** The default of an engine opened without metrics (tests, tools). */
export const noStorageMetrics: StorageMetrics = {
  wal: noWalMetrics,
  engine: {
    checkpointDuration: ignoreObservation,
    checkpointRecords: ignoreCount,
    purgedRecords: ignoreCount,
    bind: () => {},
  },
};
