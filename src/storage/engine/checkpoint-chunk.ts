// One chunk of a checkpoint: the store entries (store key and record body, as
// ordered-store.ts lays them out) of up to CHECKPOINT_CHUNK_RECORDS memtable records,
// encoded into one buffer. The main thread encodes it (the token function is the
// engine's, and the expiry decision uses the engine's clock); the ordered store writes
// it, on the main thread or on the checkpoint worker (checkpoint-worker.ts), which is
// why it is one buffer that owns its memory: it can be handed to the worker without a
// copy, and lmdb-js may point into it until the chunk's writes are committed.
//
// Layout (in memory only, never on disk, so no version byte):
//   u32 entry count, then per entry: u16 store key length | store key |
//   u32 body length | body
import assert from 'node:assert/strict';
import type { TokenFunction } from '../../ring/token-range.js';
import type { KvRecord } from '../record.js';
import { bodyBytes, writeBody } from '../record-codec.js';
import { storedForm } from '../retention.js';

/**
 * Records written per awaited chunk during a checkpoint: LMDB holds every page a
 * transaction dirties in memory until it commits, and keys in token order land on
 * scattered pages, so a checkpoint is committed in slices of this many records.
 */
export const CHECKPOINT_CHUNK_RECORDS = 8192;

/** One entry of a chunk: views into the chunk's buffer. */
export interface ChunkEntry {
  readonly storeKey: Buffer;
  readonly body: Buffer;
}

/**
 * Encodes `records` as they are to be stored at wall time `nowMs` (storedForm: an
 * expired value becomes a tombstone). The buffer is allocated on its own, not from
 * Node's pool, so its whole ArrayBuffer can be transferred to a worker.
 */
export function encodeCheckpointChunk(records: readonly KvRecord[], tokenOf: TokenFunction, nowMs: number): Buffer {
  assert.ok(records.length <= CHECKPOINT_CHUNK_RECORDS, 'checkpoint chunk holds too many records');
  const stored = records.map((record) => storedForm(record, nowMs));
  let totalBytes = 4;
  for (const record of stored) totalBytes += 2 + 8 + record.key.length + 4 + bodyBytes(record);
  const chunk = Buffer.allocUnsafeSlow(totalBytes);
  let at = chunk.writeUInt32BE(stored.length, 0);
  for (const record of stored) {
    assert.ok(8 + record.key.length <= 0xffff, 'store key length out of u16 range');
    at = chunk.writeUInt16BE(8 + record.key.length, at);
    at = chunk.writeBigUInt64BE(tokenOf(record.key), at);
    at += record.key.copy(chunk, at);
    const bodyAt = at + 4;
    const bodyEnd = writeBody(record, chunk, bodyAt);
    chunk.writeUInt32BE(bodyEnd - bodyAt, at);
    at = bodyEnd;
  }
  assert.equal(at, totalBytes, 'checkpoint chunk does not fill its buffer');
  return chunk;
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
