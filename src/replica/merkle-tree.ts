// Merkle trees over token ranges, the comparison step of anti-entropy
// (docs/decisions/0072-merkle-anti-entropy.md). A replica builds the tree of its own
// range to answer a peer (LocalReplica.merkleTree), so it sits with the replica side of
// the port; repair (src/repair) asks replicas for their trees and compares them.
//
// A tree covers one token range (start, end]. The range is cut into 2^depth leaves of
// equal token width; leaf i covers (start + floor(i·w/L), start + floor((i+1)·w/L)]
// with w the range width and L the leaf count, so every replica cuts a range the same
// way. A leaf's hash is SHA-256 over the fingerprints of its records in (token, key)
// order — the order every engine scans in — and an inner node hashes its two children.
//
// A fingerprint is (key, version stamp, version node id, expiresAtMs). The value is left
// out: under last-writer-wins a version names exactly one write. The tombstone flag is
// left out too: a checkpoint turns an expired record into a tombstone of the same
// version, and replicas checkpoint at different times. Records past their purge time
// (isPurgeable) are left out, because replicas purge at different times as well, and so
// are the records the replica does not offer for repair (FingerprintRules.offered).
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { MERKLE_DEPTH_MAX, REPAIR_SCAN_PAGE_RECORDS } from '../limits.js';
import type { TokenFunction, TokenRange } from '../ring/token-range.js';
import { isPurgeable } from '../storage/retention.js';
import type { KvRecord } from '../storage/record.js';
import type { StorageEngine } from '../storage/storage-engine.js';

const TOKEN_SPACE = 1n << 64n;
const EMPTY_LEAF = createHash('sha256').digest();

export interface MerkleTree {
  readonly root: Buffer;
  /** 2^depth leaf hashes, in token order. */
  readonly leaves: Buffer[];
  /** Records hashed. */
  readonly records: number;
}

export interface FingerprintRules {
  readonly tokenOf: TokenFunction;
  readonly tombstoneGraceMs: number;
  readonly nowMs: number;
  /**
   * Records the replica offers for repair at all; the others are left out of the tree
   * as they are left out of its scans (a record stamped from the future, see
   * src/replica/record-from-future.ts). Every record when absent.
   */
  readonly offered?: (record: KvRecord) => boolean;
}

function widthOf(range: TokenRange): bigint {
  const width = (range.end - range.start + TOKEN_SPACE) % TOKEN_SPACE;
  return width === 0n ? TOKEN_SPACE : width;
}

/** Offset of the first token after leaf `index` relative to the range start. */
function boundary(width: bigint, depth: number, index: number): bigint {
  return (width * BigInt(index)) >> BigInt(depth);
}

/** The token range of leaf `index`. */
export function leafRange(range: TokenRange, depth: number, index: number): TokenRange {
  const width = widthOf(range);
  return {
    start: (range.start + boundary(width, depth, index)) % TOKEN_SPACE,
    end: (range.start + boundary(width, depth, index + 1)) % TOKEN_SPACE,
  };
}

/** The leaf holding `token` (which must lie in `range`). */
export function leafIndexOf(range: TokenRange, depth: number, token: bigint): number {
  const width = widthOf(range);
  const offset = (token - range.start + TOKEN_SPACE) % TOKEN_SPACE || TOKEN_SPACE;
  const leaves = 1 << depth;
  // An estimate from the offset, corrected against the exact boundaries.
  let index = Math.min(leaves - 1, Number(((offset - 1n) << BigInt(depth)) / width));
  while (index < leaves - 1 && offset > boundary(width, depth, index + 1)) index++;
  while (index > 0 && offset <= boundary(width, depth, index)) index--;
  return index;
}

export function isFingerprinted(record: KvRecord, rules: FingerprintRules): boolean {
  return !isPurgeable(record, rules.nowMs, rules.tombstoneGraceMs) && (rules.offered?.(record) ?? true);
}

function fingerprint(record: KvRecord): Buffer {
  const nodeId = Buffer.from(record.version.nodeId, 'utf8');
  const bytes = Buffer.allocUnsafe(4 + record.key.length + 8 + 2 + nodeId.length + 8);
  let at = bytes.writeUInt32BE(record.key.length, 0);
  at += record.key.copy(bytes, at);
  at = bytes.writeBigUInt64BE(record.version.stamp, at);
  at = bytes.writeUInt16BE(nodeId.length, at);
  at += nodeId.copy(bytes, at);
  bytes.writeDoubleBE(record.expiresAtMs, at);
  return bytes;
}

/** The depth actually used for a range: no leaf may be narrower than one token. */
export function effectiveDepth(range: TokenRange, depth: number): number {
  const widthBits = widthOf(range).toString(2).length - 1;
  return Math.min(depth, widthBits);
}

/**
 * Builds the tree of `range` from the engine's scan, page by page; see effectiveDepth.
 * It yields to the event loop between pages: a tree of a wide range (a peer may ask for
 * the whole ring) over a large store takes many pages, and built in one go it held the
 * node's event loop for seconds (5 s for 100k records), stalling every request.
 */
export async function buildMerkleTree(engine: StorageEngine, range: TokenRange, requestedDepth: number, rules: FingerprintRules): Promise<MerkleTree> {
  assert.ok(Number.isInteger(requestedDepth) && requestedDepth >= 0 && requestedDepth <= MERKLE_DEPTH_MAX, 'merkle depth out of bounds');
  const depth = effectiveDepth(range, requestedDepth);
  const leaves = 1 << depth;
  const width = widthOf(range);
  const hashes = Array.from({ length: leaves }, () => createHash('sha256'));
  let records = 0;
  // The scan yields records in ring order from the range start, so their offsets only
  // grow: the leaf is found by walking forward, not by a division per record.
  let leaf = 0;
  let leafEnd = boundary(width, depth, 1);
  let page = engine.scan(range, REPAIR_SCAN_PAGE_RECORDS);
  for (;;) {
    for (const record of page.records) {
      if (!isFingerprinted(record, rules)) continue;
      const offset = (rules.tokenOf(record.key) - range.start + TOKEN_SPACE) % TOKEN_SPACE || TOKEN_SPACE;
      while (offset > leafEnd) leafEnd = boundary(width, depth, ++leaf + 1);
      assert.ok(leaf < leaves, 'scan returned a record outside the range');
      hashes[leaf]!.update(fingerprint(record));
      records++;
    }
    if (page.resumeAfter === undefined) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
    page = engine.scan(range, REPAIR_SCAN_PAGE_RECORDS, page.resumeAfter);
  }
  const leafHashes = hashes.map((hash) => hash.digest());
  return { root: rootOf(leafHashes), leaves: leafHashes, records };
}

/** The root over leaf hashes (a power of two of them). */
export function rootOf(leaves: readonly Buffer[]): Buffer {
  assert.ok(leaves.length > 0 && (leaves.length & (leaves.length - 1)) === 0, 'leaf count must be a power of two');
  let level = [...leaves];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]!).update(level[i + 1]!).digest());
    level = next;
  }
  return level[0]!;
}

/** Indices of the leaves that differ. */
export function differingLeaves(a: readonly Buffer[], b: readonly Buffer[]): number[] {
  assert.equal(a.length, b.length, 'trees of different depths');
  const differing: number[] = [];
  for (let i = 0; i < a.length; i++) if (!a[i]!.equals(b[i]!)) differing.push(i);
  return differing;
}

export { EMPTY_LEAF };
