// Merges the snapshot files of a backup set into one stream in which each key appears
// once, in the newest version any file holds (docs/decisions/0246-restore-merges-member-files.md).
// Each member's file holds a copy of every record that member replicates, so a set of N
// replicas holds each record N times; applying the merged stream instead of every file
// sends each record to its replicas once.
//
// Every file is in the order of a scan over the whole ring
// (docs/decisions/0024-storage-contract-scan-order.md): from TOKEN_MIN clockwise, so
// tokens 1 .. 2^64-1 ascending and then token 0, keys of one token in unsigned byte
// order. A k-way merge over the files' heads in that order brings the copies of a key
// together; of those, the greatest version wins, by the engine's own last-writer-wins
// order (compareVersions: stamp, then node id), tombstones included, so the stream holds
// exactly what applying every file would leave on the replicas.
//
// The order serves speed, never correctness: a file out of order (another token function,
// a damaged writer) only stops its copies from meeting the others', so a key may then be
// emitted more than once, each time in a version some file holds, and last writer wins
// on the replicas still leaves its newest one.
import { compareVersions, type KvRecord } from '../storage/record.js';
import { TOKEN_MAX, TOKEN_MIN } from '../ring/token-range.js';
import type { SnapshotFrame } from './snapshot-file.js';

/** One file being merged: its frames, the frame being read and the position in it. */
interface Source {
  readonly index: number;
  readonly frames: AsyncIterator<SnapshotFrame>;
  records: KvRecord[];
  position: number;
  /** Where the head record falls in the scan order (see scanRank). */
  rank: bigint;
}

export interface MergeEvents {
  /** A frame was read from a file: its records and bytes. */
  readonly onFrame: (frame: SnapshotFrame) => void;
  /** A file has no records left. */
  readonly onFileDone: () => void;
}

/**
 * The records of `files`, each key once in its greatest version, in scan order.
 * `tokenOf` is the ring's token function (xxHash64 of the key).
 */
export async function* mergeSnapshots(files: readonly AsyncIterable<SnapshotFrame>[], tokenOf: (key: Buffer) => bigint, events: MergeEvents): AsyncGenerator<KvRecord> {
  const heap: Source[] = [];
  const rankOf = (key: Buffer): bigint => scanRank(tokenOf(key));
  const advance = async (source: Source): Promise<boolean> => {
    source.position += 1;
    while (source.position >= source.records.length) {
      const next = await source.frames.next();
      if (next.done === true) {
        events.onFileDone();
        return false;
      }
      events.onFrame(next.value);
      source.records = next.value.records;
      source.position = 0;
    }
    source.rank = rankOf(source.records[source.position]!.key);
    return true;
  };
  const sources = files.map((file, index): Source => ({ index, frames: file[Symbol.asyncIterator](), records: [], position: -1, rank: 0n }));
  try {
    for (const source of sources) {
      if (await advance(source)) heapPush(heap, source);
    }
    yield* mergeHeads(heap, advance);
  } finally {
    // A consumer that stops early (a failed restore) closes every file it opened.
    await Promise.all(sources.map((source) => source.frames.return?.()));
  }
}

async function* mergeHeads(heap: Source[], advance: (source: Source) => Promise<boolean>): AsyncGenerator<KvRecord> {
  while (heap.length > 0) {
    const first = heap[0]!;
    let newest = first.records[first.position]!;
    const key = newest.key;
    const rank = first.rank;
    // Every head with this key: take the greatest version, move each past it.
    while (heap.length > 0) {
      const top = heap[0]!;
      const record = top.records[top.position]!;
      if (top.rank !== rank || !record.key.equals(key)) break;
      if (compareVersions(record.version, newest.version) > 0) newest = record;
      heapPop(heap);
      if (await advance(top)) heapPush(heap, top);
    }
    yield newest;
  }
}

/**
 * The position of `token` in a scan of the whole ring, which starts after TOKEN_MIN:
 * tokens above it keep their value, TOKEN_MIN itself comes last.
 */
export function scanRank(token: bigint): bigint {
  return token === TOKEN_MIN ? TOKEN_MAX + 1n : token;
}

/** Source order: scan rank, then key bytes, then file (so equal keys pop in a fixed order). */
function before(a: Source, b: Source): boolean {
  if (a.rank !== b.rank) return a.rank < b.rank;
  const byKey = Buffer.compare(a.records[a.position]!.key, b.records[b.position]!.key);
  if (byKey !== 0) return byKey < 0;
  return a.index < b.index;
}

function heapPush(heap: Source[], source: Source): void {
  heap.push(source);
  let child = heap.length - 1;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if (!before(heap[child]!, heap[parent]!)) break;
    [heap[child], heap[parent]] = [heap[parent]!, heap[child]!];
    child = parent;
  }
}

function heapPop(heap: Source[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  let parent = 0;
  for (;;) {
    const left = 2 * parent + 1;
    const right = left + 1;
    let smallest = parent;
    if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
    if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
    if (smallest === parent) return;
    [heap[parent], heap[smallest]] = [heap[smallest]!, heap[parent]!];
    parent = smallest;
  }
}
