// Anti-entropy (docs/decisions/0072-merkle-anti-entropy.md): this node walks the token
// ranges it replicates and, for each other replica of a range, compares Merkle trees
// and exchanges only the records that differ (range-sync.ts). Both directions are
// repaired from here, so one pass by one node brings its ranges in sync with every
// replica that was reachable.
//
// Work is paced (`rangesPerSecond`) and a down peer is skipped, so a background pass
// never competes hard with client traffic. Applying is idempotent (last writer wins),
// so a pass interrupted at any point is simply run again.
import { sleepOn, systemClock, type Clock, type Timer } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import type { PeerLiveness } from '../replica/peer-liveness.js';
import type { OwnedRange } from '../ring/hash-ring.js';
import type { TokenFunction, TokenRange } from '../ring/token-range.js';
import type { PeerTransport } from '../replica/peer-transport.js';
import { syncRange, type LocalRepairReplica } from './range-sync.js';

export type { LocalRepairReplica };

export interface AntiEntropyMetrics {
  rangeCompared(peer: string, inSync: boolean): void;
  keysStreamed(direction: 'pulled' | 'pushed', records: number): void;
  /** Progress of the running pass: ranges done out of ranges to do. */
  progress(done: number, total: number): void;
  passFinished(seconds: number): void;
}

const ignore = (): void => {};
export const noopAntiEntropyMetrics: AntiEntropyMetrics = { rangeCompared: ignore, keysStreamed: ignore, progress: ignore, passFinished: ignore };

export interface AntiEntropyOptions {
  readonly nodeId: string;
  readonly local: LocalRepairReplica;
  readonly transport: PeerTransport;
  /** The ranges this node replicates now, with their replicas (HashRing.rangesReplicatedOn). */
  readonly ranges: () => readonly OwnedRange[];
  readonly liveness?: PeerLiveness;
  readonly logger: Logger;
  readonly depth: number;
  /** The ring's token of a key (range-sync.ts walks both sides in token order). */
  readonly tokenOf: TokenFunction;
  readonly rangesPerSecond: number;
  readonly metrics?: AntiEntropyMetrics;
  /** Time for the pass interval, pacing and peer deadlines; the machine's clock when absent. */
  readonly clock?: Clock;
}

export interface RepairReport {
  readonly rangesCompared: number;
  readonly rangesMismatched: number;
  readonly keysPulled: number;
  readonly keysPushed: number;
  /** Range-and-peer comparisons skipped because the peer was down or failed. */
  readonly peersSkipped: number;
  readonly elapsedMs: number;
}

export class AntiEntropy {
  private timer: Timer | undefined;
  private running: Promise<RepairReport> | undefined;
  private closed = false;
  private readonly metrics: AntiEntropyMetrics;
  private readonly clock: Clock;

  constructor(private readonly options: AntiEntropyOptions) {
    this.metrics = options.metrics ?? noopAntiEntropyMetrics;
    this.clock = options.clock ?? systemClock;
  }

  /** Runs a pass every `intervalMs` in the background. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setRepeating(intervalMs, () => {
      this.repair().catch((error: unknown) => this.options.logger.warn({ err: error }, 'anti-entropy pass failed'));
    });
  }

  /** One full pass over this node's ranges; a pass already running is shared. */
  repair(options: { paced?: boolean } = {}): Promise<RepairReport> {
    this.running ??= this.pass(options.paced ?? true).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    await this.running?.catch(() => {});
  }

  private async pass(paced: boolean): Promise<RepairReport> {
    const started = this.clock.nowMs();
    const ranges = this.options.ranges();
    const totals = { rangesCompared: 0, rangesMismatched: 0, keysPulled: 0, keysPushed: 0, peersSkipped: 0 };
    const spacingMs = 1000 / this.options.rangesPerSecond;
    for (const [index, owned] of ranges.entries()) {
      if (this.closed) break;
      const rangeStarted = this.clock.nowMs();
      for (const peer of owned.replicas) {
        if (peer === this.options.nodeId) continue;
        if (this.options.liveness?.isDown(peer)) {
          totals.peersSkipped++;
          continue;
        }
        try {
          const outcome = await this.compare(peer, owned.range);
          totals.rangesCompared++;
          if (!outcome.inSync) totals.rangesMismatched++;
          totals.keysPulled += outcome.pulled;
          totals.keysPushed += outcome.pushed;
          this.metrics.rangeCompared(peer, outcome.inSync);
        } catch (error) {
          totals.peersSkipped++;
          this.options.logger.debug({ peer, err: error }, 'anti-entropy comparison failed; the next pass retries');
        }
      }
      this.metrics.progress(index + 1, ranges.length);
      const waitMs = spacingMs - (this.clock.nowMs() - rangeStarted);
      if (paced && waitMs >= 1 && !this.closed) await sleepOn(this.clock, waitMs);
    }
    const report = { ...totals, elapsedMs: this.clock.nowMs() - started };
    this.metrics.passFinished(report.elapsedMs / 1000);
    this.options.logger.info(report, 'anti-entropy pass done');
    return report;
  }

  /** Compares one range with one peer and repairs both sides. */
  private async compare(peer: string, range: TokenRange): Promise<{ inSync: boolean; pulled: number; pushed: number }> {
    const outcome = await syncRange({ ...this.options, clock: this.clock }, peer, range, 'both');
    if (!outcome.inSync) {
      this.metrics.keysStreamed('pulled', outcome.pulled);
      this.metrics.keysStreamed('pushed', outcome.pushed);
    }
    return outcome;
  }
}
