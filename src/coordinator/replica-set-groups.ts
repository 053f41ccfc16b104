// The keys of one batch write grouped by the set of replicas they go to, so that the
// quorum machinery (replica-fanout.ts) counts acks once per group instead of once per
// key (docs/decisions/0255-batch-writes-counted-per-replica-set.md).
//
// A write asks every replica of a key at once and each replica gets one message for
// all of its keys, so every key of a group sees the same replies in the same order: the
// same acks, the same failures, the same moment its quorum is met or lost. Counting them
// per key did the same work once per key per reply; on three nodes with N=3 every key of
// a BatchPut goes to the same three nodes, and its 100 keys are one group.
//
// A group is named by its replicas as a set (order does not matter to a write: all are
// asked) and the acks it needs (W plus the key's pending replicas). The name of a
// placement is worked out once per placement object: the ring hands out one frozen
// placement per ring position, so a batch names at most a few hundred of them.
import type { KeyPlacement } from './coordinator-config.js';
import type { FanoutItem } from './replica-fanout.js';

/** A placement's replicas as a write asks them: natural first, then pending. */
export interface WriteReplicas {
  readonly replicas: readonly string[];
  /** Pending replicas among them: each adds one ack to W. */
  readonly pendingCount: number;
  /** The replica set and the pending count, as one string: equal for equal sets. */
  readonly setName: string;
}

/**
 * Remembers each placement's WriteReplicas for as long as the placement lives (the ring
 * drops its placements when it changes, and with them these). A placement made anew for
 * every key (a test's placement function) is named anew every time: correct, only slower.
 */
export class WriteReplicaCache {
  private readonly cache = new WeakMap<KeyPlacement, WriteReplicas>();

  /**
   * `placed` as the port returned it; `checked()` the same placement checked and cut to N
   * (Coordinator.placementOf), asked for only the first time `placed` is seen: a
   * placement object does not change, so checking it once is checking it every time.
   */
  of(placed: KeyPlacement, checked: () => KeyPlacement): WriteReplicas {
    const cached = this.cache.get(placed);
    if (cached !== undefined) return cached;
    const { natural, pending } = checked();
    const replicas = pending.length === 0 ? natural : [...natural, ...pending];
    // Node ids hold no NUL, so the joined sorted ids name the set unambiguously.
    const setName = `${pending.length}\u0000${[...replicas].sort().join('\u0000')}`;
    const named: WriteReplicas = { replicas, pendingCount: pending.length, setName };
    this.cache.set(placed, named);
    return named;
  }
}

export class ReplicaSetGroups {
  /** One fan-out item per group: the replicas of its first key and the acks it needs. */
  readonly items: FanoutItem[] = [];
  private readonly groupOfKey: Int32Array;
  private readonly keysOfGroup: number[][] = [];
  private readonly groupOfSet = new Map<string, number>();
  private added = 0;

  constructor(keyCount: number) {
    this.groupOfKey = new Int32Array(keyCount);
  }

  /** Adds the next key (keys are added in order, 0 first) with its replicas and W. */
  add(replicas: WriteReplicas, w: number): void {
    const keyIndex = this.added++;
    let group = this.groupOfSet.get(replicas.setName);
    if (group === undefined) {
      group = this.items.length;
      this.groupOfSet.set(replicas.setName, group);
      this.items.push({ replicas: replicas.replicas, required: w + replicas.pendingCount });
      this.keysOfGroup.push([]);
    }
    this.groupOfKey[keyIndex] = group;
    this.keysOfGroup[group]!.push(keyIndex);
  }

  groupOf(keyIndex: number): number {
    return this.groupOfKey[keyIndex]!;
  }

  /**
   * The keys of the groups at `groupIndices`, ascending, as SharedBatchEncoding.of takes
   * them. Made from those groups' own keys, not by walking the whole batch: with more
   * nodes than N a batch's keys fall into many groups and every node asks for its own
   * few, so a walk of every key per node would cost nodes × keys.
   */
  keysOf(groupIndices: readonly number[]): readonly number[] {
    if (groupIndices.length === 1) return this.keysOfGroup[groupIndices[0]!]!;
    let count = 0;
    for (const group of groupIndices) count += this.keysOfGroup[group]!.length;
    const keys = new Int32Array(count);
    let at = 0;
    for (const group of groupIndices) for (const keyIndex of this.keysOfGroup[group]!) keys[at++] = keyIndex;
    // A typed array sorts numerically; each group's keys are ascending, the groups interleave.
    return Array.from(keys.sort());
  }
}
