// CRC-32C (Castagnoli), the checksum of every WAL frame and segment header. It is the
// checksum etcd, LevelDB and ext4 use for logs: better error detection than CRC-32 on
// short bursts. Table-driven with slicing-by-8, which is fast enough here because the
// fdatasync, not the checksum, dominates the cost of a commit.

const POLYNOMIAL_REVERSED = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL_REVERSED : crc >>> 1;
    first[n] = crc >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let crc = first[n]!;
    for (let slice = 1; slice < 8; slice++) {
      crc = first[crc & 0xff]! ^ (crc >>> 8);
      tables[slice]![n] = crc >>> 0;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/** CRC-32C of bytes[start, end), continuing from `previous` (0 for a fresh checksum). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  let crc = ~previous >>> 0;
  let i = start;
  while (end - i >= 8) {
    const low = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    crc =
      T7[low & 0xff]! ^
      T6[(low >>> 8) & 0xff]! ^
      T5[(low >>> 16) & 0xff]! ^
      T4[low >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = T0[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
