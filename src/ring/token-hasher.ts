// xxHash64 for the ring: the key's token and every virtual node's token come from the
// same 64-bit hash (xxhash-wasm, seed 0). The WebAssembly module is compiled once per
// process; `loadXxHash64` hands out that one instance, and everything after the await
// is synchronous so the request path never waits on a promise to hash a key.
//
// Tokens are unsigned 64-bit integers held as bigint (see token-range.ts).
import xxhash from 'xxhash-wasm';
import type { TokenFunction } from './token-range.js';

/** The two hashing entry points the ring needs; tests may inject their own. */
export interface XxHash64 {
  /** xxh64 of raw bytes, unsigned. */
  bytes(input: Uint8Array): bigint;
  /** xxh64 of the UTF-8 encoding of `input`, unsigned. */
  text(input: string): bigint;
}

let loaded: Promise<XxHash64> | undefined;

/** The process-wide xxHash64 instance; the first call compiles the WebAssembly module. */
export function loadXxHash64(): Promise<XxHash64> {
  loaded ??= xxhash().then((api) => ({
    bytes: (input: Uint8Array) => api.h64Raw(input),
    text: (input: string) => api.h64(input),
  }));
  return loaded;
}

/** A synchronous key → token function backed by the shared xxHash64 instance. */
export async function createTokenHasher(): Promise<TokenFunction> {
  const hash = await loadXxHash64();
  return (key: Buffer) => hash.bytes(key);
}

/**
 * The token of virtual node `index` of `nodeId`: xxh64 of the UTF-8 bytes of
 * `${nodeId}#${index}`. Fixed by the design; changing it moves every key in a cluster.
 */
export function vnodeToken(hash: XxHash64, nodeId: string, index: number): bigint {
  return hash.text(`${nodeId}#${index}`);
}

const utf8 = new TextEncoder();
const HASH_CHARACTER = 0x23; // '#'
const DIGIT_ZERO = 0x30;

/**
 * Writes the tokens of vnodes 0..vnodes-1 of `nodeId` into `out` from `offset`, the same
 * values as `vnodeToken` but hashing from one reused byte buffer: building a large ring
 * hashes hundreds of thousands of names, and a string per name costs more than the hash.
 */
export function writeVnodeTokens(hash: XxHash64, nodeId: string, vnodes: number, out: BigUint64Array, offset: number): void {
  const idBytes = utf8.encode(nodeId);
  const name = new Uint8Array(idBytes.length + 1 + String(Math.max(vnodes - 1, 0)).length);
  name.set(idBytes);
  name[idBytes.length] = HASH_CHARACTER;
  const digitsStart = idBytes.length + 1;
  // One view per digit count, so the loop creates no objects.
  const views: Uint8Array[] = [];
  for (let digits = 1; digitsStart + digits <= name.length; digits++) views[digits] = name.subarray(0, digitsStart + digits);
  for (let index = 0; index < vnodes; index++) {
    let digits = 0;
    for (let rest = index; ; rest = Math.floor(rest / 10)) {
      digits++;
      if (rest < 10) break;
    }
    for (let rest = index, at = digitsStart + digits - 1; at >= digitsStart; rest = Math.floor(rest / 10), at--) {
      name[at] = DIGIT_ZERO + (rest % 10);
    }
    out[offset + index] = hash.bytes(views[digits]!);
  }
}
