// How long each replica takes to answer a read, as the coordinator sees it: the source
// of the speculation threshold of reads sized to the quorum (after that long without a
// quorum, one spare replica is asked; docs/decisions/0175-reads-sized-to-the-quorum.md).
//
// Per node, the last SAMPLES_KEPT read latencies in a ring buffer; the threshold is their
// 99th percentile, clamped to the floor and ceiling the caller passes (live settings). A
// node with fewer than SAMPLES_MIN samples gets the ceiling: too little is known to
// speculate early. The percentile is
// recomputed every RECOMPUTE_EVERY samples, not per read, so a read costs one array store.

/** Recent samples kept per node: enough for a stable p99, small enough to follow a change. */
export const SAMPLES_KEPT = 256;
/** Below this many samples a node's threshold is the ceiling. */
export const SAMPLES_MIN = 16;
const RECOMPUTE_EVERY = 32;
const PERCENTILE = 0.99;

interface NodeLatency {
  readonly samples: Float64Array;
  /** Where the percentile is selected, so that the samples keep their order and nothing is allocated. */
  readonly scratch: Float64Array;
  count: number;
  sinceRecompute: number;
  /** Undefined until SAMPLES_MIN samples are in. */
  p99Ms: number | undefined;
}

export class ReplicaReadLatency {
  private readonly nodes = new Map<string, NodeLatency>();

  /** One read answered by `nodeId` after `ms`. */
  record(nodeId: string, ms: number): void {
    let node = this.nodes.get(nodeId);
    if (node === undefined) {
      node = { samples: new Float64Array(SAMPLES_KEPT), scratch: new Float64Array(SAMPLES_KEPT), count: 0, sinceRecompute: 0, p99Ms: undefined };
      this.nodes.set(nodeId, node);
    }
    node.samples[node.count % SAMPLES_KEPT] = ms;
    node.count++;
    node.sinceRecompute++;
    if (node.count >= SAMPLES_MIN && (node.count === SAMPLES_MIN || node.sinceRecompute >= RECOMPUTE_EVERY)) {
      node.sinceRecompute = 0;
      node.p99Ms = percentile(node.samples, Math.min(node.count, SAMPLES_KEPT), PERCENTILE, node.scratch);
    }
  }

  /** How long to wait for `nodeId` before asking a spare: its p99, within the floor and ceiling. */
  thresholdMs(nodeId: string, floorMs: number, ceilingMs: number): number {
    const p99Ms = this.nodes.get(nodeId)?.p99Ms;
    return p99Ms === undefined ? ceilingMs : Math.min(ceilingMs, Math.max(floorMs, p99Ms));
  }

  /** Nodes are forgotten when they leave, so the map stays the size of the cluster. */
  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
}

/**
 * The value at rank ceil(fraction × count) of the first `count` samples, as sorting them
 * would give, found by selection in `scratch` instead: every read runs the recompute in
 * turn, and a sort of 256 samples every 32 reads was 1–2 % of a get's CPU in the
 * coordinator (docs/decisions/0266-lean-quorum-read-path.md).
 */
export function percentile(samples: Float64Array, count: number, fraction: number, scratch: Float64Array): number {
  scratch.set(samples.subarray(0, count));
  const rank = Math.min(count - 1, Math.ceil(fraction * count) - 1);
  // Hoare's quickselect on [left, right], which always holds the rank.
  let left = 0;
  let right = count - 1;
  while (left < right) {
    const pivot = scratch[(left + right) >>> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (scratch[i]! < pivot) i++;
      while (scratch[j]! > pivot) j--;
      if (i <= j) {
        const swap = scratch[i]!;
        scratch[i] = scratch[j]!;
        scratch[j] = swap;
        i++;
        j--;
      }
    }
    if (rank <= j) right = j;
    else if (rank >= i) left = i;
    else break;
  }
  return scratch[rank]!;
}
