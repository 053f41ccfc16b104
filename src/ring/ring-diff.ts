// What a membership change moves: the token ranges whose replica set differs between
// two rings, each with the nodes that lose it and the nodes that gain it. Streaming
// uses this to send each gaining node its ranges (from a node in `before` that keeps
// them), and repair to know which ranges to check after a change.
//
// The union of both rings' tokens cuts the ring into segments on which both rings are
// constant, so comparing the two replica sets once per segment is exact. Adjacent
// segments with the same before and after lists are merged, across the wrap-around
// too, so the result is the smallest list of ranges. A change only in the order of the
// same replicas (a new primary) is not a change of the set and is not reported.
import type { HashRing } from './hash-ring.js';
import type { TokenRange } from './token-range.js';

export interface RangeChange {
  readonly range: TokenRange;
  /** Replicas under the old ring, primary first. */
  readonly before: readonly string[];
  /** Replicas under the new ring, primary first. */
  readonly after: readonly string[];
  /** In `before` but not in `after`, ascending. */
  readonly losing: readonly string[];
  /** In `after` but not in `before`, ascending. */
  readonly gaining: readonly string[];
}

interface MutableChange {
  start: bigint;
  end: bigint;
  before: readonly string[];
  after: readonly string[];
}

const NO_REPLICAS: readonly string[] = Object.freeze([]);

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

function difference(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((id) => !b.includes(id)).sort();
}

/**
 * The ascending union of both rings' tokens, without duplicates: the ends of the
 * segments on which both rings are constant (segment k is (union[k-1], union[k]],
 * segment 0 wrapping from the last token).
 */
export function tokenUnion(before: HashRing, after: HashRing): bigint[] {
  const union: bigint[] = [];
  let inBefore = 0;
  let inAfter = 0;
  while (inBefore < before.rangeCount || inAfter < after.rangeCount) {
    const a = inBefore < before.rangeCount ? before.tokenAt(inBefore) : undefined;
    const b = inAfter < after.rangeCount ? after.tokenAt(inAfter) : undefined;
    let next: bigint;
    if (b === undefined || (a !== undefined && a <= b)) {
      next = a!;
      inBefore++;
      if (b === next) inAfter++;
    } else {
      next = b;
      inAfter++;
    }
    union.push(next);
  }
  return union;
}

export function diffRings(before: HashRing, after: HashRing): RangeChange[] {
  const union = tokenUnion(before, after);
  const changes: MutableChange[] = [];
  // Segment k is (union[k-1], union[k]]; segment 0 wraps from the last token. Every
  // token of a segment maps to the same position in each ring: the first token of that
  // ring >= union[k], wrapping to 0.
  let beforePosition = 0;
  let afterPosition = 0;
  for (let k = 0; k < union.length; k++) {
    const end = union[k]!;
    const start = union[k === 0 ? union.length - 1 : k - 1]!;
    while (beforePosition < before.rangeCount && before.tokenAt(beforePosition) < end) beforePosition++;
    while (afterPosition < after.rangeCount && after.tokenAt(afterPosition) < end) afterPosition++;
    const beforeList = before.rangeCount === 0 ? NO_REPLICAS : before.preferenceListAt(beforePosition % before.rangeCount);
    const afterList = after.rangeCount === 0 ? NO_REPLICAS : after.preferenceListAt(afterPosition % after.rangeCount);
    if (sameSet(beforeList, afterList)) continue;
    const last = changes[changes.length - 1];
    if (last !== undefined && last.end === start && sameList(last.before, beforeList) && sameList(last.after, afterList)) {
      last.end = end;
    } else {
      changes.push({ start, end, before: beforeList, after: afterList });
    }
  }

  // Join the change that ends at the last token with the one that wraps past it.
  const lastToken = union[union.length - 1];
  if (changes.length >= 2) {
    const first = changes[0]!;
    const last = changes[changes.length - 1]!;
    const wraps = first.start === lastToken && last.end === lastToken;
    if (wraps && sameList(first.before, last.before) && sameList(first.after, last.after)) {
      first.start = last.start;
      changes.pop();
    }
  }

  return changes.map((change) =>
    Object.freeze({
      range: Object.freeze({ start: change.start, end: change.end }),
      before: change.before,
      after: change.after,
      losing: Object.freeze(difference(change.before, change.after)),
      gaining: Object.freeze(difference(change.after, change.before)),
    }),
  );
}
