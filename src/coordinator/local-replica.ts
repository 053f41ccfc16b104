// The replica side of the PeerTransport port over this node's own storage engine. The
// coordinator calls it directly when the node is in a key's preference list, and the
// transports (memory, gRPC) call it when a peer's message arrives.
//
// Both directions feed the hybrid logical clock: a replica that stores or serves a stamp
// from another coordinator must issue later stamps itself, so that a write this node
// coordinates after seeing another node's write sorts after it (causality across nodes).
import type { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import type { KvRecord } from '../storage/record.js';
import type { StorageEngine } from '../storage/storage-engine.js';
import type { ReplicaHandler } from '../transport/peer-transport.js';

export class LocalReplica implements ReplicaHandler {
  constructor(
    private readonly engine: StorageEngine,
    private readonly clock: HybridLogicalClock,
  ) {}

  async apply(records: readonly KvRecord[]): Promise<void> {
    for (const record of records) this.clock.observe(record.version.stamp);
    await this.engine.apply(records);
  }

  async read(keys: readonly Buffer[]): Promise<Array<KvRecord | undefined>> {
    return keys.map((key) => {
      const record = this.engine.get(key);
      if (record !== undefined) this.clock.observe(record.version.stamp);
      return record;
    });
  }
}
