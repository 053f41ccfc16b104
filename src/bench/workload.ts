// The YCSB core workloads `qkv bench` runs (Cooper et al., "Benchmarking Cloud Serving
// Systems with YCSB", SoCC 2010), restricted to what a key-value API without scans
// offers: every operation is a read of one key or an update (a put) of one key, and the
// workload fixes the share of reads. The key space is loaded before the run, so reads
// find their keys and updates overwrite existing ones, as in YCSB.
export interface Workload {
  /** The name on the command line: a, b, c, write-only. */
  readonly name: WorkloadName;
  /** Share of operations that are reads, 0..1; the rest are updates. */
  readonly readFraction: number;
  readonly description: string;
}

export const WORKLOAD_NAMES = ['a', 'b', 'c', 'write-only'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export const WORKLOADS: { readonly [K in WorkloadName]: Workload } = {
  a: { name: 'a', readFraction: 0.5, description: 'YCSB A: 50% reads, 50% updates' },
  b: { name: 'b', readFraction: 0.95, description: 'YCSB B: 95% reads, 5% updates' },
  c: { name: 'c', readFraction: 1, description: 'YCSB C: reads only' },
  'write-only': { name: 'write-only', readFraction: 0, description: 'updates only' },
};

export function isWorkloadName(text: string): text is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(text);
}

/** The fixed-width key YCSB uses, `user` and the record number, so every key has one size. */
export function keyOf(record: number): Buffer {
  return Buffer.from(`user${record.toString().padStart(10, '0')}`);
}
