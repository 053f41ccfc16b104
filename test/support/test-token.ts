// A token function for storage tests that must not depend on the ring: the first 8
// bytes of SHA-256. The engine takes its token function as a parameter, so any
// well-spread 64-bit function exercises the same ordering code.
import { createHash } from 'node:crypto';

export function testTokenOf(key: Buffer): bigint {
  return createHash('sha256').update(key).digest().readBigUInt64BE(0);
}
