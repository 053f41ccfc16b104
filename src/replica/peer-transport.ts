// The port between a coordinator and the replicas it fans out to. The core calls
// only this interface; src/transport/memory (in-process, with fault hooks) and
// src/transport/grpc (one long-lived connection per peer, per-turn batching) are its
// adapters. A node serves the other side of the port through a ReplicaHandler.
import type { AnnouncedRingState, ForgottenMember } from '../ring/ring-state.js';
import type { TokenRange } from '../ring/token-range.js';
import type { KvRecord } from '../storage/record.js';
import type { ScanCursor, ScanPage } from '../storage/storage-engine.js';

/** A replica's Merkle tree of one token range (src/replica/merkle-tree.ts). */
export interface MerkleTreeSummary {
  readonly root: Buffer;
  /** Leaf hashes in token order; a power of two of them. */
  readonly leaves: Buffer[];
  readonly records: number;
}

/** A probe (src/membership/peer-prober.ts): who sends it and what it knows about ring states. */
export interface ProbeHello {
  /** The sender's node id; '' for an anonymous liveness check. */
  readonly sender: string;
  /** The sender's own ring state; undefined while it has not chosen one (starting). */
  readonly ringState: AnnouncedRingState | undefined;
  /** The receiver's ring state as the sender last heard it; undefined when never heard. */
  readonly heardRingState: AnnouncedRingState | undefined;
  /** The members the sender knows were forgotten (`qkv forget`); passed on by every probe. */
  readonly forgotten?: readonly ForgottenMember[];
}

/** Digests of a node's read and write rings (src/ring/placement-rings.ts). */
export interface RingDigests {
  readonly read: string;
  readonly write: string;
}

/** A probe's answer: the receiver's own ring state (undefined while it has none). */
export interface ProbeAnswer {
  readonly ringState: AnnouncedRingState | undefined;
  /** The receiver's rings as it routes by them now; undefined from a peer that does not say. */
  readonly ringDigests?: RingDigests;
  /** The members the receiver knows were forgotten (`qkv forget`). */
  readonly forgotten?: readonly ForgottenMember[];
}

/** What a replica does when a peer's message reaches it. */
export interface ReplicaHandler {
  /**
   * Applies records to the local engine under last-writer-wins; resolves when durable.
   * `encoding`: their batch encoding as received, for the engine (StorageEngine.apply).
   */
  apply(records: readonly KvRecord[], encoding?: Buffer): Promise<void>;
  /**
   * The local record for each key (tombstones included), or undefined. With
   * `answerBytesMax` the answer may be a prefix of `keys`: the replica stops once the
   * records answered hold that many bytes of keys and values, always answering at least
   * one key (docs/decisions/0040-bounded-batch-get-memory.md).
   */
  read(keys: readonly Buffer[], answerBytesMax?: number): Promise<Array<KvRecord | undefined>>;
  // Anti-entropy (src/repair). Optional so that a test replica may serve only the
  // request path; a transport answers INTERNAL when a peer's handler lacks them.
  /** The Merkle tree of the local records in `range`, 2^depth leaves (fewer for tiny ranges). */
  merkleTree?(range: TokenRange, depth: number): Promise<MerkleTreeSummary>;
  /** One page of the local records in `range`, tombstones included, in (token, key) order. */
  scan?(range: TokenRange, limit: number, resumeAfter?: ScanCursor): Promise<ScanPage>;
  /** Answers a peer's probe; a replica without it answers with no ring state. */
  probe?(hello: ProbeHello): Promise<ProbeAnswer>;
}

export interface PeerCallOptions {
  /** Absolute deadline (Date.now() based) after which the call is abandoned. */
  readonly deadlineMs: number;
}

export interface ApplyCallOptions extends PeerCallOptions {
  /**
   * The records' batch encoding (src/storage/record-codec.ts), when the caller has it
   * already: a transport sends it as it is instead of encoding the records again
   * (src/replica/shared-batch-encoding.ts). It must encode exactly `records`, in order.
   */
  readonly encoding?: Buffer;
}

export interface ReadCallOptions extends PeerCallOptions {
  /**
   * Bytes of keys and values the caller will hold for this read. Once the answers hold
   * that many, the keys after them are not asked for: the answer is then a prefix of
   * the keys, never empty for a non-empty read, and may exceed the bound by what one
   * reply of the peer carries (REPLICA_ANSWER_BYTES_MAX and one record). Absent: every
   * key is answered.
   */
  readonly answerBytesMax?: number;
}

export interface PeerTransport {
  /** Sends records to one peer; resolves when that peer has applied them durably. */
  apply(peer: string, records: readonly KvRecord[], options: ApplyCallOptions): Promise<void>;
  /** Reads keys from one peer; one answer per key, in order (a prefix of them under `answerBytesMax`). */
  read(peer: string, keys: readonly Buffer[], options: ReadCallOptions): Promise<Array<KvRecord | undefined>>;
  /** Asks one peer for its Merkle tree of a token range (anti-entropy). */
  merkleTree(peer: string, range: TokenRange, depth: number, options: PeerCallOptions): Promise<MerkleTreeSummary>;
  /** Reads one page of a peer's records in a token range (anti-entropy streaming). */
  scan(peer: string, range: TokenRange, limit: number, resumeAfter: ScanCursor | undefined, options: PeerCallOptions): Promise<ScanPage>;
  /** Probes one peer: liveness, and ring states both ways (src/membership). */
  probe(peer: string, hello: ProbeHello, options: PeerCallOptions): Promise<ProbeAnswer>;
  /** Releases connections and timers; later calls reject. */
  close(): Promise<void>;
}
