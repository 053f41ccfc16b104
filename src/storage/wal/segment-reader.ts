// Reads one WAL segment and says exactly where and why it stops being readable.
//
// The classification rests on how the writer works (see wal-format.ts): frames reach
// the file only in whole group-commit writes that are synced before anyone is told,
// and a segment is synced before the next one is created. So:
//   - in the LAST segment, a frame that runs past the end of the file, a zero-filled
//     rest of the file, or a checksum mismatch on a frame followed only by zeros or
//     nothing is a TORN TAIL: a write that a crash interrupted, never acknowledged;
//   - anything else — a checksum mismatch with good frames after it, a length above
//     the frame limit, a bad header, any damage in an earlier segment — is CORRUPTION
//     of data that was acknowledged, which recovery must not silently drop.
import { WAL_FRAME_PAYLOAD_BYTES_MAX } from '../../limits.js';
import { checkSegmentHeader, FRAME_HEADER_BYTES, frameChecksum, FrameType, SEGMENT_HEADER_BYTES } from './wal-format.js';

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

function isZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function readSegment(bytes: Buffer, segment: bigint, isLast: boolean): SegmentContents {
  const frames: Frame[] = [];
  const stop = (offset: number, reason: string, tornIfLast: boolean): SegmentContents => ({
    frames,
    goodBytes: offset,
    end: isLast && tornIfLast ? { kind: 'torn', offset, reason } : { kind: 'corrupt', offset, reason },
  });

  // A crash while creating the last segment can leave a short or zeroed header.
  // A header that is short or all zeros is such a torn creation; a full header with
  // the wrong bytes is not.
  const headerProblem = checkSegmentHeader(bytes, segment);
  if (headerProblem !== undefined) {
    const headerTorn = bytes.length < SEGMENT_HEADER_BYTES || isZero(bytes.subarray(0, SEGMENT_HEADER_BYTES), 0);
    return stop(0, headerProblem, headerTorn);
  }

  let at = SEGMENT_HEADER_BYTES;
  while (at < bytes.length) {
    const remaining = bytes.length - at;
    if (remaining < FRAME_HEADER_BYTES) {
      if (isZero(bytes, at)) return stop(at, `${remaining} zero bytes after the last frame`, true);
      return stop(at, `${remaining} bytes after the last frame, too few for a frame header`, true);
    }
    const payloadBytes = bytes.readUInt32BE(at);
    if (payloadBytes === 0) {
      if (isZero(bytes, at)) return stop(at, `zero-filled tail of ${remaining} bytes`, true);
      return stop(at, 'frame with zero length followed by non-zero bytes', false);
    }
    if (payloadBytes > WAL_FRAME_PAYLOAD_BYTES_MAX) {
      return stop(at, `frame length ${payloadBytes} exceeds the limit of ${WAL_FRAME_PAYLOAD_BYTES_MAX}`, false);
    }
    const frameEnd = at + FRAME_HEADER_BYTES + payloadBytes;
    if (frameEnd > bytes.length) {
      return stop(at, `frame of ${payloadBytes} bytes runs ${frameEnd - bytes.length} bytes past the end of the file`, true);
    }
    const stored = bytes.readUInt32BE(at + 4);
    const computed = frameChecksum(bytes, at, payloadBytes);
    if (stored !== computed) {
      return stop(at, `frame checksum mismatch (stored ${stored}, computed ${computed})`, isZero(bytes, frameEnd));
    }
    const type = bytes.readUInt8(at + 8);
    if (type !== FrameType.RecordBatch) return stop(at, `unknown frame type ${type}`, false);
    frames.push({ offset: at, type, payload: bytes.subarray(at + FRAME_HEADER_BYTES, frameEnd) });
    at = frameEnd;
  }
  return { frames, goodBytes: at, end: { kind: 'clean' } };
}
