// What a memtable holds per key: one small object naming where the key's bytes and its
// value's bytes lie in a slab (memtable-slab.ts), with the version and the expiry. It
// is its own module because both the memtable (memtable.ts) and the checkpoint's
// walk of it in token order (memtable-token-order.ts) read it.
import type { KvRecord, Version } from '../record.js';

/** One key's newest version: its bytes lie in `slab` from `keyOffset`, the value after the key. */
export class MemtableEntry {
  constructor(
    readonly slab: Buffer,
    readonly keyOffset: number,
    readonly keyLength: number,
    /** -1 for a tombstone. */
    readonly valueLength: number,
    readonly version: Version,
    readonly expiresAtMs: number,
  ) {}

  /** Where the value's bytes start in `slab` (right after the key). */
  get valueOffset(): number {
    return this.keyOffset + this.keyLength;
  }

  record(): KvRecord {
    const valueOffset = this.valueOffset;
    return {
      key: this.slab.subarray(this.keyOffset, valueOffset),
      value: this.valueLength < 0 ? null : this.slab.subarray(valueOffset, valueOffset + this.valueLength),
      version: this.version,
      expiresAtMs: this.expiresAtMs,
    };
  }

  key(): Buffer {
    return this.slab.subarray(this.keyOffset, this.keyOffset + this.keyLength);
  }
}
