// Builds an N-node cluster inside one process: per node a MemoryStorageEngine, a
// LocalReplica, its own HybridLogicalClock (with an optional wall clock of its own), a
// MemoryTransport on a shared MemoryNetwork and a Coordinator. Tests reach every part
// (the network for faults, the engines to look at what each replica holds).
//
// Placement is a tiny fixed function unless a test passes its own: the key's token picks
// a starting node and the next N nodes in id order are its replicas, so with as many
// nodes as N every node replicates every key.
import { createHash } from 'node:crypto';
import type { Clock } from '../../src/clock/clock.js';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { naturalOnly, type CoordinatorConfig, type HintSink, type Placement } from '../../src/coordinator/coordinator-config.js';
import type { PeerLiveness } from '../../src/replica/peer-liveness.js';
import type { CoordinatorMetrics } from '../../src/coordinator/coordinator-metrics.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { silentLogger, type Logger } from '../../src/logging/logger.js';
import type { TokenFunction } from '../../src/ring/token-range.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { MemoryNetwork, type MemoryNetworkOptions } from '../../src/transport/memory/memory-network.js';
import type { MemoryTransport } from '../../src/transport/memory/memory-transport.js';

/** A stand-in for the ring's xxHash64 token: the first 8 bytes of SHA-256. */
export const testTokenOf: TokenFunction = (key) => createHash('sha256').update(key).digest().readBigUInt64BE(0);

/** N consecutive nodes (in the given order) starting at the key's token modulo the node count. */
export function consecutivePlacement(nodeIds: readonly string[], replicationFactor: number): Placement {
  return (key) => {
    const start = Number(testTokenOf(key) % BigInt(nodeIds.length));
    return naturalOnly(Array.from({ length: Math.min(replicationFactor, nodeIds.length) }, (_, i) => nodeIds[(start + i) % nodeIds.length]!));
  };
}

export interface MemoryClusterOptions {
  /** Node ids, or how many nodes to name node-0, node-1, ... (default 3). */
  readonly nodes?: number | readonly string[];
  /** N; defaults to min(3, node count). */
  readonly replicationFactor?: number;
  readonly placement?: Placement;
  /** Coordinator settings shared by every node. */
  readonly coordinator?: Omit<CoordinatorConfig, 'nodeId' | 'replicationFactor'>;
  /**
   * Time for every deadline, delay and timer in the cluster (a ManualClock for virtual
   * time); the machine's clock when absent. The nodes' wall clocks read it too.
   */
  readonly clock?: Clock;
  /** Wall clock per node id for its HLC and TTLs; `clock`'s otherwise. */
  readonly wallClocks?: Readonly<Record<string, () => number>>;
  readonly network?: MemoryNetworkOptions;
  readonly metrics?: (nodeId: string) => CoordinatorMetrics;
  readonly logger?: Logger;
  /** Failure detection per node (src/membership/failure-detector.ts); none when absent. */
  readonly liveness?: (nodeId: string) => PeerLiveness;
  /** Hint store per node (src/handoff); none when absent. */
  readonly hints?: (nodeId: string) => HintSink;
  /** Another coordinator class with the same constructor (a reference copy for a differential test); Coordinator when absent. */
  readonly coordinatorClass?: typeof Coordinator;
}

export interface MemoryClusterNode {
  readonly id: string;
  readonly engine: MemoryStorageEngine;
  readonly replica: LocalReplica;
  readonly clock: HybridLogicalClock;
  readonly transport: MemoryTransport;
  readonly coordinator: Coordinator;
}

export class MemoryCluster {
  readonly network: MemoryNetwork;
  readonly nodes: readonly MemoryClusterNode[];
  readonly replicationFactor: number;

  constructor(options: MemoryClusterOptions = {}) {
    const ids = typeof options.nodes === 'object' ? [...options.nodes] : Array.from({ length: options.nodes ?? 3 }, (_, i) => `node-${i}`);
    this.replicationFactor = options.replicationFactor ?? Math.min(3, ids.length);
    const placement = options.placement ?? consecutivePlacement(ids, this.replicationFactor);
    const time = options.clock;
    this.network = new MemoryNetwork(time === undefined ? options.network : { ...options.network, clock: time });
    this.nodes = ids.map((id) => {
      const wallClock = options.wallClocks?.[id] ?? (time === undefined ? Date.now : () => time.nowMs());
      const engine = new MemoryStorageEngine(testTokenOf);
      const clock = new HybridLogicalClock(wallClock);
      const replica = new LocalReplica(engine, clock, { tokenOf: testTokenOf, nowMs: wallClock });
      this.network.register(id, replica);
      const transport = this.network.transport(id);
      const coordinator = new (options.coordinatorClass ?? Coordinator)(
        { ...options.coordinator, nodeId: id, replicationFactor: this.replicationFactor },
        {
          placement,
          transport,
          localReplica: replica,
          clock,
          logger: options.logger ?? silentLogger,
          wallClock,
          ...(time === undefined ? {} : { time }),
          ...(options.metrics ? { metrics: options.metrics(id) } : {}),
          ...(options.liveness ? { liveness: options.liveness(id) } : {}),
          ...(options.hints ? { hints: options.hints(id) } : {}),
        },
      );
      return { id, engine, replica, clock, transport, coordinator };
    });
  }

  node(id: string): MemoryClusterNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no node ${id} in this cluster`);
    return node;
  }

  /** What each replica holds for a key, by node id (undefined = nothing). */
  holdings(key: Buffer): Record<string, KvRecord | undefined> {
    return Object.fromEntries(this.nodes.map((node) => [node.id, node.engine.get(key)]));
  }

  /**
   * Waits until no coordinator has a call, late reply or background repair pending and
   * no message or handler is busy on the network. Coordinator work only ever waits on the
   * network, never the other way round, so one pass in this order suffices.
   */
  async settle(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.coordinator.idle()));
    await this.network.idle();
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.coordinator.close()));
    await Promise.all(this.nodes.map((node) => node.transport.close()));
    await this.network.idle();
    await Promise.all(this.nodes.map((node) => node.engine.close()));
  }
}
