// Brings one token range of this node and one peer in line: compare Merkle trees
// (merkle-tree.ts); equal roots end it; otherwise scan only the differing leaves on both
// sides and send each side the records it lacks or holds in an older version (last
// writer wins decides). Anti-entropy runs it both ways for every range and peer; a
// joining node runs it pull-only from the current replicas of the ranges it takes over,
// a leaving node push-only to their new owners (src/streaming). Applying is idempotent,
// so an interrupted sync is simply run again, and a second source of the same range
// costs little more than its tree: only the leaves where it differs are scanned.
import { REPAIR_CALL_TIMEOUT_MS, REPAIR_SCAN_PAGE_RECORDS, REPAIR_STREAM_BATCH_RECORDS } from '../limits.js';
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

/** Which side may receive records: both (repair), this node only (join), the peer only (leave). */
export type SyncDirection = 'both' | 'pull' | 'push';

export interface RangeSyncPorts {
  readonly local: LocalRepairReplica;
  readonly transport: PeerTransport;
  /** Merkle tree depth: 2^depth leaves per range. */
  readonly depth: number;
  /**
   * Awaited before each batch is applied, with the batch's key and value bytes: a
   * throttle (src/streaming/byte-throttle.ts). No pacing when absent.
   */
  readonly beforeBatch?: (bytes: number) => Promise<void>;
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
  const deadline = (): { deadlineMs: number } => ({ deadlineMs: Date.now() + REPAIR_CALL_TIMEOUT_MS });
  const [mine, theirs] = await Promise.all([local.merkleTree(range, depth), transport.merkleTree(peer, range, depth, deadline())]);
  const outcome = { inSync: true, pulled: 0, pulledBytes: 0, pushed: 0, pushedBytes: 0 };
  if (mine.root.equals(theirs.root)) return outcome;
  outcome.inSync = false;
  if (mine.leaves.length !== theirs.leaves.length) throw new Error(`peer ${peer} cut the range into ${theirs.leaves.length} leaves, this node into ${mine.leaves.length}`);
  const leafDepth = Math.log2(mine.leaves.length);
  // Adjacent differing leaves are one contiguous token range: one scan each side per run
  // instead of one per leaf (each scan of the durable engine also walks its memtable).
  for (const run of runsOf(differingLeaves(mine.leaves, theirs.leaves))) {
    const sub = { start: leafRange(range, leafDepth, run.first).start, end: leafRange(range, leafDepth, run.last).end };
    const ours = await collect((cursor) => local.scan(sub, REPAIR_SCAN_PAGE_RECORDS, cursor));
    const remote = await collect((cursor) => transport.scan(peer, sub, REPAIR_SCAN_PAGE_RECORDS, cursor, deadline()));
    const { toPull, toPush } = diff(ours, remote);
    if (direction !== 'push') {
      for (let at = 0; at < toPull.length; at += REPAIR_STREAM_BATCH_RECORDS) {
        const batch = toPull.slice(at, at + REPAIR_STREAM_BATCH_RECORDS);
        const bytes = bytesOf(batch);
        await ports.beforeBatch?.(bytes);
        await local.apply(batch);
        outcome.pulled += batch.length;
        outcome.pulledBytes += bytes;
      }
    }
    if (direction !== 'pull') {
      for (let at = 0; at < toPush.length; at += REPAIR_STREAM_BATCH_RECORDS) {
        const batch = toPush.slice(at, at + REPAIR_STREAM_BATCH_RECORDS);
        const bytes = bytesOf(batch);
        await ports.beforeBatch?.(bytes);
        await transport.apply(peer, batch, deadline());
        outcome.pushed += batch.length;
        outcome.pushedBytes += bytes;
      }
    }
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
