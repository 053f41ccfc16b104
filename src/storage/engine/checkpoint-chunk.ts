// One chunk of a checkpoint: the store entries (store key and record body, as
// ordered-store.ts lays them out) of up to CHECKPOINT_CHUNK_RECORDS memtable entries,
// taken in token order (memtable-token-order.ts) and encoded into one buffer. The main
// thread encodes it (the token function is the engine's, and the expiry decision uses the
// engine's clock); the ordered store writes it, on the main thread or on the checkpoint
// worker (checkpoint-worker.ts), which is why it is one buffer that owns its memory: it
// can be handed to the worker without a copy, and lmdb-js may point into it until the
// chunk's writes are committed. Keys and values are copied straight from the memtable's
// slabs and the token from the sort's arrays: no record object or Buffer view per entry.
//
// Layout (in memory only, never on disk, so no version byte):
//   u32 entry count, then per entry: u16 store key length | store key |
//   u32 body length | body
import assert from 'node:assert/strict';
import { bodyBytesOf, writeBodyOf } from '../record-codec.js';
import { checkpointKeepsValue } from '../retention.js';
import type { MemtableEntry } from './memtable-entry.js';
import type { TokenOrderedEntries } from './memtable-token-order.js';

/**
 * Records written per awaited chunk during a checkpoint: LMDB holds every page a
 * transaction dirties in memory until it commits, so a checkpoint is committed in
 * slices of this many records.
 */
export const CHECKPOINT_CHUNK_RECORDS = 8192;

/** One entry of a chunk: views into the chunk's buffer. */
export interface ChunkEntry {
  readonly storeKey: Buffer;
  readonly body: Buffer;
}

/**
 * Encodes positions `from` to `to` (exclusive) of `ordered`, a range its sortedRanges
 * handed out, as they are to be stored at wall time `nowMs`: an expired value is stored
 * as a tombstone with the same version (retention.ts, checkpointKeepsValue). The buffer
 * is allocated on its own, not from Node's pool, so its whole ArrayBuffer can be
 * transferred to a worker.
 */
export function encodeCheckpointChunk(ordered: TokenOrderedEntries, from: number, to: number, nowMs: number): Buffer {
  assert.ok(from >= 0 && from <= to && to <= ordered.size, 'checkpoint chunk bounds outside the entries');
  assert.ok(to - from <= CHECKPOINT_CHUNK_RECORDS, 'checkpoint chunk holds too many records');
  assert.ok(to <= ordered.sortedEnd, 'checkpoint chunk of entries not yet sorted');
  let totalBytes = 4;
  for (let index = from; index < to; index++) {
    const entry = ordered.entryAt(index);
    totalBytes += 2 + 8 + entry.keyLength + 4 + bodyBytesOf(entry.version.nodeId, entry.expiresAtMs, storedValueLength(entry, nowMs));
  }
  const chunk = Buffer.allocUnsafeSlow(totalBytes);
  let at = chunk.writeUInt32BE(to - from, 0);
  for (let index = from; index < to; index++) {
    const entry = ordered.entryAt(index);
    assert.ok(8 + entry.keyLength <= 0xffff, 'store key length out of u16 range');
    at = chunk.writeUInt16BE(8 + entry.keyLength, at);
    at = chunk.writeUInt32BE(ordered.tokenHighAt(index), at);
    at = chunk.writeUInt32BE(ordered.tokenLowAt(index), at);
    at += entry.slab.copy(chunk, at, entry.keyOffset, entry.keyOffset + entry.keyLength);
    const valueLength = storedValueLength(entry, nowMs);
    const bodyAt = at + 4;
    const bodyEnd = writeBodyOf(entry.version, entry.expiresAtMs, valueLength < 0 ? null : entry.slab, entry.valueOffset, valueLength, chunk, bodyAt);
    chunk.writeUInt32BE(bodyEnd - bodyAt, at);
    at = bodyEnd;
  }
  assert.equal(at, totalBytes, 'checkpoint chunk does not fill its buffer');
  return chunk;
}

/** The value length the store keeps for an entry: -1 (a tombstone) once it has expired. */
function storedValueLength(entry: MemtableEntry, nowMs: number): number {
  return checkpointKeepsValue(entry.expiresAtMs, nowMs) ? entry.valueLength : -1;
}

/** The entries of a chunk, as views into it (checked against its length as it goes). */
export function decodeCheckpointChunk(chunk: Buffer): ChunkEntry[] {
  assert.ok(chunk.length >= 4, 'checkpoint chunk shorter than its header');
  const count = chunk.readUInt32BE(0);
  assert.ok(count <= CHECKPOINT_CHUNK_RECORDS, 'checkpoint chunk claims too many records');
  const entries = new Array<ChunkEntry>(count);
  let at = 4;
  for (let index = 0; index < count; index++) {
    const keyBytes = chunk.readUInt16BE(at);
    at += 2;
    const storeKey = chunk.subarray(at, at + keyBytes);
    at += keyBytes;
    const bodyLength = chunk.readUInt32BE(at);
    at += 4;
    assert.ok(at + bodyLength <= chunk.length, 'checkpoint chunk entry runs past its end');
    entries[index] = { storeKey, body: chunk.subarray(at, at + bodyLength) };
    at += bodyLength;
  }
  assert.equal(at, chunk.length, 'checkpoint chunk has bytes after its last entry');
  return entries;
}
