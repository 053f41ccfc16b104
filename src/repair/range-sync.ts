// Brings one token range of this node and one peer in line: compare Merkle trees
// (merkle-tree.ts); equal roots end it; otherwise scan only the differing leaves on both
// sides and send each side the records it lacks or holds in an older version (last
// writer wins decides). Both sides are walked page by page in (token, key) order, as a
// merge of two sorted lists, and the differences go out in batches as they are found, so
// the memory a sync holds is a page of each side and a batch each way, however large the
// range (a joining node differs from its source in every record of a range it takes
// over). Anti-entropy runs it both ways for every range and peer; a
// joining node runs it pull-only from the current replicas of the ranges it takes over,
// a leaving node push-only to their new owners (src/streaming). Applying is idempotent,
// so an interrupted sync is simply run again, and a second source of the same range
// costs little more than its tree: only the leaves where it differs are scanned.
import { systemClock, type Clock } from '../clock/clock.js';
import { REPAIR_CALL_TIMEOUT_MS, REPAIR_SCAN_PAGE_RECORDS, REPAIR_STREAM_BATCH_RECORDS } from '../limits.js';
import type { TokenFunction, TokenRange } from '../ring/token-range.js';
import { compareTokenKey } from '../storage/token-key-order.js';
import { compareVersions, type KvRecord } from '../storage/record.js';
import type { ScanCursor, ScanPage } from '../storage/storage-engine.js';
import type { MerkleTreeSummary, PeerTransport } from '../replica/peer-transport.js';
import { differingLeaves, leafRange } from '../replica/merkle-tree.js';

/** This node's side of the comparison: its own tree, scan and apply. */
export interface LocalRepairReplica {
  merkleTree(range: TokenRange, depth: number): Promise<MerkleTreeSummary>;
  scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): Promise<ScanPage>;
  apply(records: readonly KvRecord[]): Promise<void>;
}

/** Which side may receive records: both (repair), this node only (join), the peer only (leave). */
export type SyncDirection = 'both' | 'pull' | 'push';

export interface RangeSyncPorts {
  readonly local: LocalRepairReplica;
  readonly transport: PeerTransport;
  /** Merkle tree depth: 2^depth leaves per range. */
  readonly depth: number;
  /** The ring's token of a key: scans return records in (token, key) order. */
  readonly tokenOf: TokenFunction;
  /**
   * Awaited before each batch is applied, with the batch's key and value bytes: a
   * throttle (src/streaming/byte-throttle.ts). No pacing when absent.
   */
  readonly beforeBatch?: (bytes: number) => Promise<void>;
  /** What the peer calls' deadlines are measured on; the machine's clock when absent. */
  readonly clock?: Clock;
}

export interface RangeSyncOutcome {
  readonly inSync: boolean;
  /** Records (and their key + value bytes) applied here, and sent to the peer. */
  readonly pulled: number;
  readonly pulledBytes: number;
  readonly pushed: number;
  readonly pushedBytes: number;
}

