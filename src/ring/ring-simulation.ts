// `qkv ring simulate`: how evenly a placement strategy spreads keys and how many keys it
// moves when the cluster grows or shrinks by one node. It replays the path the design
// took — modulo hashing, a consistent ring with one token per node, virtual nodes — on
// the user's own numbers, so the reasons for the final design can be checked rather
// than believed.
//
// Every strategy places the same synthetic keys (`key-0`, `key-1`, ...; token = xxh64 of
// the key's UTF-8 bytes) on nodes `<prefix>0` .. `<prefix>(n-1)` (prefix `node-` unless
// given; a StatefulSet named quorumkv has pods `quorumkv-0`, ...). Virtual node tokens
// are hashes of the names, so balance depends on them and the prefix lets users check
// their own names:
//   modulo      replicas of a key are nodes (t mod n), (t mod n)+1, ... (mod n)
//   consistent  HashRing with one token per node
//   virtual     HashRing with `vnodes` tokens per node (what quorumkv runs)
// Growing adds `<prefix>n`; shrinking removes `<prefix>(n-1)`. A key "moves" when its primary
// changes; a replica moves when a node holds it after the change that did not before.
// The ideal is that only the added node's fair share moves, 1/(n+1) of all keys, and
// when one node is removed only the removed node's share, 1/n.
import { HashRing } from './hash-ring.js';
import type { XxHash64 } from './token-hasher.js';

export const PLACEMENT_STRATEGIES = ['modulo', 'consistent', 'virtual'] as const;
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

export interface SimulationOptions {
  readonly strategies: readonly PlacementStrategy[];
  readonly nodes: number;
  readonly keys: number;
  readonly vnodes: number;
  readonly replicas: number;
  /** Node i is named `${nodePrefix}${i}`. */
  readonly nodePrefix: string;
}

export const NODE_PREFIX_DEFAULT = 'node-';

export interface LoadStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Population standard deviation as a percentage of the mean. */
  readonly stddevPercentOfMean: number;
  readonly maxOverMean: number;
  /** Count per node, in node order (node 0 first). */
  readonly perNode: readonly number[];
}

export interface MovementStats {
  readonly nodesBefore: number;
  readonly nodesAfter: number;
  /** The node added or removed. */
  readonly node: string;
  /** Keys whose primary changed, as a percentage of all keys. */
  readonly keysMovedPercent: number;
  /** Replicas that landed on a node that did not hold them before, as a percentage of all replicas after. */
  readonly replicasMovedPercent: number;
  /** The ideal percentage: the added node's fair share 100/(n+1), or the removed node's 100/n. */
  readonly idealPercent: number;
}

export interface StrategyResult {
  readonly strategy: PlacementStrategy;
  /** Tokens per node; 0 for modulo, which has no ring. */
  readonly tokensPerNode: number;
  /** Keys per node as primary. */
  readonly primaryLoad: LoadStats;
  /** Replicas per node (each key counts once on each of its min(N, n) nodes). */
  readonly replicaLoad: LoadStats;
  readonly addOneNode: MovementStats;
  /** Absent when there is only one node to start with. */
  readonly removeOneNode: MovementStats | null;
}

export interface SimulationResult {
  readonly nodePrefix: string;
  readonly nodes: number;
  readonly keys: number;
  readonly vnodes: number;
  readonly replicas: number;
  readonly results: readonly StrategyResult[];
}

/** Maps a key token to its replicas as node indices (node i has index i), primary first. */
interface Placement {
  readonly width: number;
  place(token: bigint, out: Uint32Array): void;
}

