// The node's own small state, as the assembly (src/node/node-assembly.ts) sees it: the
// ring states it last heard, a join's or decommission's progress, the token ranges it
// may hold records of, when its data was last in use, and where hints are kept. A
// process node keeps them in its data directory (src/node/data-dir-stores.ts); memory
// storage keeps them in the process (memoryNodeStores below), so they live exactly as
// long as the data they describe.
import type { FileSystem } from '../fs/file-system.js';
import type { MovementProgressStore } from '../membership/ring-membership.js';
import { NO_RING_STATE_STORE, type RingStateSnapshot, type RingStateStore } from '../membership/ring-state-table.js';
import { CompletedRanges, type TokenInterval } from '../streaming/completed-ranges.js';
import type { HeldRangesStore } from '../streaming/held-ranges.js';

export interface NodeStores {
  /** The ring states saved by the previous run; `exists` is false for a new node. */
  readonly savedRingState: RingStateSnapshot & { readonly exists: boolean };
  readonly ringStateStore: RingStateStore;
  readonly progressStore: MovementProgressStore;
  /** The token ranges the node may hold records of when it starts (src/streaming/held-ranges.ts). */
  readonly heldRangesBefore: readonly TokenInterval[];
  readonly heldRangesStore: HeldRangesStore;
  /**
   * When the data was last in use (ms since the epoch); undefined for data never used.
   * Data older than the tombstone grace period may bring back deleted keys.
   */
  readonly lastSeenMs: number | undefined;
  /** Records that the data is in use now; absent when the data does not outlive the process. */
  readonly recordLastSeen?: () => Promise<void>;
  /** Directory for the hint logs (src/handoff); absent: the node keeps no hints. */
  readonly hintsDir: string | undefined;
  /** The file system the hint logs are kept on; node:fs when absent. */
  readonly hintsFileSystem?: FileSystem;
  /** Releases what the stores hold (the data directory's lock). */
  close(): Promise<void>;
}

/** Stores for a node whose data lives in the process: nothing saved, nothing to release. */
export function memoryNodeStores(options: { readonly hintsDir?: string; readonly hintsFileSystem?: FileSystem } = {}): NodeStores {
  return {
    savedRingState: { exists: false, self: undefined, peers: new Map() },
    ringStateStore: NO_RING_STATE_STORE,
    progressStore: memoryProgressStore(),
    heldRangesBefore: [],
    heldRangesStore: { save: async () => {} },
    lastSeenMs: undefined,
    hintsDir: options.hintsDir,
    ...(options.hintsFileSystem !== undefined ? { hintsFileSystem: options.hintsFileSystem } : {}),
    close: async () => {},
  };
}

/** Memory storage keeps no files: progress lives as long as the process (and its data). */
function memoryProgressStore(): MovementProgressStore {
  let saved: { kind: string; done: CompletedRanges } | undefined;
  return {
    load: async (kind) => (saved?.kind === kind ? saved.done : new CompletedRanges()),
    save: async (kind, done) => {
      saved = { kind, done };
    },
    clear: async () => {
      saved = undefined;
    },
  };
}
