// The snapshot file of one member in a backup set (docs/decisions/0140-logical-node-snapshots.md):
// the member's records, tombstones and expiry included, each with its version, as the
// storage engine's scan returned them. Big-endian:
//
//   file   = magic "QKVSNAP" | formatVersion u8 | frame*
//   frame  = payloadLength u32 | crc32c(payload) u32 | payload
//   payload = a record batch (src/storage/record-codec.ts: count u32 | record*)
//
// The manifest names each file's length, record count and SHA-256, so a file that was
// cut short at a frame boundary, or damaged anywhere, is caught as well as a damaged frame.
import { crc32c } from '../storage/crc32c.js';
import { decodeBatch, encodeBatch } from '../storage/record-codec.js';
import type { KvRecord } from '../storage/record.js';
import { BackupCorruptError } from '../errors/errors.js';
import { BACKUP_FRAME_BYTES_MAX } from '../limits.js';

export const SNAPSHOT_MAGIC = Buffer.from('QKVSNAP', 'latin1');
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = SNAPSHOT_MAGIC.length + 1;
const FRAME_HEADER_BYTES = 8;

export function snapshotHeader(): Buffer {
  return Buffer.concat([SNAPSHOT_MAGIC, Buffer.from([SNAPSHOT_FORMAT_VERSION])]);
}

export function encodeSnapshotFrame(records: readonly KvRecord[]): Buffer {
  const payload = encodeBatch(records);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32c(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface SnapshotFrame {
  readonly records: KvRecord[];
  /** Bytes of the frame in the file, header included. */
  readonly bytes: number;
}

/**
 * The frames of a snapshot file, checked as they are read: the header, each frame's
 * length bound and CRC, and that each payload decodes. `file` names the file in errors.
 */
export async function* readSnapshotFrames(chunks: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<SnapshotFrame> {
  const buffered = new ChunkBuffer();
  let headerSeen = false;
  let offset = 0;
  for await (const chunk of chunks) {
    buffered.push(chunk);
    if (!headerSeen) {
      if (buffered.length < HEADER_BYTES) continue;
      checkHeader(buffered.take(HEADER_BYTES), file);
      headerSeen = true;
      offset = HEADER_BYTES;
    }
    for (;;) {
      if (buffered.length < FRAME_HEADER_BYTES) break;
      const head = buffered.peek(FRAME_HEADER_BYTES);
      const payloadBytes = head.readUInt32BE(0);
      if (payloadBytes > BACKUP_FRAME_BYTES_MAX) throw new BackupCorruptError(file, `the frame at offset ${offset} says ${payloadBytes} bytes; the limit is ${BACKUP_FRAME_BYTES_MAX}`);
      if (buffered.length < FRAME_HEADER_BYTES + payloadBytes) break;
      const frame = buffered.take(FRAME_HEADER_BYTES + payloadBytes);
      const payload = frame.subarray(FRAME_HEADER_BYTES);
      if (crc32c(payload) !== head.readUInt32BE(4)) throw new BackupCorruptError(file, `the frame at offset ${offset} fails its CRC32C check`);
      let records: KvRecord[];
      try {
        records = decodeBatch(payload);
      } catch (error) {
        throw new BackupCorruptError(file, `the frame at offset ${offset} does not decode (${error instanceof Error ? error.message : String(error)})`);
      }
      yield { records, bytes: frame.length };
      offset += frame.length;
    }
  }
  if (!headerSeen) throw new BackupCorruptError(file, `truncated: ${buffered.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (buffered.length > 0) throw new BackupCorruptError(file, `truncated: the frame at offset ${offset} is cut short (${buffered.length} bytes of it present)`);
}

function checkHeader(header: Buffer, file: string): void {
  if (!header.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw new BackupCorruptError(file, 'not a quorumkv snapshot file (wrong magic bytes)');
  const version = header[SNAPSHOT_MAGIC.length];
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new BackupCorruptError(file, `format version ${version}; this build reads version ${SNAPSHOT_FORMAT_VERSION} (written by a ${(version ?? 0) > SNAPSHOT_FORMAT_VERSION ? 'newer' : 'older'} quorumkv?)`);
  }
}

/** Chunks as they arrived, taken from the front without copying more than once. */
class ChunkBuffer {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.length += chunk.length;
  }

  peek(bytes: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= bytes) return first.subarray(0, bytes);
    // Join exactly `bytes` and keep the rest as views of the chunks it came in. Joining
    // every chunk instead left the rest of the frame's read as a view of the joined
    // buffer, holding a whole frame's bytes alive beside its decoded records until the
    // next frame was taken: a restore merging 64 files held 64 of them.
    let used = 0;
    let covered = 0;
    while (covered < bytes) covered += this.chunks[used++]!.length;
    const joined = Buffer.concat(this.chunks.slice(0, used), bytes);
    const last = this.chunks[used - 1]!;
    const rest = covered > bytes ? [last.subarray(last.length - (covered - bytes))] : [];
    this.chunks = [joined, ...rest, ...this.chunks.slice(used)];
    return joined;
  }

  take(bytes: number): Buffer {
    const head = this.peek(bytes);
    const first = this.chunks[0]!;
    if (first.length === bytes) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
    this.length -= bytes;
    return head;
  }
}
