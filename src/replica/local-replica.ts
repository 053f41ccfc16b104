// The replica side of the PeerTransport port over this node's own storage engine. The
// coordinator calls it directly when the node is in a key's preference list, and the
// transports (memory, gRPC) call it when a peer's message arrives.
//
// Both directions feed the hybrid logical clock: a replica that stores or serves a stamp
// from another coordinator must issue later stamps itself, so that a write this node
// coordinates after seeing another node's write sorts after it (causality across nodes).
//
// `apply` is the one door through which records from elsewhere reach the engine (peer
// Apply calls, unary and on Exchange streams; hint replays; range streaming and repair
// pulls; read repair), so it is where a record no honest node writes is refused
// (record-from-future.ts): a batch holding one is refused whole with STAMP_FROM_FUTURE,
// as an Apply with one malformed record is refused whole, nothing of it is stored and
// the clock does not move. Such records already stored (planted before this check
// existed) are left out of what this replica offers for repair and streaming (its
// Merkle trees and scans), so they neither spread nor stop a sync that meets them.
import type { HybridLogicalClock } from '../clock/hybrid-logical-clock.js';
import type { KvRecord } from '../storage/record.js';
import type { ScanCursor, ScanPage, StorageEngine } from '../storage/storage-engine.js';
import type { MerkleTreeSummary, ReplicaHandler } from './peer-transport.js';
import { QkvError } from '../errors/errors.js';
import { TOMBSTONE_GRACE_MS_DEFAULT } from '../limits.js';
import { buildMerkleTree } from './merkle-tree.js';
import { firstFutureRecordError, highestStamp, isFromFuture } from './record-from-future.js';
import type { TokenFunction, TokenRange } from '../ring/token-range.js';

export interface LocalReplicaOptions {
  /** The key -> token function of the ring; anti-entropy hashes records by token. */
  readonly tokenOf: TokenFunction;
  readonly tombstoneGraceMs?: number;
  readonly nowMs?: () => number;
}

export class LocalReplica implements ReplicaHandler {
  constructor(
    private readonly engine: StorageEngine,
    private readonly clock: HybridLogicalClock,
    private readonly options?: LocalReplicaOptions,
  ) {}

  async merkleTree(range: TokenRange, depth: number): Promise<MerkleTreeSummary> {
    const options = this.options;
    if (options === undefined) throw new QkvError('INTERNAL', 'this replica was built without a token function and serves no Merkle trees');
    return buildMerkleTree(this.engine, range, depth, {
      tokenOf: options.tokenOf,
      tombstoneGraceMs: options.tombstoneGraceMs ?? TOMBSTONE_GRACE_MS_DEFAULT,
      nowMs: (options.nowMs ?? Date.now)(),
      offered: (record) => !isFromFuture(record, this.clock),
    });
  }

  /** A page of the range, without the records no honest node writes (see the header). */
  async scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): Promise<ScanPage> {
    const page = this.engine.scan(range, limit, resumeAfter);
    if (page.records.every((record) => !isFromFuture(record, this.clock))) return page;
    // The cursor stays the engine's, so the next page starts after the records left out.
    return { ...page, records: page.records.filter((record) => !isFromFuture(record, this.clock)) };
  }

  /** Stores records under last writer wins; refuses the whole batch if any comes from the future. */
  async apply(records: readonly KvRecord[], encoding?: Buffer): Promise<void> {
    const refusal = firstFutureRecordError(records, this.clock);
    if (refusal !== undefined) throw refusal;
    // Every stamp is accepted, so observing the highest moves the clock as observing each would.
    const highest = highestStamp(records);
    if (highest !== undefined) this.clock.observe(highest);
    await this.engine.apply(records, encoding);
  }

  /**
   * One engine lookup per key, so that under `answerBytesMax` no value past the bound is
   * copied out of the store (a BatchGet naming one large value a thousand times).
   */
  async read(keys: readonly Buffer[], answerBytesMax?: number): Promise<Array<KvRecord | undefined>> {
    const records: Array<KvRecord | undefined> = [];
    let bytes = 0;
    for (const key of keys) {
      if (answerBytesMax !== undefined && records.length > 0 && bytes >= answerBytesMax) break;
      const record = this.engine.get(key);
      if (record !== undefined) {
        this.clock.observe(record.version.stamp);
        bytes += record.key.length + (record.value?.length ?? 0);
      }
      records.push(record);
    }
    return records;
  }
}
