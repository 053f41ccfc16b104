// An independent, deliberately plain xxHash64 (seed 0) written from the specification
// with bigint arithmetic, so tests can check the WebAssembly hash the ring depends on
// instead of trusting it. Slow; for tests only.

const MASK = (1n << 64n) - 1n;
const PRIME_1 = 0x9e3779b185ebca87n;
const PRIME_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME_3 = 0x165667b19e3779f9n;
const PRIME_4 = 0x85ebca77c2b2ae63n;
const PRIME_5 = 0x27d4eb2f165667c5n;

function rotateLeft(value: bigint, bits: bigint): bigint {
  return ((value << bits) | (value >> (64n - bits))) & MASK;
}

function round(accumulator: bigint, input: bigint): bigint {
  const mixed = (accumulator + input * PRIME_2) & MASK;
  return (rotateLeft(mixed, 31n) * PRIME_1) & MASK;
}

function mergeRound(accumulator: bigint, value: bigint): bigint {
  return (((accumulator ^ round(0n, value)) * PRIME_1) + PRIME_4) & MASK;
}

function read64(bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  for (let index = 7; index >= 0; index--) value = (value << 8n) | BigInt(bytes[offset + index]!);
  return value;
}

function read32(bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  for (let index = 3; index >= 0; index--) value = (value << 8n) | BigInt(bytes[offset + index]!);
  return value;
}

export function referenceXxh64(bytes: Uint8Array): bigint {
  const length = bytes.length;
  let offset = 0;
  let hash: bigint;
  if (length >= 32) {
    let v1 = (PRIME_1 + PRIME_2) & MASK;
    let v2 = PRIME_2;
    let v3 = 0n;
    let v4 = (0n - PRIME_1) & MASK;
    while (offset + 32 <= length) {
      v1 = round(v1, read64(bytes, offset));
      v2 = round(v2, read64(bytes, offset + 8));
      v3 = round(v3, read64(bytes, offset + 16));
      v4 = round(v4, read64(bytes, offset + 24));
      offset += 32;
    }
    hash = (rotateLeft(v1, 1n) + rotateLeft(v2, 7n) + rotateLeft(v3, 12n) + rotateLeft(v4, 18n)) & MASK;
    hash = mergeRound(hash, v1);
    hash = mergeRound(hash, v2);
    hash = mergeRound(hash, v3);
    hash = mergeRound(hash, v4);
  } else {
    hash = PRIME_5;
  }
  hash = (hash + BigInt(length)) & MASK;
  while (offset + 8 <= length) {
    hash ^= round(0n, read64(bytes, offset));
    hash = (rotateLeft(hash, 27n) * PRIME_1 + PRIME_4) & MASK;
    offset += 8;
  }
  if (offset + 4 <= length) {
    hash ^= (read32(bytes, offset) * PRIME_1) & MASK;
    hash = (rotateLeft(hash, 23n) * PRIME_2 + PRIME_3) & MASK;
    offset += 4;
  }
  while (offset < length) {
    hash ^= (BigInt(bytes[offset]!) * PRIME_5) & MASK;
    hash = (rotateLeft(hash, 11n) * PRIME_1) & MASK;
    offset++;
  }
  hash ^= hash >> 33n;
  hash = (hash * PRIME_2) & MASK;
  hash ^= hash >> 29n;
  hash = (hash * PRIME_3) & MASK;
  hash ^= hash >> 32n;
  return hash;
}
