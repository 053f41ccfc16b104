// Reads one WAL segment and says exactly where and why it stops being readable.
//
// The classification rests on how the writer works (see wal-format.ts): frames reach
// the file only in group-commit writes of at most TORN_TAIL_BYTES_MAX bytes that are
// synced before anyone is told, and a segment is synced before the next one is
// created. So damage can be a TORN TAIL — a write that a crash interrupted, never
// acknowledged — only when it lies in the LAST segment, is a frame running past the end
// of the file, a zero length or a checksum mismatch, spans at most one group write to
// the end of the file, and no whole frame follows it. Everything else — a whole frame
// after the damage, a length above the frame limit, an unknown type, a bad header, any
// damage in an earlier segment — is CORRUPTION of acknowledged data, which recovery
// must not silently drop.
//
// Known limit: after power loss a disk may persist the pages of the final group out of
// order, leaving whole frames of that (unacknowledged) group after a hole. That is
// reported as corruption; the operator's skip-corrupt then drops exactly that tail.
import { WAL_FRAME_PAYLOAD_BYTES_MAX, WAL_GROUP_COMMIT_BYTES_MAX } from '../../limits.js';
import { checkSegmentHeader, FRAME_HEADER_BYTES, frameChecksum, isKnownFrameType, SEGMENT_HEADER_BYTES, type FrameType } from './wal-format.js';

export interface Frame {
  readonly offset: number;
  readonly type: FrameType;
  readonly payload: Buffer;
}

export type SegmentEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly offset: number; readonly reason: string };

export interface SegmentContents {
  readonly frames: Frame[];
  /** Offset just past the last good frame. */
  readonly goodBytes: number;
  readonly end: SegmentEnd;
}

/**
 * The most bytes one group commit writes: a group stops growing at
 * WAL_GROUP_COMMIT_BYTES_MAX but always holds at least one frame.
 */
export const TORN_TAIL_BYTES_MAX = Math.max(WAL_GROUP_COMMIT_BYTES_MAX, FRAME_HEADER_BYTES + WAL_FRAME_PAYLOAD_BYTES_MAX);

/** Whether a whole, checksummed frame starts at `offset`. */
function isValidFrameAt(bytes: Buffer, offset: number): boolean {
  if (offset + FRAME_HEADER_BYTES > bytes.length) return false;
  const payloadBytes = bytes.readUInt32BE(offset);
  if (payloadBytes === 0 || payloadBytes > WAL_FRAME_PAYLOAD_BYTES_MAX) return false;
  if (offset + FRAME_HEADER_BYTES + payloadBytes > bytes.length) return false;
  if (!isKnownFrameType(bytes.readUInt8(offset + 8))) return false;
  return bytes.readUInt32BE(offset + 4) === frameChecksum(bytes, offset, payloadBytes);
}

/**
 * Why the bytes from `offset` to the end cannot be a torn final group write, or
 * undefined when they can. A torn write is at most one group long and, having been cut
 * short, is followed by no whole frame; a flipped bit in an early frame's length, by
 * contrast, leaves whole frames after it.
 */
function tornTailObjection(bytes: Buffer, offset: number): string | undefined {
  const tailBytes = bytes.length - offset;
  if (tailBytes > TORN_TAIL_BYTES_MAX) return `the damaged tail of ${tailBytes} bytes is longer than one group write (${TORN_TAIL_BYTES_MAX})`;
  for (let candidate = offset + 1; candidate + FRAME_HEADER_BYTES <= bytes.length; candidate++) {
    if (isValidFrameAt(bytes, candidate)) return `a whole frame follows at offset ${candidate}`;
  }
  return undefined;
}

function isZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function readSegment(bytes: Buffer, segment: bigint, isLast: boolean): SegmentContents {
  const frames: Frame[] = [];
  const corrupt = (offset: number, reason: string): SegmentContents => ({ frames, goodBytes: offset, end: { kind: 'corrupt', offset, reason } });
  /** Damage at `offset` that may be a torn final group write: torn if the tail allows it. */
  const damaged = (offset: number, reason: string): SegmentContents => {
    if (!isLast) return corrupt(offset, reason);
    const objection = tornTailObjection(bytes, offset);
    if (objection !== undefined) return corrupt(offset, `${reason}; not a torn tail: ${objection}`);
    return { frames, goodBytes: offset, end: { kind: 'torn', offset, reason } };
  };

  // The header is synced before any frame is written, so a crash while creating the
  // last segment leaves a file that is short or entirely zero; a full header with the
  // wrong bytes, or a zeroed header with data after it, is damage.
  const headerProblem = checkSegmentHeader(bytes, segment);
  if (headerProblem !== undefined) {
    const creationTorn = isLast && (bytes.length < SEGMENT_HEADER_BYTES || isZero(bytes, 0));
    return creationTorn ? { frames, goodBytes: 0, end: { kind: 'torn', offset: 0, reason: headerProblem } } : corrupt(0, headerProblem);
  }

  let at = SEGMENT_HEADER_BYTES;
  while (at < bytes.length) {
    const remaining = bytes.length - at;
    if (remaining < FRAME_HEADER_BYTES) return damaged(at, `${remaining} bytes after the last frame, too few for a frame header`);
    const payloadBytes = bytes.readUInt32BE(at);
    if (payloadBytes === 0) return damaged(at, `frame of length zero (${isZero(bytes, at) ? 'zero-filled' : 'non-zero'} tail of ${remaining} bytes)`);
    if (payloadBytes > WAL_FRAME_PAYLOAD_BYTES_MAX) {
      return corrupt(at, `frame length ${payloadBytes} exceeds the limit of ${WAL_FRAME_PAYLOAD_BYTES_MAX}`);
    }
    const frameEnd = at + FRAME_HEADER_BYTES + payloadBytes;
    if (frameEnd > bytes.length) {
      return damaged(at, `frame of ${payloadBytes} bytes runs ${frameEnd - bytes.length} bytes past the end of the file`);
    }
    const stored = bytes.readUInt32BE(at + 4);
    const computed = frameChecksum(bytes, at, payloadBytes);
    if (stored !== computed) return damaged(at, `frame checksum mismatch (stored ${stored}, computed ${computed})`);
    const type = bytes.readUInt8(at + 8);
    if (!isKnownFrameType(type)) return corrupt(at, `unknown frame type ${type}`);
    frames.push({ offset: at, type, payload: bytes.subarray(at + FRAME_HEADER_BYTES, frameEnd) });
    at = frameEnd;
  }
  return { frames, goodBytes: at, end: { kind: 'clean' } };
}
