// The port through which the scale controller talks to one member: read its status
// (ring state, streaming progress, whether it needs a cleanup), ask it to decommission,
// and ask it to clean up the ranges it no longer replicates. The production
// adapter is gRPC to the member's Admin service (./grpc-node-admin.ts); the contract is
// proto/quorumkv/v1/admin.proto: Decommission returns at once with LEAVING (or LEFT),
// and Status reports ring_state JOINING, NORMAL, LEAVING or LEFT with `stream` progress.

/** A member's place in the ring as it reports it; '' from software that predates it. */
export type RingState = 'JOINING' | 'NORMAL' | 'LEAVING' | 'LEFT' | '';

export const RING_STATES: readonly RingState[] = ['JOINING', 'NORMAL', 'LEAVING', 'LEFT', ''];

export interface StreamProgressView {
  readonly rangesDone: number;
  readonly rangesTotal: number;
  readonly keys: number;
  readonly bytes: number;
}

/** A member's cleanup as it reports it (Admin.Status `cleanup`). */
export interface CleanupView {
  /** It may hold records of ranges it no longer replicates. */
  readonly needed: boolean;
  readonly running: boolean;
  readonly rangesDone: number;
  readonly rangesTotal: number;
  readonly recordsRemoved: number;
}

/** What a finished Admin.Cleanup reports. */
export interface CleanupResult {
  readonly recordsScanned: number;
  readonly recordsRemoved: number;
  readonly elapsedMs: number;
}

export interface NodeStatusView {
  /** The node id the member answers with; must equal the pod name. */
  readonly nodeId: string;
  /** Any text the member sent; anything but the known states is treated as unknown. */
  readonly ringState: string;
  /** While JOINING or LEAVING, when the member reports it. */
  readonly stream: StreamProgressView | undefined;
  /** Undefined from software that predates cleanup. */
  readonly cleanup?: CleanupView;
}

export interface NodeAdmin {
  /** The member's status; rejects when it cannot be reached or does not answer in time. */
  status(address: string): Promise<NodeStatusView>;
  /** Starts the member's decommission; resolves with its ring state after the call. */
  decommission(address: string): Promise<string>;
  /**
   * Runs the member's cleanup; resolves when it is done. A call that outlives its
   * deadline rejects with DEADLINE_EXCEEDED while the member goes on (Status shows it running).
   */
  cleanup(address: string): Promise<CleanupResult>;
  /** Frees whatever is held for addresses not in the set (pods that are gone). */
  retain(addresses: ReadonlySet<string>): void;
  close(): void;
}
