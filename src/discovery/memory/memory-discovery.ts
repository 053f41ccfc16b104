// Discovery for the nodes of one in-process cluster (src/node/in-memory-cluster.ts):
// one member list shared by every node, changed by the cluster as nodes are added and
// removed (what a StatefulSet's pods are to Kubernetes discovery). Each node watches
// it through its own Discovery; a stopped watcher hears nothing more.
import type { Discovery } from '../discovery.js';
import type { Member } from '../../ring/member.js';

export class MemoryDiscovery {
  private current: readonly Member[] = [];
  private readonly watchers = new Set<(members: readonly Member[]) => void>();

  /** Replaces the member list; every watching node hears the new one. */
  setMembers(members: readonly Member[]): void {
    this.current = [...members];
    for (const watcher of [...this.watchers]) watcher(this.current);
  }

  members(): readonly Member[] {
    return this.current;
  }

  /** A node's view of the list: the current list at start, then every change. */
  discovery(): Discovery {
    let watcher: ((members: readonly Member[]) => void) | undefined;
    return {
      start: async (onChange) => {
        watcher = onChange;
        this.watchers.add(onChange);
        onChange(this.current);
      },
      stop: async () => {
        if (watcher !== undefined) this.watchers.delete(watcher);
      },
    };
  }
}
