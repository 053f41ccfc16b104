// Big-endian u64 stamps and expiries in record encodings, without Buffer's
// writeBigUInt64BE: it splits the bigint into two halves with bigint arithmetic,
// allocating bigints on every call (60–200 ns per write on the development machine,
// depending on its load, against 10–16 ns here). Every record is encoded twice (its WAL
// frame, its checkpoint), so this is on the engine's per-record path. The value passes
// through one 8-byte scratch array whose bytes are copied in the order the host keeps
// them. Reading stays with Buffer's readBigUInt64BE: the same trick measured no
// difference there, since a read must allocate its bigint anyway.

const scratch = new BigUint64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes `value` (0 ≤ value < 2^64) big-endian at `offset`; returns the offset after it. */
export function writeU64BE(target: Uint8Array, value: bigint, offset: number): number {
  scratch[0] = value;
  if (hostIsLittleEndian) {
    for (let i = 0; i < 8; i++) target[offset + i] = scratchBytes[7 - i]!;
  } else {
    for (let i = 0; i < 8; i++) target[offset + i] = scratchBytes[i]!;
  }
  return offset + 8;
}

