// One write's records in the storage codec's batch encoding (src/storage/record-codec.ts),
// made once and shared by every replica the write goes to.
//
// A coordinator sends each replica the records of the keys it holds: with N=3 on three
// nodes, every key of a BatchPut goes to the local engine and to two peers. Each of them
// needs the batch encoding (the engine logs it as its WAL payload, the peers' Apply
// carries it), and encoding per replica costs the same work N times over: the fixed
// fields, the stamps as 64-bit integers, the node id as UTF-8, the value copied. Here the
// records are encoded once, and a replica's share is that buffer itself when it holds every
// key (the common case) or its records' bytes copied out of it otherwise
// (docs/decisions/0200-batch-encoded-once-per-write.md).
//
// The batch format is `count u32 | record * count`, so a batch of some of the records
// is a new count followed by their bytes, and batches join by adding their counts and
// appending their records (`concatBatchEncodings`, used where a transport coalesces the
// messages of one turn into one Apply).
import assert from 'node:assert/strict';
import { recordBytes, writeRecord } from '../storage/record-codec.js';
import type { KvRecord } from '../storage/record.js';

const COUNT_BYTES = 4;

export class SharedBatchEncoding {
  private encoded: Buffer | undefined;
  /** Where record i starts in `encoded`; record i ends where i + 1 starts (the last at the end). */
  private readonly starts: number[] = [];

  constructor(private readonly records: readonly KvRecord[]) {}

  /**
   * The batch encoding of the records at `indices` (ascending, as the fan-out hands them
   * out), byte for byte what encodeBatch would make of them. The first call encodes every
   * record; later calls copy.
   */
  of(indices: readonly number[]): Buffer {
    const encoded = this.encodeAll();
    const count = this.records.length;
    if (indices.length === count) {
      // Ascending and distinct, so all of them: the whole buffer as it is.
      assert.ok(count === 0 || (indices[0] === 0 && indices[count - 1] === count - 1), 'record indices not ascending');
      return encoded;
    }
    let bytes = COUNT_BYTES;
    for (const index of indices) bytes += this.endOf(index, encoded) - this.starts[index]!;
    const target = Buffer.allocUnsafe(bytes);
    let at = target.writeUInt32BE(indices.length, 0);
    // Consecutive indices are one run of bytes: one copy per run, not per record.
    let i = 0;
    while (i < indices.length) {
      const first = indices[i]!;
      let last = first;
      while (i + 1 < indices.length && indices[i + 1] === last + 1) last = indices[++i]!;
      assert.ok(first >= 0 && last < count, 'record index outside the write');
      at += encoded.copy(target, at, this.starts[first]!, this.endOf(last, encoded));
      i++;
    }
    assert.equal(at, bytes, 'a share of the batch encoding came out the wrong size');
    return target;
  }

  private encodeAll(): Buffer {
    if (this.encoded !== undefined) return this.encoded;
    let bytes = COUNT_BYTES;
    for (const record of this.records) bytes += recordBytes(record);
    const target = Buffer.allocUnsafe(bytes);
    let at = target.writeUInt32BE(this.records.length, 0);
    for (const record of this.records) {
      this.starts.push(at);
      at = writeRecord(record, target, at);
    }
    assert.equal(at, bytes, 'the batch encoding came out the wrong size');
    this.encoded = target;
    return target;
  }

  private endOf(index: number, encoded: Buffer): number {
    return index + 1 < this.starts.length ? this.starts[index + 1]! : encoded.length;
  }
}

/** One batch encoding holding the records of `batches`, in order: counts added, records appended. */
export function concatBatchEncodings(batches: readonly Buffer[]): Buffer {
  if (batches.length === 1) return batches[0]!;
  let count = 0;
  let bytes = COUNT_BYTES;
  for (const batch of batches) {
    assert.ok(batch.length >= COUNT_BYTES, 'a batch encoding shorter than its count');
    count += batch.readUInt32BE(0);
    bytes += batch.length - COUNT_BYTES;
  }
  const target = Buffer.allocUnsafe(bytes);
  let at = target.writeUInt32BE(count, 0);
  for (const batch of batches) at += batch.copy(target, at, COUNT_BYTES);
  assert.equal(at, bytes);
  return target;
}
