// The port between the workload runner and a system under test. An adapter per system
// (src/bench/targets) maps the two YCSB operations onto that system's own client, so
// the same closed loop, key chooser and histograms measure quorumkv, etcd, Redis and
// the no-op gRPC floor alike. An adapter throws what its client throws; the runner
// counts failures by `code` (QkvError, gRPC, Node) or by error name.
export interface BenchItem {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface BenchTarget {
  /** Names the system in the summary, e.g. `quorumkv (3 addresses, w=2 r=2)`. */
  readonly description: string;
  /** Writes one key; resolves when the system acknowledged it. */
  put(key: Buffer, value: Buffer): Promise<void>;
  /** Reads one key; resolves true when it was found. */
  get(key: Buffer): Promise<boolean>;
  /**
   * Writes many keys in one call, when the system has such a call; resolves with the
   * number of items that failed. Absent: `--batch` is refused for this target.
   */
  batchPut?(items: readonly BenchItem[]): Promise<number>;
  close(): Promise<void>;
}
