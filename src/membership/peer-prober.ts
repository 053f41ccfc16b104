// Sends every peer a probe on a fixed interval and reports the outcome to the failure
// detector. The probe is a small Replica.Probe call through the PeerTransport: it
// travels the same connection and the same server queue as real traffic, so a peer
// that cannot serve replica calls fails its probe too. It also carries ring states both
// ways (ring-state-table.ts): the sender's own state and what it heard of the
// receiver's go out, the receiver's own state comes back. A probe still in flight is
// not repeated.
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
}

export class PeerProber {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly options: PeerProberOptions) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.probeAll(), this.options.intervalMs);
    this.timer.unref();
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
    const deadlineMs = Date.now() + waitMs;
    let waiting = this.options.peers();
    for (;;) {
      const answered = await Promise.all(waiting.map((peer) => this.probe(peer)));
      waiting = waiting.filter((_, index) => !answered[index]);
      const leftMs = deadlineMs - Date.now();
      if (waiting.length === 0 || leftMs <= 0) return waiting;
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, leftMs)));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
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
      .probe(peer, hello, { deadlineMs: Date.now() + timeoutMs })
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
