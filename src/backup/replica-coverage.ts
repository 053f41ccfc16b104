// Whether a backup that could not read some members still holds every token range: a
// range is covered when at least one of its replicas (its preference list in the read
// ring, the members that hold its data now) was read
// (docs/decisions/0245-backup-with-members-missing.md).
import type { OwnedRange } from '../ring/hash-ring.js';

/** The ranges whose every replica is in `missing`, in the order of `ranges`. */
export function rangesWithoutReplica(ranges: readonly OwnedRange[], missing: ReadonlySet<string>): OwnedRange[] {
  if (missing.size === 0) return [];
  return ranges.filter((owned) => owned.replicas.every((replica) => missing.has(replica)));
}

/** `3 of 96 token ranges, e.g. (12, 345] held by qkv-2, qkv-3`: short whatever the ring's size. */
export function describeUncovered(uncovered: readonly OwnedRange[], rangesTotal: number): string {
  const shown = uncovered.slice(0, 3).map((owned) => `(${owned.range.start}, ${owned.range.end}] held by ${owned.replicas.join(', ')}`);
  return `${uncovered.length} of ${rangesTotal} token ranges, e.g. ${shown.join('; ')}`;
}
