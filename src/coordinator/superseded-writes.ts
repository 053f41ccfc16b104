// Which records of one batch write a later record of the same batch overwrites
// (docs/decisions/0256-superseded-batch-records-not-sent.md).
//
// A BatchPut stamps its items in order, so when a key appears twice the later item's
// stamp is the higher and, under last writer wins, the value every replica keeps. Each
// replica applies a write's records together (one Apply, one WAL frame), so the earlier
// record is never the newest anywhere, not even for a moment: sending it costs every
// replica a lookup, a memtable insert and its bytes in the log for nothing. The coordinator
// therefore sends only the last record of each key; the earlier items are answered with
// their own stamp and the acks of that key's last record, whose replicas and replies are
// theirs too. Cassandra merges the mutations of one partition in a batch the same way.
//
// Equal keys have equal placements, and the ring hands out one placement object per ring
// position, so a key is compared (byte for byte) only with the keys of the same placement
// object: about one comparison per key, no string or hash per key. That holds while a
// batch's keys spread over many ring positions; keys crowded onto few (a ring of few
// vnodes, or a client that picks keys of one range on purpose) would make it one
// comparison per pair, half a million for 1000 keys (30-40 ms of the event loop,
// measured). So the comparisons are bounded per key, and past the bound the keys are
// looked up by their bytes instead, a string per key: the cost ADR 0256 measured as the
// alternative, paid only by such batches. A placement port that makes a new object per
// call (a test's) finds nothing superseded, and every record is sent.
import type { KeyPlacement } from './coordinator-config.js';

/**
 * Byte comparisons per key the placement chains may make before the batch is looked up
 * by key bytes instead; ordinary batches make about one.
 */
export const SUPERSEDED_COMPARISONS_PER_KEY_MAX = 4;

/**
 * For each of `keys`, the index of the last key equal to it with the same placement (its
 * own index when no later key is); `placements[i]` is what the placement port returned
 * for `keys[i]`.
 */
export function lastWriteOfEachKey(keys: readonly Buffer[], placements: readonly KeyPlacement[]): Int32Array {
  return byPlacementChains(keys, placements, SUPERSEDED_COMPARISONS_PER_KEY_MAX * keys.length) ?? byKeyBytes(keys, placements);
}

/** lastWriteOfEachKey by comparing keys within a placement; undefined once `comparisonsMax` is spent. */
function byPlacementChains(keys: readonly Buffer[], placements: readonly KeyPlacement[], comparisonsMax: number): Int32Array | undefined {
  const count = keys.length;
  const lastOf = new Int32Array(count);
  // Walking backwards, the first key met of each value is its last write. Per placement
  // the last writes met so far are chained: head by placement, then `nextAtPlacement`.
  const headAtPlacement = new Map<KeyPlacement, number>();
  const nextAtPlacement = new Int32Array(count);
  let comparisons = 0;
  for (let index = count - 1; index >= 0; index--) {
    const key = keys[index]!;
    const placement = placements[index]!;
    const head = headAtPlacement.get(placement);
    let last = -1;
    for (let candidate = head ?? -1; candidate !== -1; candidate = nextAtPlacement[candidate]!) {
      if (++comparisons > comparisonsMax) return undefined;
      if (keys[candidate]!.equals(key)) {
        last = candidate;
        break;
      }
    }
    if (last === -1) {
      lastOf[index] = index;
      nextAtPlacement[index] = head ?? -1;
      headAtPlacement.set(placement, index);
    } else lastOf[index] = last;
  }
  return lastOf;
}

/** lastWriteOfEachKey by a Map of the keys' bytes: one string per key, however the keys fall. */
function byKeyBytes(keys: readonly Buffer[], placements: readonly KeyPlacement[]): Int32Array {
  const lastOf = new Int32Array(keys.length);
  // latin1 maps each byte to one character, so equal strings are equal keys.
  const lastWriteOf = new Map<string, number>();
  for (let index = keys.length - 1; index >= 0; index--) {
    const name = keys[index]!.toString('latin1');
    const last = lastWriteOf.get(name);
    if (last !== undefined && placements[last] === placements[index]) lastOf[index] = last;
    else {
      lastOf[index] = index;
      if (last === undefined) lastWriteOf.set(name, index);
    }
  }
  return lastOf;
}
