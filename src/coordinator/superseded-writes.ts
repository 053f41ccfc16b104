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
// object: about one comparison per key, no string or hash per key. A placement port that
// makes a new object per call (a test's) finds nothing superseded, and every record is sent.
import type { KeyPlacement } from './coordinator-config.js';

/**
 * For each of `keys`, the index of the last key equal to it (its own index when no later
 * key is equal); `placements[i]` is what the placement port returned for `keys[i]`.
 */
export function lastWriteOfEachKey(keys: readonly Buffer[], placements: readonly KeyPlacement[]): Int32Array {
  const count = keys.length;
  const lastOf = new Int32Array(count);
  // Walking backwards, the first key met of each value is its last write. Per placement
  // the last writes met so far are chained: head by placement, then `nextAtPlacement`.
  const headAtPlacement = new Map<KeyPlacement, number>();
  const nextAtPlacement = new Int32Array(count);
  for (let index = count - 1; index >= 0; index--) {
    const key = keys[index]!;
    const placement = placements[index]!;
    const head = headAtPlacement.get(placement);
    let last = -1;
    for (let candidate = head ?? -1; candidate !== -1; candidate = nextAtPlacement[candidate]!) {
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
