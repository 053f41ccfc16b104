// Where a memtable keeps its key and value bytes: large buffers ("slabs") filled one
// record after the other and never written twice at the same place, so views of them
// handed out by `Memtable.get` stay valid. Copying a record into a slab makes no Buffer
// object per record, which is the point (memtable.ts, ADR 0215). A record too large to
// share a slab without wasting much of one gets a buffer of its own.
//
// The slabs are freed with the memtable: an overwritten version's bytes stay until the
// memtable is checkpointed and dropped, and the memtable counts them (Memtable.bytes).

/** Bytes of one slab: 1600 records of a 10-byte key and a 100-byte value, for one allocation. */
export const MEMTABLE_SLAB_BYTES = 256 * 1024;
/** Records above this many bytes get a buffer of their own instead of a slab's tail. */
const OWN_BUFFER_BYTES_MIN = MEMTABLE_SLAB_BYTES / 8;

export class MemtableSlabs {
  private slab: Buffer | undefined;
  private used = 0;
  private placedAt = 0;

  /** Where the last `copyIn` put its bytes in the buffer it returned. */
  get lastOffset(): number {
    return this.placedAt;
  }

  /**
   * Copies `key`, then `value` (none for a tombstone) right after it, into a slab;
   * returns the slab, and `lastOffset` says where the key starts.
   */
  copyIn(key: Buffer, value: Buffer | null): Buffer {
    const bytes = key.length + (value?.length ?? 0);
    let target: Buffer;
    if (bytes >= OWN_BUFFER_BYTES_MIN) {
      target = Buffer.allocUnsafeSlow(bytes);
      this.placedAt = 0;
    } else {
      if (this.slab === undefined || this.used + bytes > MEMTABLE_SLAB_BYTES) {
        this.slab = Buffer.allocUnsafeSlow(MEMTABLE_SLAB_BYTES);
        this.used = 0;
      }
      target = this.slab;
      this.placedAt = this.used;
      this.used += bytes;
    }
    key.copy(target, this.placedAt);
    if (value !== null) value.copy(target, this.placedAt + key.length);
    return target;
  }
}
