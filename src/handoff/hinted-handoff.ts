// Hinted handoff (docs/decisions/0071-hinted-handoff.md): when a replica misses a write,
// the coordinator keeps the records in a durable per-peer hint log (hint-log.ts) and
// delivers them once the failure detector no longer calls the peer down.
//
// Bounds (docs/style.md point 7):
//   - bytes per peer: past `bytesPerPeerMax` new hints for that peer are dropped;
//   - the hint window: no hints for a peer down longer than `windowMs`, and no hint for
//     a write older than `windowMs` is stored or delivered. The window must not exceed
//     the tombstone grace period: a hint older than the grace could bring back a value
//     whose tombstone the replicas have already purged. Nor is a hint stamped further
//     ahead of this node's clock than HLC_FORWARD_DRIFT_MS_MAX stored or delivered (one
//     written while the clock ran far ahead): replicas refuse such records
//     (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md), and since a
//     refused batch stops the delivery, it would hold back every later hint to the peer;
//   - delivery pace: at most `replayBytesPerSecond` per peer.
// A dropped hint is not lost data: the write met its quorum elsewhere, and anti-entropy
// (src/repair) brings the replica up to date. Counters say how often it happens.
import { join } from 'node:path';
import { sleepOn, systemClock, type Clock, type Timer } from '../clock/clock.js';
import { wallMsOf } from '../clock/hybrid-logical-clock.js';
import type { HintSink } from '../coordinator/coordinator-config.js';
import { ConfigInvalidError } from '../errors/errors.js';
import { HINT_REPLAY_BATCH_RECORDS, HLC_FORWARD_DRIFT_MS_MAX, REPAIR_CALL_TIMEOUT_MS } from '../limits.js';
import type { Logger } from '../logging/logger.js';
import { isAnswer, type PeerLiveness } from '../replica/peer-liveness.js';
import type { KvRecord } from '../storage/record.js';
import { recordBytes } from '../storage/record-codec.js';
import { makeDirectoryDurable } from '../fs/durable-directory.js';
import { nodeFileSystem, type FileSystem } from '../fs/file-system.js';
import type { PeerTransport } from '../replica/peer-transport.js';
import { HintLog } from './hint-log.js';

export type HintDropReason = 'window' | 'full' | 'expired' | 'damaged' | 'failed';

export interface HintMetrics {
  stored(peer: string, records: number): void;
  delivered(peer: string, records: number): void;
  dropped(peer: string, reason: HintDropReason, records: number): void;
}

const ignore = (): void => {};
export const noopHintMetrics: HintMetrics = { stored: ignore, delivered: ignore, dropped: ignore };

export interface HintedHandoffOptions {
  /** Directory holding one subdirectory of hint segments per peer. */
  readonly dir: string;
  readonly transport: PeerTransport;
  readonly liveness: PeerLiveness;
  readonly logger: Logger;
  readonly bytesPerPeerMax: number;
  readonly windowMs: number;
  readonly tombstoneGraceMs: number;
  readonly replayBytesPerSecond: number;
  readonly replayIntervalMs: number;
  readonly fileSystem?: FileSystem;
  readonly metrics?: HintMetrics;
  /** The wall clock the hint window is measured on; `clock`'s when absent. */
  readonly nowMs?: () => number;
  /** Time for the replay interval, delivery deadlines and pacing; the machine's clock when absent. */
  readonly clock?: Clock;
}

export interface DeliveryReport {
  readonly delivered: number;
  readonly dropped: number;
  /** False when the peer failed mid-way; the hints stay for the next attempt. */
  readonly complete: boolean;
}

export class HintedHandoff implements HintSink {
  private readonly logs = new Map<string, Promise<HintLog>>();
  private readonly deliveries = new Map<string, Promise<DeliveryReport>>();
  private readonly fileSystem: FileSystem;
  private readonly metrics: HintMetrics;
  private readonly nowMs: () => number;
  private readonly clock: Clock;
  private timer: Timer | undefined;
  private closed = false;

  private constructor(private readonly options: HintedHandoffOptions) {
    if (options.windowMs > options.tombstoneGraceMs) {
      throw new ConfigInvalidError(
        `hint window ${options.windowMs} ms exceeds the tombstone grace period ${options.tombstoneGraceMs} ms: an old hint could resurrect purged data`,
      );
    }
    if (options.replayBytesPerSecond <= 0) throw new ConfigInvalidError('hint replay bytes per second must be positive');
    this.fileSystem = options.fileSystem ?? nodeFileSystem;
    this.metrics = options.metrics ?? noopHintMetrics;
    this.clock = options.clock ?? systemClock;
    this.nowMs = options.nowMs ?? (() => this.clock.nowMs());
  }

  /** Opens the hint directory and every peer log already in it (hints survive restarts). */
  static async open(options: HintedHandoffOptions): Promise<HintedHandoff> {
    const handoff = new HintedHandoff(options);
    // Durably: a hint is acknowledged once synced, which means nothing if the hint
    // directory's own name is lost with the power (ADR 0125).
    await makeDirectoryDurable(handoff.fileSystem, options.dir);
    for (const name of await handoff.fileSystem.listDirectory(options.dir)) {
      const peer = decodeURIComponent(name);
      await handoff.logOf(peer);
    }
    return handoff;
  }

