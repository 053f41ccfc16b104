// A whole cluster of complete nodes in one process (docs/decisions/0110-node-assembly-and-shells.md):
// each node is the same NodeAssembly a process runs (src/node/node-assembly.ts), built
// from in-process ports: a MemoryStorageEngine, a MemoryTransport on one shared
// MemoryNetwork (partition, delay, drop: src/transport/memory), one shared member list
// as discovery (src/discovery/memory) and stores that keep nothing on disk. Joining,
// decommission, hinted handoff, anti-entropy and cleanup run here because they are the
// same code as in a process. Even the hint logs stay in memory: each node keeps them
// on a disk of its own in memory (src/fs/power-cut-file-system.ts, whose power is never
// cut here), which goes with the node.
//
// Tests use it directly; `qkv local-cluster --in-memory` (src/cli/commands/in-memory-local-cluster.ts)
// puts a gRPC and an HTTP shell in front of each node.
import type { Registry } from 'prom-client';
import { systemClock, type Clock } from '../clock/clock.js';
import { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import { MemoryDiscovery } from '../discovery/memory/memory-discovery.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import type { Member } from '../ring/member.js';
import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import { PowerCutDisk } from '../fs/power-cut-file-system.js';
import { MemoryStorageEngine } from '../storage/memory/memory-storage-engine.js';
import { MemoryNetwork, type MemoryNetworkOptions } from '../transport/memory/memory-network.js';
import { NODE_CONFIG_DEFAULTS } from '../config/node-config.js';
import { NodeAssembly, type NodeSettings } from './node-assembly.js';
import { memoryNodeStores, type NodeStores } from './node-stores.js';

/** A drain step may take this long before the close gives up on it. */
const CLOSE_STEP_MS = 5_000;
/** Where a node keeps its hint logs on its disk in memory. */
const HINTS_DIR = '/hints';

export interface InMemoryClusterOptions {
  /** Node ids, or how many nodes to name node-1, node-2, ... */
  readonly nodes: number | readonly string[];
  readonly replicationFactor: number;
  /** Settings every node shares, over the defaults of `qkv server`. */
  readonly settings?: Partial<Omit<NodeSettings, 'nodeId' | 'replicationFactor'>>;
  readonly network?: MemoryNetworkOptions;
  /** The logger of each node; silent when absent. */
  readonly logger?: (nodeId: string) => Logger;
  /**
   * The stores of a node, given the in-memory ones; a test wraps them to inject a fault
   * (a damaged progress file, a slow save). The in-memory stores when absent.
   */
  readonly stores?: (nodeId: string, stores: NodeStores) => NodeStores;
  /** The address Status shows for a member (its client port, when a shell serves one); `memory:<id>` when absent. */
  readonly address?: (nodeId: string) => string;
}

/** One node of the cluster, with the parts a test or a shell reaches. */
export interface InMemoryNode {
  readonly id: string;
  readonly assembly: NodeAssembly;
  readonly storage: MemoryStorageEngine;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Called whenever the node's state or ring state changes (health follows it). */
  onStatusChanged(listener: () => void): void;
}

export class InMemoryCluster {
  readonly network: MemoryNetwork;
  private readonly discovery = new MemoryDiscovery();
  private readonly running = new Map<string, InMemoryNode>();
  private closed = false;

  /** The network's clock, which every node runs on too. */
  private readonly time: Clock;

  private constructor(private readonly options: InMemoryClusterOptions) {
    this.network = new MemoryNetwork(options.network);
    this.time = options.network?.clock ?? systemClock;
  }

  /**
   * Starts the first nodes together. Every node decides its ring state before any of
   * them answers a peer, so all start NORMAL as one new cluster (a node that heard a
   * NORMAL peer would join it instead).
   */
  static async start(options: InMemoryClusterOptions): Promise<InMemoryCluster> {
    const ids = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`) : [...options.nodes];
    if (ids.length === 0) throw new Error('an in-memory cluster needs at least one node');
    const cluster = new InMemoryCluster(options);
    try {
      cluster.discovery.setMembers(ids.map((id) => cluster.memberOf(id)));
      const nodes = ids.map((id) => cluster.build(id));
      await Promise.all(nodes.map((node) => node.assembly.open()));
      for (const node of nodes) cluster.network.register(node.id, node.assembly.replicaHandler);
      await Promise.all(nodes.map((node) => node.assembly.serve()));
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** The running nodes, in the order they were added. */
  nodes(): InMemoryNode[] {
    return [...this.running.values()];
  }

  node(id: string): InMemoryNode {
    const node = this.running.get(id);
    if (node === undefined) throw new Error(`no running node ${id} in this cluster`);
    return node;
  }

  /**
   * Adds a new node, as scaling a StatefulSet up would: every member discovers it, and
   * it joins (JOINING, streaming its ranges in the background, then NORMAL). Resolves
   * once it serves replica calls; `InMemoryNode.assembly.unreadyReason()` says when the
   * join is done.
   */
  async addNode(id: string): Promise<InMemoryNode> {
    if (this.running.has(id)) throw new Error(`node ${id} is already running`);
    this.discovery.setMembers([...this.discovery.members(), this.memberOf(id)]);
    const node = this.build(id);
    try {
      await node.assembly.open();
      this.network.register(id, node.assembly.replicaHandler);
      await node.assembly.serve();
      return node;
    } catch (error) {
      await this.removeNode(id);
      throw error;
    }
  }

  /**
   * Stops a node and takes it out of the cluster, as scaling a StatefulSet down would:
   * drained and closed, gone from the network, dropped by discovery (its peers keep
   * it in their rings until it has announced LEFT). Decommission it first to keep its
   * data's replica count.
   */
  async removeNode(id: string): Promise<void> {
    const node = this.running.get(id);
    this.running.delete(id);
    if (node !== undefined) await this.stop(node);
    this.network.unregister(id);
    this.discovery.setMembers(this.discovery.members().filter((member) => member.id !== id));
  }

  /** Drains and closes every node. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const nodes = this.nodes();
    this.running.clear();
    for (const node of nodes) node.assembly.beginDrain();
    await Promise.all(nodes.map((node) => this.stop(node)));
    for (const node of nodes) this.network.unregister(node.id);
    await this.network.idle();
  }

  private build(id: string): InMemoryNode {
    const { options } = this;
    const logger = options.logger?.(id) ?? silentLogger;
    const registry = createMetricsRegistry({ nodeId: id });
    const storage: { engine?: MemoryStorageEngine } = {};
    const listeners: Array<() => void> = [];
    const settings: NodeSettings = {
      ...NODE_CONFIG_DEFAULTS,
      ...options.settings,
      nodeId: id,
      replicationFactor: options.replicationFactor,
    };
    const assembly = new NodeAssembly(
      settings,
      {
        openStorage: async (tokenOf) => (storage.engine = new MemoryStorageEngine(tokenOf)),
        transport: () => this.network.transport(id),
        discovery: this.discovery.discovery(),
        // One time for the network and every node (deadlines, timers, liveness, expiry and
        // the stamps of writes), so a test on a ManualClock moves all of them together.
        clock: new HybridLogicalClock(() => this.time.nowMs()),
        time: this.time,
        registry,
        logger,
        stores: this.storesOf(id),
      },
      { onStatusChanged: () => listeners.forEach((listener) => listener()) },
    );
    const node: InMemoryNode = {
      id,
      assembly,
      get storage(): MemoryStorageEngine {
        if (storage.engine === undefined) throw new Error(`node ${id} has not opened its storage yet`);
        return storage.engine;
      },
      registry,
      logger,
      onStatusChanged: (listener) => void listeners.push(listener),
    };
    this.running.set(id, node);
    return node;
  }

  private storesOf(id: string): NodeStores {
    const stores = memoryNodeStores({ hintsDir: HINTS_DIR, hintsFileSystem: new PowerCutDisk({ directories: [HINTS_DIR] }).fileSystem() });
    return this.options.stores?.(id, stores) ?? stores;
  }

  /** Members of an in-memory cluster need no network address: the MemoryNetwork routes by id. */
  private memberOf(id: string): Member {
    return { id, address: this.options.address?.(id) ?? `memory:${id}`, ready: true };
  }

  private async stop(node: InMemoryNode): Promise<void> {
    node.assembly.beginDrain();
    await node.assembly.close(CLOSE_STEP_MS);
  }
}

