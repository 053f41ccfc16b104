// A member's place in the ring (docs/decisions/0080-ring-states-and-range-movement.md).
//
//   JOINING  new: takes the writes of the ranges it will own (a pending replica) while it
//            streams those ranges from their current replicas; serves no reads.
//   NORMAL   a full replica of its ranges.
//   LEAVING  decommissioning: still a full replica (reads and writes) while it streams
//            its ranges to the nodes that own them once it is gone.
//   LEFT     out of the ring; keeps answering writes, probes and streaming calls until
//            it is stopped, but no key reads (a peer that has not heard LEFT yet must
//            read the range from the replicas that still take its writes).
//
// Each node announces its own state; peers learn it from probes. Two rings follow from
// the states: the read ring (NORMAL + LEAVING: who holds the data now) and the write
// ring (NORMAL + JOINING: who holds it once the moves are done). A member whose state
// was never heard is in neither.

export type RingState = 'JOINING' | 'NORMAL' | 'LEAVING' | 'LEFT';

export const RING_STATES: readonly RingState[] = ['JOINING', 'NORMAL', 'LEAVING', 'LEFT'];

/** How a state no one has announced yet is shown (Status, metrics). */
export const RING_STATE_UNKNOWN = 'UNKNOWN';

/** Holds the data of its ranges now: reads go here. */
export function inReadRing(state: RingState | undefined): boolean {
  return state === 'NORMAL' || state === 'LEAVING';
}

/** Holds the data of its ranges once every move is done: writes go here too. */
export function inWriteRing(state: RingState | undefined): boolean {
  return state === 'NORMAL' || state === 'JOINING';
}

/** The state a wire or file string names, or undefined for "" and anything else. */
export function parseRingState(text: string): RingState | undefined {
  return (RING_STATES as readonly string[]).includes(text) ? (text as RingState) : undefined;
}

/**
 * A state as a node announced it. `version` orders the states one node takes (ms since
 * the epoch when it took it, always above its previous one), so an answer overtaken by
 * a newer state cannot take a peer back to the older one.
 */
export interface AnnouncedRingState {
  readonly state: RingState;
  readonly version: number;
  /**
   * LEFT announced on the member's behalf by `qkv forget` (it was gone for good), not by
   * the member itself (docs/decisions/0180-forget-a-member-gone-for-good.md). Only a new
   * JOINING announcement of the member overrides it.
   */
  readonly forgotten?: true;
  /** Who decided the forget, passed on with the mark; absent with --insecure and in files written before signatures. */
  readonly signed?: ForgetSignature;
}

/**
 * An admin user's signature of a forget (docs/decisions/0268-forget-signed-by-an-admin.md):
 * its DER certificate and its signature over the member and the version.
 */
export interface ForgetSignature {
  readonly certificate: Buffer;
  readonly signature: Buffer;
}

/** A forgotten member as probes pass it on: every node keeps it LEFT at this version. */
export interface ForgottenMember {
  readonly node: string;
  readonly version: number;
  readonly signed?: ForgetSignature;
}

/** True when `a` is the later of two announcements by the same node. */
export function isNewer(a: AnnouncedRingState, b: AnnouncedRingState | undefined): boolean {
  return b === undefined || a.version > b.version;
}