/** Compares one range with one peer and sends the differences the way `direction` allows. */
export async function syncRange(ports: RangeSyncPorts, peer: string, range: TokenRange, direction: SyncDirection): Promise<RangeSyncOutcome> {
  const { local, transport, depth } = ports;
  const clock = ports.clock ?? systemClock;
  const deadline = (): { deadlineMs: number } => ({ deadlineMs: clock.nowMs() + REPAIR_CALL_TIMEOUT_MS });
  const [mine, theirs] = await Promise.all([local.merkleTree(range, depth), transport.merkleTree(peer, range, depth, deadline())]);
  const outcome = { inSync: true, pulled: 0, pulledBytes: 0, pushed: 0, pushedBytes: 0 };
  if (mine.root.equals(theirs.root)) return outcome;
  outcome.inSync = false;
  if (mine.leaves.length !== theirs.leaves.length) throw new Error(`peer ${peer} cut the range into ${theirs.leaves.length} leaves, this node into ${mine.leaves.length}`);
  const leafDepth = Math.log2(mine.leaves.length);
  // Adjacent differing leaves are one contiguous token range: one scan each side per run
  // instead of one per leaf (each scan of the durable engine also walks its memtable).
  const pull = async (batch: readonly KvRecord[]): Promise<void> => {
    if (batch.length === 0 || direction === 'push') return;
    const bytes = bytesOf(batch);
    await ports.beforeBatch?.(bytes);
    await local.apply(batch);
    outcome.pulled += batch.length;
    outcome.pulledBytes += bytes;
  };
  const push = async (batch: readonly KvRecord[]): Promise<void> => {
    if (batch.length === 0 || direction === 'pull') return;
    const bytes = bytesOf(batch);
    await ports.beforeBatch?.(bytes);
    await transport.apply(peer, batch, deadline());
    outcome.pushed += batch.length;
    outcome.pushedBytes += bytes;
  };
  for (const run of runsOf(differingLeaves(mine.leaves, theirs.leaves))) {
    const sub = { start: leafRange(range, leafDepth, run.first).start, end: leafRange(range, leafDepth, run.last).end };
    const ours = new PagedScan((cursor) => local.scan(sub, REPAIR_SCAN_PAGE_RECORDS, cursor), ports.tokenOf);
    const remote = new PagedScan((cursor) => transport.scan(peer, sub, REPAIR_SCAN_PAGE_RECORDS, cursor, deadline()), ports.tokenOf);
    let toPull: KvRecord[] = [];
    let toPush: KvRecord[] = [];
    for (;;) {
      const mineNow = await ours.peek();
      const theirsNow = await remote.peek();
      if (mineNow === undefined && theirsNow === undefined) break;
      // A record applied on either side below lies at or before both scans' positions:
      // neither scan meets it again (each resumes after its last page).
      const order =
        mineNow === undefined ? 1 : theirsNow === undefined ? -1 : compareTokenKey(mineNow.token, mineNow.record.key, theirsNow.token, theirsNow.record.key);
      if (order < 0) {
        toPush.push(mineNow!.record);
        ours.advance();
      } else if (order > 0) {
        toPull.push(theirsNow!.record);
        remote.advance();
      } else {
        const newer = compareVersions(mineNow!.record.version, theirsNow!.record.version);
        if (newer > 0) toPush.push(mineNow!.record);
        else if (newer < 0) toPull.push(theirsNow!.record);
        ours.advance();
        remote.advance();
      }
      if (toPull.length >= REPAIR_STREAM_BATCH_RECORDS) {
        await pull(toPull);
        toPull = [];
      }
      if (toPush.length >= REPAIR_STREAM_BATCH_RECORDS) {
        await push(toPush);
        toPush = [];
      }
    }
    await pull(toPull);
    await push(toPush);
  }
  return outcome;
}

/** Key and value bytes of records: what a stream throttle and its metrics count. */
export function bytesOf(records: readonly KvRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += record.key.length + (record.value?.length ?? 0);
  return bytes;
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

/** One side's records of a range, a page at a time, each with its token. */
class PagedScan {
  private page: ReadonlyArray<{ token: bigint; record: KvRecord }> = [];
  private index = 0;
  private resumeAfter: ScanCursor | undefined;
  private started = false;

  constructor(
    private readonly fetch: (cursor: ScanCursor | undefined) => Promise<ScanPage>,
    private readonly tokenOf: TokenFunction,
  ) {}

  /** The next record in (token, key) order, or undefined at the end of the range. */
  async peek(): Promise<{ token: bigint; record: KvRecord } | undefined> {
    while (this.index >= this.page.length) {
      if (this.started && this.resumeAfter === undefined) return undefined;
      const next = await this.fetch(this.resumeAfter);
      this.started = true;
      this.page = next.records.map((record) => ({ token: this.tokenOf(record.key), record }));
      this.index = 0;
      this.resumeAfter = next.resumeAfter;
    }
    return this.page[this.index];
  }

  advance(): void {
    this.index++;
  }
}
