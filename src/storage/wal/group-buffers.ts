// The buffers a WAL commit group's frames are encoded into: each append writes its frame
// straight after the group's previous one, so a group goes to the file as the one buffer
// it was built in, with no buffer per frame and no concatenation (ADR 0252). A buffer
// whose write has completed is kept as the spare for the next group: at concurrency 64
// a group is about 9 KB, and a fresh buffer per group was an allocation outside V8's heap
// that the collector has to account for, several hundred times a second.
//
// Ownership is what keeps the bytes right: a buffer belongs to one group from `take`
// until its write completes (`release`), and only then may another group write into it.
// Two buffers are enough in the steady state (one being written, one being filled); a
// queue that holds more groups (a rotate or a sync queued between them, a group at its
// byte bound) takes more, and only one spare is kept.
//
// A spare larger than GROUP_BUFFER_BYTES_INITIAL is dropped once
// GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK groups in a row needed no more than that: a
// burst of large batches leaves no megabyte held until shutdown by every engine and
// every peer's hint log (ADR 0262). Not at the first small group: a load of groups
// just above and just below the small size would then allocate a buffer per large group
// (1000 for 1000 groups alternating, measured), which is what the spare exists to avoid.
import assert from 'node:assert/strict';
import { WAL_GROUP_COMMIT_BYTES_MAX } from '../../limits.js';

/** Room of a new group's buffer: 64 records of 100-byte values fit several times. */
export const GROUP_BUFFER_BYTES_INITIAL = 64 * 1024;
/**
 * The largest buffer kept as the spare: a burst of large batches does not leave
 * megabytes held for good, and one of this size takes a concurrency-16 BatchPut group.
 */
export const GROUP_BUFFER_BYTES_KEPT_MAX = 1024 * 1024;
/**
 * Small groups (at most GROUP_BUFFER_BYTES_INITIAL) that must complete in a row before a
 * larger spare is dropped: a fraction of a second at the rates a node commits groups.
 */
export const GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK = 64;

export class GroupBuffers {
  private spare: Buffer | undefined;
  private smallGroupsInARow = 0;

  /** A buffer of at least `bytes` for a new group, the spare when it is large enough. */
  take(bytes: number): Buffer {
    const spare = this.spare;
    if (spare !== undefined && spare.length >= bytes) {
      this.spare = undefined;
      return spare;
    }
    return Buffer.allocUnsafeSlow(Math.max(bytes, GROUP_BUFFER_BYTES_INITIAL));
  }

  /**
   * A larger buffer holding the first `used` bytes of `buffer`, for a group that outgrew
   * it; the old one is dropped (it was never written to the file). It doubles, but not
   * past WAL_GROUP_COMMIT_BYTES_MAX, the most a group of several frames holds: a buffer
   * that began at one large frame's size would otherwise double to nearly twice that.
   */
  grow(buffer: Buffer, used: number, bytesNeeded: number): Buffer {
    assert.ok(bytesNeeded > buffer.length, 'a group buffer grows only when it is too small');
    const grown = Buffer.allocUnsafeSlow(Math.max(bytesNeeded, Math.min(buffer.length * 2, WAL_GROUP_COMMIT_BYTES_MAX)));
    buffer.copy(grown, 0, 0, used);
    return grown;
  }

  /**
   * Hands back a buffer whose write has completed (nothing reads it any more), whose
   * group used its first `usedBytes`.
   */
  release(buffer: Buffer, usedBytes: number): void {
    if (usedBytes > GROUP_BUFFER_BYTES_INITIAL) this.smallGroupsInARow = 0;
    else if (++this.smallGroupsInARow >= GROUP_BUFFER_SMALL_GROUPS_BEFORE_SHRINK) {
      // Small groups only, for a while: the large buffers of a past burst are not
      // needed any more.
      if (this.spare !== undefined && this.spare.length > GROUP_BUFFER_BYTES_INITIAL) this.spare = undefined;
      if (buffer.length > GROUP_BUFFER_BYTES_INITIAL) return;
    }
    if (buffer.length > GROUP_BUFFER_BYTES_KEPT_MAX) return;
    if (this.spare === undefined || this.spare.length < buffer.length) this.spare = buffer;
  }
}
