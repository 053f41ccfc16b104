// Whether a peer is alive, as the users of the replica port see it. The coordinator,
// hinted handoff, anti-entropy and range movement all ask it before they wait on a
// peer, and all report what their calls saw; the failure detector
// (src/membership/failure-detector.ts) is the implementation. The port lives here, beside
// PeerTransport, so that those users depend on the port and not on membership.

/** What the coordinator and hinted handoff ask of the detector. */
export interface PeerLiveness {
  isDown(peer: string): boolean;
  /** When the peer went down (wall-clock ms), or undefined when it is not down. */
  downSinceMs(peer: string): number | undefined;
  recordAnswer(peer: string): void;
  recordFailure(peer: string): void;
}

/** An error the peer itself sent back proves it is alive; no answer at all does not. */
export function isAnswer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== 'PEER_UNREACHABLE' && code !== 'DEADLINE_EXCEEDED' && code !== 'SHUTTING_DOWN' && code !== 'INTERNAL';
}
