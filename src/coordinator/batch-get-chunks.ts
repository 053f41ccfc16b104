// How many keys of a BatchGet the coordinator reads next (docs/decisions/0040-bounded-batch-get-memory.md).
//
// A BatchGet answers at most a budget of key and value bytes; the items after it come
// back RESPONSE_TOO_LARGE for the client to ask again. Reading every key first and
// trimming afterwards made the node hold every named value from every replica, so the
// keys are read in chunks and reading stops once the budget is used:
//
// - The first chunk holds the keys that would fit the budget even if every value were
//   as large as the configuration allows (8 keys at the default 1 MiB value limit, 2 at
//   the 3 MiB ceiling; every key when the limit is small), so it never reads past the
//   budget whatever the values are.
// - Each later chunk is sized from what the chunks before it found: the bytes left
//   divided by the mean item seen so far. Small values then take one more chunk for all
//   the remaining keys (a 1000-key BatchGet of 100-byte values is two round trips),
//   large ones a chunk that about fills the budget.
//
// The sizes are a plan, not the bound: a chunk whose values turn out larger than the
// mean is cut by the byte bound every replica read carries (ReadCallOptions), and the
// keys it did not read come back RESPONSE_TOO_LARGE without being fetched.

export interface ChunkSizing {
  /** Keys of the batch not read yet. */
  readonly keysLeft: number;
  /** Key and value bytes the answer may still hold. */
  readonly bytesLeft: number;
  /** Items read so far, whatever their outcome. */
  readonly itemsSeen: number;
  /** The key and value bytes they take in the answer (a failed or absent item: its key). */
  readonly bytesSeen: number;
  /** The largest item the configuration allows: keyBytesMax + valueBytesMax. */
  readonly itemBytesMax: number;
}

/** Keys to read in the next chunk: 0 once no key or no byte is left, else 1..keysLeft. */
export function nextChunkKeys(sizing: ChunkSizing): number {
  const { keysLeft, bytesLeft, itemsSeen, bytesSeen, itemBytesMax } = sizing;
  if (keysLeft <= 0 || bytesLeft <= 0) return 0;
  const itemBytes = itemsSeen === 0 ? itemBytesMax : bytesSeen / itemsSeen;
  // An item is at least a one-byte key; the floor also keeps the division finite.
  const keys = Math.floor(bytesLeft / Math.max(1, itemBytes));
  return Math.min(keysLeft, Math.max(1, keys));
}
