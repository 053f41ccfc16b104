// The token ranges a node replicates in either of two rings, and those it replicates in
// neither: what it must keep, and what cleanup may drop (src/streaming/range-cleanup.ts).
// With the read ring and the write ring (placement-rings.ts) a range counts as the
// node's while it is a replica of it in either: in the read ring it holds the range
// now, in the write ring it takes its writes or will own it once a move is done.
// Outside a move both rings are the same.
//
// Like diffRings, the union of both rings' tokens cuts the ring into segments on which
// both rings are constant, so deciding once per segment is exact; adjacent segments are
// merged, across the wrap-around too, into the fewest ranges.
import type { HashRing } from './hash-ring.js';
import { tokenUnion } from './ring-diff.js';
import { FULL_RING, type TokenRange } from './token-range.js';

export interface RingPair {
  readonly read: HashRing;
  readonly write: HashRing;
}

/** The ranges `nodeId` replicates in the read ring or the write ring (or both). */
export function replicatedRanges(rings: RingPair, nodeId: string): TokenRange[] {
  return rangesWhere(rings, (replicated) => replicated, nodeId);
}

/** The ranges `nodeId` replicates in neither ring. */
export function unreplicatedRanges(rings: RingPair, nodeId: string): TokenRange[] {
  return rangesWhere(rings, (replicated) => !replicated, nodeId);
}

function rangesWhere(rings: RingPair, wanted: (replicated: boolean) => boolean, nodeId: string): TokenRange[] {
  const { read, write } = rings;
  const union = tokenUnion(read, write);
  // No tokens at all: an empty cluster, in which no node replicates anything.
  if (union.length === 0) return wanted(false) ? [FULL_RING] : [];
  const ranges: Array<{ start: bigint; end: bigint }> = [];
  let readPosition = 0;
  let writePosition = 0;
  for (let k = 0; k < union.length; k++) {
    const end = union[k]!;
    const start = union[k === 0 ? union.length - 1 : k - 1]!;
    // Every token of the segment maps to the first ring token >= `end`, wrapping to 0.
    while (readPosition < read.rangeCount && read.tokenAt(readPosition) < end) readPosition++;
    while (writePosition < write.rangeCount && write.tokenAt(writePosition) < end) writePosition++;
    const replicated =
      (read.rangeCount > 0 && read.preferenceListAt(readPosition % read.rangeCount).includes(nodeId)) ||
      (write.rangeCount > 0 && write.preferenceListAt(writePosition % write.rangeCount).includes(nodeId));
    if (!wanted(replicated)) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.end === start) last.end = end;
    else ranges.push({ start, end });
  }
  // The range that ends at the last token continues into the one that wraps past it.
  const lastToken = union[union.length - 1]!;
  if (ranges.length >= 2) {
    const first = ranges[0]!;
    const last = ranges[ranges.length - 1]!;
    if (first.start === lastToken && last.end === lastToken) {
      first.start = last.start;
      ranges.pop();
    }
  }
  return ranges.map((range) => Object.freeze({ start: range.start, end: range.end }));
}
