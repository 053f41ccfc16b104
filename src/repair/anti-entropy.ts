// Anti-entropy (docs/decisions/0072-merkle-anti-entropy.md): this node walks the token
// ranges it replicates and, for each other replica of a range, compares Merkle trees
// (merkle-tree.ts). Equal roots end the comparison; otherwise only the differing
// leaves are scanned on both sides and compared key by key, and each side is sent only
// the records it lacks or holds in an older version. Both directions are repaired from
// here, so one pass by one node brings its ranges in sync with every replica that was
// reachable.
//
// Work is paced (`rangesPerSecond`) and a down peer is skipped, so a background pass
// never competes hard with client traffic. Applying is idempotent (last writer wins),
// so a pass interrupted at any point is simply run again.
import type { Logger } from '../logging/logger.js';
import { REPAIR_CALL_TIMEOUT_MS, REPAIR_SCAN_PAGE_RECORDS, REPAIR_STREAM_BATCH_RECORDS } from '../limits.js';
import type { PeerLiveness } from '../membership/failure-detector.js';
import type { OwnedRange } from '../ring/hash-ring.js';
import type { TokenRange } from '../ring/token-range.js';
import { compareVersions, type KvRecord } from '../storage/record.js';
import type { ScanCursor, ScanPage } from '../storage/storage-engine.js';
import type { MerkleTreeSummary, PeerTransport } from '../transport/peer-transport.js';
import { differingLeaves, leafRange } from './merkle-tree.js';

/** This node's side of the comparison: its own tree, scan and apply. */
export interface LocalRepairReplica {
  merkleTree(range: TokenRange, depth: number): Promise<MerkleTreeSummary>;
  scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): Promise<ScanPage>;
  apply(records: readonly KvRecord[]): Promise<void>;
}

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
  readonly rangesPerSecond: number;
  readonly metrics?: AntiEntropyMetrics;
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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RepairReport> | undefined;
  private closed = false;
  private readonly metrics: AntiEntropyMetrics;

  constructor(private readonly options: AntiEntropyOptions) {
    this.metrics = options.metrics ?? noopAntiEntropyMetrics;
  }

  /** Runs a pass every `intervalMs` in the background. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.repair().catch((error: unknown) => this.options.logger.warn({ err: error }, 'anti-entropy pass failed'));
    }, intervalMs);
    this.timer.unref();
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
    clearInterval(this.timer);
    await this.running?.catch(() => {});
  }

  private async pass(paced: boolean): Promise<RepairReport> {
    const started = Date.now();
    const ranges = this.options.ranges();
    const totals = { rangesCompared: 0, rangesMismatched: 0, keysPulled: 0, keysPushed: 0, peersSkipped: 0 };
    const spacingMs = 1000 / this.options.rangesPerSecond;
    for (const [index, owned] of ranges.entries()) {
      if (this.closed) break;
      const rangeStarted = Date.now();
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
      const waitMs = spacingMs - (Date.now() - rangeStarted);
      if (paced && waitMs >= 1 && !this.closed) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    const report = { ...totals, elapsedMs: Date.now() - started };
    this.metrics.passFinished(report.elapsedMs / 1000);
    this.options.logger.info(report, 'anti-entropy pass done');
    return report;
  }

  /** Compares one range with one peer and repairs both sides. */
  private async compare(peer: string, range: TokenRange): Promise<{ inSync: boolean; pulled: number; pushed: number }> {
    const { local, transport, depth } = this.options;
    const deadline = (): { deadlineMs: number } => ({ deadlineMs: Date.now() + REPAIR_CALL_TIMEOUT_MS });
    const [mine, theirs] = await Promise.all([local.merkleTree(range, depth), transport.merkleTree(peer, range, depth, deadline())]);
    if (mine.root.equals(theirs.root)) return { inSync: true, pulled: 0, pushed: 0 };
    if (mine.leaves.length !== theirs.leaves.length) throw new Error(`peer ${peer} cut the range into ${theirs.leaves.length} leaves, this node into ${mine.leaves.length}`);
    const leafDepth = Math.log2(mine.leaves.length);
    let pulled = 0;
    let pushed = 0;
    // Adjacent differing leaves are one contiguous token range: one scan each side per run
    // instead of one per leaf (each scan of the durable engine also walks its memtable).
    for (const run of runsOf(differingLeaves(mine.leaves, theirs.leaves))) {
      const sub = { start: leafRange(range, leafDepth, run.first).start, end: leafRange(range, leafDepth, run.last).end };
      const ours = await collect((cursor) => local.scan(sub, REPAIR_SCAN_PAGE_RECORDS, cursor));
      const remote = await collect((cursor) => transport.scan(peer, sub, REPAIR_SCAN_PAGE_RECORDS, cursor, deadline()));
      const { toPull, toPush } = diff(ours, remote);
      for (let at = 0; at < toPull.length; at += REPAIR_STREAM_BATCH_RECORDS) {
        await local.apply(toPull.slice(at, at + REPAIR_STREAM_BATCH_RECORDS));
      }
      for (let at = 0; at < toPush.length; at += REPAIR_STREAM_BATCH_RECORDS) {
        await transport.apply(peer, toPush.slice(at, at + REPAIR_STREAM_BATCH_RECORDS), deadline());
      }
      pulled += toPull.length;
      pushed += toPush.length;
    }
    this.metrics.keysStreamed('pulled', pulled);
    this.metrics.keysStreamed('pushed', pushed);
    return { inSync: false, pulled, pushed };
  }
}

/** Consecutive indices grouped into runs [first, last]. */
export function runsOf(indices: readonly number[]): Array<{ first: number; last: number }> {
  const runs: Array<{ first: number; last: number }> = [];
  for (const index of indices) {
    const last = runs.at(-1);
    if (last !== undefined && last.last === index - 1) last.last = index;
    else runs.push({ first: index, last: index });
  }
  return runs;
}

/** Every record of a leaf range, page by page (a leaf is a small slice of a vnode range). */
async function collect(page: (cursor: ScanCursor | undefined) => Promise<ScanPage>): Promise<Map<string, KvRecord>> {
  const records = new Map<string, KvRecord>();
  let cursor: ScanCursor | undefined;
  do {
    const next = await page(cursor);
    for (const record of next.records) records.set(record.key.toString('latin1'), record);
    cursor = next.resumeAfter;
  } while (cursor !== undefined);
  return records;
}

/** Which records each side lacks or holds older: last writer wins decides. */
export function diff(ours: ReadonlyMap<string, KvRecord>, theirs: ReadonlyMap<string, KvRecord>): { toPull: KvRecord[]; toPush: KvRecord[] } {
  const toPull: KvRecord[] = [];
  const toPush: KvRecord[] = [];
  for (const [key, record] of ours) {
    const other = theirs.get(key);
    if (other === undefined || compareVersions(record.version, other.version) > 0) toPush.push(record);
  }
  for (const [key, record] of theirs) {
    const mine = ours.get(key);
    if (mine === undefined || compareVersions(record.version, mine.version) > 0) toPull.push(record);
  }
  return { toPull, toPush };
}