  /** Offers pending hints to live peers every `replayIntervalMs`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setRepeating(this.options.replayIntervalMs, () => void this.deliverAll());
  }

  async store(peer: string, records: readonly KvRecord[]): Promise<boolean> {
    if (this.closed) return false;
    const nowMs = this.nowMs();
    const downSince = this.options.liveness.downSinceMs(peer);
    if (downSince !== undefined && nowMs - downSince > this.options.windowMs) {
      this.metrics.dropped(peer, 'window', records.length);
      return false;
    }
    const fresh = records.filter((record) => !this.tooOld(record, nowMs));
    if (fresh.length < records.length) this.metrics.dropped(peer, 'window', records.length - fresh.length);
    if (fresh.length === 0) return false;
    const log = await this.logOf(peer);
    let bytes = 0;
    for (const record of fresh) bytes += recordBytes(record);
    if (log.pendingBytes + bytes > this.options.bytesPerPeerMax) {
      this.metrics.dropped(peer, 'full', fresh.length);
      return false;
    }
    await log.append(fresh);
    this.pendingNow.set(peer, log.pendingBytes);
    this.metrics.stored(peer, fresh.length);
    return fresh.length === records.length;
  }

  /** Hint bytes held per peer (peers with none left out). */
  pendingBytes(): Map<string, number> {
    const pending = new Map<string, number>();
    for (const [peer, bytes] of this.pendingNow) if (bytes > 0) pending.set(peer, bytes);
    return pending;
  }

  /** Delivers to every peer that holds hints and is not down; resolves when all are done. */
  async deliverAll(): Promise<DeliveryReport[]> {
    const peers = [...this.pendingNow].filter(([peer, bytes]) => bytes > 0 && !this.options.liveness.isDown(peer)).map(([peer]) => peer);
    return Promise.all(peers.map((peer) => this.deliver(peer)));
  }

  /** Delivers one peer's hints now; one delivery per peer at a time. */
  deliver(peer: string): Promise<DeliveryReport> {
    const running = this.deliveries.get(peer);
    if (running !== undefined) return running;
    const delivery = this.runDelivery(peer).finally(() => this.deliveries.delete(peer));
    this.deliveries.set(peer, delivery);
    return delivery;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    await Promise.allSettled([...this.deliveries.values()]);
    for (const log of this.logs.values()) await (await log).close();
  }

  // Sizes known synchronously, refreshed whenever a log is opened or written.
  private readonly pendingNow = new Map<string, number>();

  private async runDelivery(peer: string): Promise<DeliveryReport> {
    const log = await this.logOf(peer);
    const sealed = await log.seal();
    let delivered = 0;
    let dropped = 0;
    if (sealed.damagedBytes > 0) this.metrics.dropped(peer, 'damaged', 0);
    const records: KvRecord[] = [];
    const nowMs = this.nowMs();
    for (const batch of sealed.batches) {
      for (const record of batch.records) {
        if (this.tooOld(record, nowMs)) dropped++;
        else records.push(record);
      }
    }
    for (let at = 0; at < records.length && !this.closed; at += HINT_REPLAY_BATCH_RECORDS) {
      const chunk = records.slice(at, at + HINT_REPLAY_BATCH_RECORDS);
      const started = this.clock.nowMs();
      try {
        await this.options.transport.apply(peer, chunk, { deadlineMs: this.clock.nowMs() + REPAIR_CALL_TIMEOUT_MS });
        this.options.liveness.recordAnswer(peer);
      } catch (error) {
        if (isAnswer(error)) this.options.liveness.recordAnswer(peer);
        else this.options.liveness.recordFailure(peer);
        this.options.logger.info({ peer, delivered, err: error }, 'hint delivery stopped; the rest waits for the next attempt');
        this.pendingNow.set(peer, log.pendingBytes);
        return { delivered, dropped: 0, complete: false };
      }
      delivered += chunk.length;
      let bytes = 0;
      for (const record of chunk) bytes += recordBytes(record);
      await this.pace(bytes, this.clock.nowMs() - started);
    }
    if (this.closed && delivered < records.length) return { delivered, dropped: 0, complete: false };
    await log.discard(sealed);
    this.pendingNow.set(peer, log.pendingBytes);
    if (delivered > 0) this.metrics.delivered(peer, delivered);
    if (dropped > 0) this.metrics.dropped(peer, 'expired', dropped);
    if (delivered + dropped > 0) this.options.logger.info({ peer, delivered, dropped }, 'hints delivered');
    return { delivered, dropped, complete: true };
  }

  /** Waits long enough that `bytes` went out at no more than the configured rate. */
  private async pace(bytes: number, elapsedMs: number): Promise<void> {
    const waitMs = (bytes * 1000) / this.options.replayBytesPerSecond - elapsedMs;
    if (waitMs >= 1 && !this.closed) await sleepOn(this.clock, waitMs);
  }

  /** Outside the hint window: older than `windowMs`, or stamped further ahead than replicas accept (see the header). */
  private tooOld(record: KvRecord, nowMs: number): boolean {
    const ageMs = nowMs - Number(wallMsOf(record.version.stamp));
    return ageMs > this.options.windowMs || ageMs < -HLC_FORWARD_DRIFT_MS_MAX;
  }

  private logOf(peer: string): Promise<HintLog> {
    let log = this.logs.get(peer);
    if (log === undefined) {
      log = HintLog.open(join(this.options.dir, encodeURIComponent(peer)), this.fileSystem, this.options.logger).then(
        (opened) => {
          this.pendingNow.set(peer, opened.pendingBytes);
          return opened;
        },
        (error: unknown) => {
          this.logs.delete(peer);
          throw error;
        },
      );
      this.logs.set(peer, log);
    }
    return log;
  }
}
