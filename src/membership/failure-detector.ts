// Per-peer failure detection (docs/decisions/0070-failure-detection.md). The detector
// learns from two sources: the outcome of every replica call the coordinator makes, and
// a probe the node sends each peer on a fixed interval (peer-prober.ts), so that a peer
// with no traffic is still judged and a peer marked down is noticed when it comes back.
//
// States:
//   up       the last call or probe answered;
//   suspect  1..downAfterFailures-1 consecutive failures: still used, but reported;
//   down     downAfterFailures consecutive failures: the coordinator stops waiting on it
//            (a write hints it at once, a read does not count it toward R), so a dead
//            replica costs a request nothing instead of a whole deadline.
// Any answer from the peer, an error reply included (it is alive enough to refuse),
// moves it back to up, and so does any message the peer sends us (its probes, its
// replica calls). Only "did not answer" outcomes count as failures.
import { ConfigInvalidError } from '../errors/errors.js';
import { FAILURE_DETECTOR_DOWN_AFTER_FAILURES_DEFAULT, FAILURE_DETECTOR_DOWN_AFTER_FAILURES_MAX } from '../limits.js';
import type { PeerLiveness } from '../replica/peer-liveness.js';

export type PeerState = 'up' | 'suspect' | 'down';

export const PEER_STATES: readonly PeerState[] = ['up', 'suspect', 'down'];

export interface PeerHealth {
  readonly peer: string;
  readonly state: PeerState;
  readonly consecutiveFailures: number;
  /** Wall-clock ms of the last answer; 0 when none was seen. */
  readonly lastAnswerMs: number;
  /** Wall-clock ms at which the peer went down; 0 unless it is down. */
  readonly downSinceMs: number;
}

export interface FailureDetectorMetrics {
  /** Called on every state change, and once per peer when it is first seen (from undefined). */
  transition(peer: string, from: PeerState | undefined, to: PeerState): void;
}

export interface FailureDetectorOptions {
  /** Consecutive failures after which a peer is down; default 3. */
  readonly downAfterFailures?: number;
  readonly nowMs?: () => number;
  readonly metrics?: FailureDetectorMetrics;
  /** Told about each state change, e.g. to log it or to start hint delivery. */
  readonly onTransition?: (peer: string, from: PeerState, to: PeerState) => void;
}

interface PeerRecord {
  state: PeerState;
  consecutiveFailures: number;
  lastAnswerMs: number;
  downSinceMs: number;
}

export class FailureDetector implements PeerLiveness {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly downAfterFailures: number;
  private readonly nowMs: () => number;

  constructor(private readonly options: FailureDetectorOptions = {}) {
    this.downAfterFailures = options.downAfterFailures ?? FAILURE_DETECTOR_DOWN_AFTER_FAILURES_DEFAULT;
    const max = FAILURE_DETECTOR_DOWN_AFTER_FAILURES_MAX;
    if (!Number.isInteger(this.downAfterFailures) || this.downAfterFailures < 1 || this.downAfterFailures > max) {
      throw new ConfigInvalidError(`downAfterFailures=${this.downAfterFailures} is outside 1..${max}`);
    }
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Starts tracking peers (e.g. on a membership change) and forgets the ones not listed. */
  setPeers(peers: readonly string[]): void {
    const keep = new Set(peers);
    for (const peer of this.peers.keys()) if (!keep.has(peer)) this.peers.delete(peer);
    for (const peer of peers) this.recordOf(peer);
  }

  state(peer: string): PeerState {
    return this.peers.get(peer)?.state ?? 'up';
  }

  isDown(peer: string): boolean {
    return this.state(peer) === 'down';
  }

  downSinceMs(peer: string): number | undefined {
    const record = this.peers.get(peer);
    return record?.state === 'down' ? record.downSinceMs : undefined;
  }

  recordAnswer(peer: string): void {
    const record = this.recordOf(peer);
    record.consecutiveFailures = 0;
    record.lastAnswerMs = this.nowMs();
    record.downSinceMs = 0;
    this.move(peer, record, 'up');
  }

  /**
   * The peer sent this node a message (its probe or a replica call): it is running, so it
   * counts as an answer. This is what brings a restarted peer back at once — its first
   * probe arrives before this node's channel to it has left its reconnect backoff — and
   * a live peer probes every interval, so it cannot stay marked down for longer than that.
   * In an asymmetric partition the peer flaps between up and down; each failed call costs
   * what it cost without a detector. Unknown senders are ignored: membership alone
   * decides the peer set.
   */
  recordInbound(peer: string): void {
    if (this.peers.has(peer)) this.recordAnswer(peer);
  }

  recordFailure(peer: string): void {
    const record = this.recordOf(peer);
    record.consecutiveFailures++;
    if (record.consecutiveFailures >= this.downAfterFailures) {
      if (record.state !== 'down') record.downSinceMs = this.nowMs();
      this.move(peer, record, 'down');
    } else {
      this.move(peer, record, 'suspect');
    }
  }

  snapshot(): PeerHealth[] {
    return [...this.peers].map(([peer, record]) => ({ peer, ...record })).sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
  }

  private recordOf(peer: string): PeerRecord {
    let record = this.peers.get(peer);
    if (record === undefined) {
      record = { state: 'up', consecutiveFailures: 0, lastAnswerMs: 0, downSinceMs: 0 };
      this.peers.set(peer, record);
      this.options.metrics?.transition(peer, undefined, 'up');
    }
    return record;
  }

  private move(peer: string, record: PeerRecord, to: PeerState): void {
    const from = record.state;
    if (from === to) return;
    record.state = to;
    this.options.metrics?.transition(peer, from, to);
    this.options.onTransition?.(peer, from, to);
  }
}
