// Sends every peer a probe on a fixed interval and reports the outcome to the failure
// detector. The probe is a small Replica.Probe call through the PeerTransport: it
// travels the same connection and the same server queue as real traffic, so a peer
// that cannot serve replica calls fails its probe too. It also carries ring states both
// ways (ring-state-table.ts): the sender's own state and what it heard of the
// receiver's go out, the receiver's own state comes back. A probe still in flight is
// not repeated.
import { sleepOn, systemClock, type Clock, type Timer } from '../clock/clock.js';
import type { PeerTransport, ProbeAnswer, ProbeHello } from '../replica/peer-transport.js';
import { isAnswer, type PeerLiveness } from '../replica/peer-liveness.js';

export interface PeerProberOptions {
  readonly transport: PeerTransport;
  readonly liveness: PeerLiveness;
  /** The peers to probe now (this node excluded). */
  readonly peers: () => readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** What the probe to `peer` says; a probe with no ring state when absent. */
  readonly hello?: (peer: string) => ProbeHello;
  /** Told each answer, e.g. to learn the peer's ring state. */
  readonly onAnswer?: (peer: string, answer: ProbeAnswer) => void;
  /** Time for the interval, retries and probe deadlines; the machine's clock when absent. */
  readonly clock?: Clock;
}

export class PeerProber {
  private timer: Timer | undefined;
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly clock: Clock;

  constructor(private readonly options: PeerProberOptions) {
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setRepeating(this.options.intervalMs, () => void this.probeAll());
  }

  /** Probes every peer once now; resolves when each probe has an outcome. */
  async probeAll(): Promise<void> {
    await Promise.all(this.options.peers().map((peer) => this.probe(peer)));
  }

  /**
   * Probes every peer, and again every `retryMs` the ones that have not answered yet,
   * until each has answered once or `waitMs` has passed. Resolves with the peers that
   * never answered. A starting node waits on this before it reports ready: a peer that
   * answered is one this node has a working connection to, and one that heard from this
   * node reconnects to it at once (GrpcTransport.peerSeen).
   */
  async probeUntilAnswered(waitMs: number, retryMs: number): Promise<readonly string[]> {
    const deadlineMs = this.clock.nowMs() + waitMs;
    let waiting = this.options.peers();
    for (;;) {
      const answered = await Promise.all(waiting.map((peer) => this.probe(peer)));
      waiting = waiting.filter((_, index) => !answered[index]);
      const leftMs = deadlineMs - this.clock.nowMs();
      if (waiting.length === 0 || leftMs <= 0) return waiting;
      await sleepOn(this.clock, Math.min(retryMs, leftMs));
    }
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Resolves true when the peer answered (an error reply counts), false when it did not. */
  private probe(peer: string): Promise<boolean> {
    const running = this.inFlight.get(peer);
    if (running !== undefined) return running;
    const { transport, liveness, timeoutMs } = this.options;
    const hello = this.options.hello?.(peer) ?? { sender: '', ringState: undefined, heardRingState: undefined };
    const probe = transport
      .probe(peer, hello, { deadlineMs: this.clock.nowMs() + timeoutMs })
      .then(
        (answer) => {
          liveness.recordAnswer(peer);
          this.options.onAnswer?.(peer, answer);
          return true;
        },
        (error: unknown) => {
          if (isAnswer(error)) liveness.recordAnswer(peer);
          else liveness.recordFailure(peer);
          return isAnswer(error);
        },
      )
      .finally(() => this.inFlight.delete(peer));
    this.inFlight.set(peer, probe);
    return probe;
  }
}