export function nodeName(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

function moduloPlacement(nodeCount: number, replicas: number): Placement {
  const width = Math.min(replicas, nodeCount);
  const modulus = BigInt(nodeCount);
  return {
    width,
    place(token, out) {
      const primary = Number(token % modulus);
      for (let offset = 0; offset < width; offset++) out[offset] = (primary + offset) % nodeCount;
    },
  };
}

function ringPlacement(nodeCount: number, vnodes: number, options: SimulationOptions, hash: XxHash64): Placement {
  const { replicas, nodePrefix } = options;
  const members = Array.from({ length: nodeCount }, (_, index) => ({ id: nodeName(nodePrefix, index) }));
  const ring = HashRing.build(members, { vnodes, replicationFactor: replicas }, hash);
  const width = Math.min(replicas, nodeCount);
  // Translate each range's replica ids to node indices once, so placing a key is a
  // binary search and a copy.
  const indexOf = new Map(members.map((member, index) => [member.id, index]));
  const table = new Uint32Array(ring.rangeCount * width);
  for (let position = 0; position < ring.rangeCount; position++) {
    ring.preferenceListAt(position).forEach((id, offset) => {
      table[position * width + offset] = indexOf.get(id)!;
    });
  }
  return {
    width,
    place(token, out) {
      const base = ring.positionOf(token) * width;
      for (let offset = 0; offset < width; offset++) out[offset] = table[base + offset]!;
    },
  };
}

function placementFor(
  strategy: PlacementStrategy,
  nodeCount: number,
  options: SimulationOptions,
  hash: XxHash64,
): Placement {
  switch (strategy) {
    case 'modulo':
      return moduloPlacement(nodeCount, options.replicas);
    case 'consistent':
      return ringPlacement(nodeCount, 1, options, hash);
    case 'virtual':
      return ringPlacement(nodeCount, options.vnodes, options, hash);
  }
}

export function loadStats(perNode: readonly number[]): LoadStats {
  const count = perNode.length;
  const mean = perNode.reduce((sum, value) => sum + value, 0) / count;
  const variance = perNode.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count;
  const max = Math.max(...perNode);
  return {
    min: Math.min(...perNode),
    max,
    mean,
    stddevPercentOfMean: mean === 0 ? 0 : (Math.sqrt(variance) / mean) * 100,
    maxOverMean: mean === 0 ? 0 : max / mean,
    perNode,
  };
}

/** Places every key under `base`, keeping the replica sets to compare against. */
function placeAll(tokens: BigUint64Array, placement: Placement, nodeCount: number) {
  const { width } = placement;
  const assigned = new Uint32Array(tokens.length * width);
  const primary = new Array<number>(nodeCount).fill(0);
  const replica = new Array<number>(nodeCount).fill(0);
  const out = new Uint32Array(width);
  for (let key = 0; key < tokens.length; key++) {
    placement.place(tokens[key]!, out);
    assigned.set(out, key * width);
    primary[out[0]!]!++;
    for (let offset = 0; offset < width; offset++) replica[out[offset]!]!++;
  }
  return { assigned, primary, replica };
}

function movement(
  tokens: BigUint64Array,
  assigned: Uint32Array,
  widthBefore: number,
  after: Placement,
  nodesBefore: number,
  nodesAfter: number,
  node: string,
): MovementStats {
  const out = new Uint32Array(after.width);
  let keysMoved = 0;
  let replicasMoved = 0;
  for (let key = 0; key < tokens.length; key++) {
    after.place(tokens[key]!, out);
    const base = key * widthBefore;
    if (out[0] !== assigned[base]) keysMoved++;
    for (let offset = 0; offset < after.width; offset++) {
      let held = false;
      for (let previous = 0; previous < widthBefore; previous++) {
        if (assigned[base + previous] === out[offset]) {
          held = true;
          break;
        }
      }
      if (!held) replicasMoved++;
    }
  }
  return {
    nodesBefore,
    nodesAfter,
    node,
    keysMovedPercent: (keysMoved / tokens.length) * 100,
    replicasMovedPercent: (replicasMoved / (tokens.length * after.width)) * 100,
    idealPercent: (1 / Math.max(nodesBefore, nodesAfter)) * 100,
  };
}

/** Hashes the synthetic keys once; every strategy places the same tokens. */
export function simulationKeyTokens(keys: number, hash: XxHash64): BigUint64Array {
  const tokens = new BigUint64Array(keys);
  for (let key = 0; key < keys; key++) tokens[key] = hash.text(`key-${key}`);
  return tokens;
}

export function simulatePlacement(options: SimulationOptions, hash: XxHash64): SimulationResult {
  const tokens = simulationKeyTokens(options.keys, hash);
  const n = options.nodes;
  const results = options.strategies.map((strategy): StrategyResult => {
    const base = placementFor(strategy, n, options, hash);
    const { assigned, primary, replica } = placeAll(tokens, base, n);
    const grown = placementFor(strategy, n + 1, options, hash);
    const addOneNode = movement(tokens, assigned, base.width, grown, n, n + 1, nodeName(options.nodePrefix, n));
    let removeOneNode: MovementStats | null = null;
    if (n > 1) {
      const shrunk = placementFor(strategy, n - 1, options, hash);
      removeOneNode = movement(tokens, assigned, base.width, shrunk, n, n - 1, nodeName(options.nodePrefix, n - 1));
    }
    return {
      strategy,
      tokensPerNode: strategy === 'modulo' ? 0 : strategy === 'consistent' ? 1 : options.vnodes,
      primaryLoad: loadStats(primary),
      replicaLoad: loadStats(replica),
      addOneNode,
      removeOneNode,
    };
  });
  return { nodePrefix: options.nodePrefix, nodes: n, keys: options.keys, vnodes: options.vnodes, replicas: options.replicas, results };
}
