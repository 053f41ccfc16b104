// The write-ahead log's on-disk format. The WAL is a directory of segment files named
// `wal-<segment number, 20 digits>.log`; numbers increase by one and never repeat.
//
// Segment file:
//
//   header (20 bytes)
//     0  magic           4 bytes  "QKVW"
//     4  format version  u16      1
//     6  reserved        u16      0
//     8  segment number  u64      equals the number in the file name
//     16 header CRC-32C  u32      over bytes 0..16
//   frame*
//
// Frame (9-byte header + payload):
//
//     0  payload length  u32      1..WAL_FRAME_PAYLOAD_BYTES_MAX
//     4  CRC-32C         u32      over the length field, the type byte and the payload
//     8  type            u8       1 = record batch (src/storage/record-codec.ts)
//                                 2 = discard: a record batch whose records name a key
//                                     and a version (their values are not used); on
//                                     replay each key whose newest version is exactly
//                                     that one is removed (StorageEngine.discard)
//     9  payload         length bytes
//
// A build that predates discard frames stops at one as corruption ("unknown frame
// type") instead of skipping it, which would bring the discarded keys back. A clean
// stop checkpoints and leaves no discard frame in the WAL.
//
// All integers are big-endian. A frame is written whole by one write() together with
// the other frames of its group commit, and is acknowledged only after the sync that
// follows; so after a crash the last segment can end in a torn frame (a prefix of the
// bytes, or zeros where the file system had allocated blocks), and nowhere else can
// damage appear unless the disk or an operator corrupted the file. Recovery relies on
// that distinction (src/storage/wal/segment-reader.ts).
import { crc32c } from '../crc32c.js';

export const SEGMENT_MAGIC = Buffer.from('QKVW', 'ascii');
export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 20;
export const FRAME_HEADER_BYTES = 9;

export enum FrameType {
  RecordBatch = 1,
  Discard = 2,
}

export function isKnownFrameType(type: number): type is FrameType {
  return type === FrameType.RecordBatch || type === FrameType.Discard;
}

const SEGMENT_NAME = /^wal-(\d{20})\.log$/;

export function segmentFileName(segment: bigint): string {
  return `wal-${segment.toString().padStart(20, '0')}.log`;
}

export function parseSegmentFileName(name: string): bigint | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match ? BigInt(match[1]!) : undefined;
}

export function encodeSegmentHeader(segment: bigint): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt16BE(SEGMENT_FORMAT_VERSION, 4);
  header.writeUInt16BE(0, 6);
  header.writeBigUInt64BE(segment, 8);
  header.writeUInt32BE(crc32c(header, 0, 16), 16);
  return header;
}

/** Why a header is unacceptable, or undefined when it is good for `segment`. */
export function checkSegmentHeader(bytes: Buffer, segment: bigint): string | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return `file is ${bytes.length} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte header`;
  if (!bytes.subarray(0, 4).equals(SEGMENT_MAGIC)) return `bad magic ${bytes.subarray(0, 4).toString('hex')}, expected ${SEGMENT_MAGIC.toString('hex')}`;
  const stored = bytes.readUInt32BE(16);
  const computed = crc32c(bytes, 0, 16);
  if (stored !== computed) return `header checksum mismatch (stored ${stored}, computed ${computed})`;
  const version = bytes.readUInt16BE(4);
  if (version !== SEGMENT_FORMAT_VERSION) return `unsupported format version ${version}`;
  const number = bytes.readBigUInt64BE(8);
  if (number !== segment) return `header names segment ${number} but the file name says ${segment}`;
  return undefined;
}

export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Writes one frame at `offset` of `target` and returns the offset after it. */
export function writeFrame(type: FrameType, payload: Buffer, target: Buffer, offset: number): number {
  payload.copy(target, offset + FRAME_HEADER_BYTES);
  return sealFrame(type, target, offset, payload.length);
}

/**
 * Writes the header of the frame at `offset` of `target` whose payload, `payloadBytes`
 * long, is already in place after it; returns the offset after the frame.
 */
export function sealFrame(type: FrameType, target: Buffer, offset: number, payloadBytes: number): number {
  target.writeUInt32BE(payloadBytes, offset);
  target.writeUInt8(type, offset + 8);
  target.writeUInt32BE(frameChecksum(target, offset, payloadBytes), offset + 4);
  return offset + FRAME_HEADER_BYTES + payloadBytes;
}

/**
 * The checksum covers the length field too, so a flipped bit in a length that still
 * points inside the file shows up as a mismatch instead of a misparsed log.
 */
export function frameChecksum(bytes: Buffer, frameOffset: number, payloadBytes: number): number {
  const overLength = crc32c(bytes, frameOffset, frameOffset + 4);
  return crc32c(bytes, frameOffset + 8, frameOffset + FRAME_HEADER_BYTES + payloadBytes, overLength);
}
