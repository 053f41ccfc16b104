// The port between a coordinator and the replicas it fans out to. The core calls
// only this interface; src/transport/memory (in-process, with fault hooks) and
// src/transport/grpc (one long-lived connection per peer, per-turn batching) are its
// adapters. A node serves the other side of the port through a ReplicaHandler.
import type { KvRecord } from '../storage/record.js';

/** What a replica does when a peer's message reaches it. */
export interface ReplicaHandler {
  /** Applies records to the local engine under last-writer-wins; resolves when durable. */
  apply(records: readonly KvRecord[]): Promise<void>;
  /** The local record for each key (tombstones included), or undefined. */
  read(keys: readonly Buffer[]): Promise<Array<KvRecord | undefined>>;
}

export interface PeerCallOptions {
  /** Absolute deadline (Date.now() based) after which the call is abandoned. */
  readonly deadlineMs: number;
}

export interface PeerTransport {
  /** Sends records to one peer; resolves when that peer has applied them durably. */
  apply(peer: string, records: readonly KvRecord[], options: PeerCallOptions): Promise<void>;
  /** Reads keys from one peer; one answer per key, in order. */
  read(peer: string, keys: readonly Buffer[], options: PeerCallOptions): Promise<Array<KvRecord | undefined>>;
  /** Releases connections and timers; later calls reject. */
  close(): Promise<void>;
}
