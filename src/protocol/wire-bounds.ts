// The bounds scan: one walk over a message's bytes, before any decoder builds an object
// from them, that refuses what would make a decoder allocate without bound
// (docs/decisions/0102-bounded-decoding.md). protobufjs, which proto-loader decodes with,
// pushes every occurrence of a repeated field into an array and only then do handlers
// count them: a 16 MiB BatchPut of 8.4 million empty items grew a node by 4 GB before
// its item count was checked. The scan counts instead, and stops at the first
// occurrence past a field's limit (wire-schema.ts), having allocated nothing: it reads
// tags and lengths in place, nested messages included.
//
// It also refuses what protobufjs would read differently from the scan, because a count
// is only worth what the walk it came from is: protobufjs reads a known field by its
// number whatever its wire type, so a `w` sent as length-delimited would have it read the
// length as `w` and then the field's payload as further fields of the message, where
// the scan would have skipped it — millions of items hidden from the count. So a known
// field must arrive in its own wire type (or packed, for a repeated number), no read may
// cross the end of its enclosing message (protobufjs checks only the buffer's end), and
// a 32-bit varint is stepped over as protobufjs steps over it. Groups (wire types 3 and
// 4), which proto3 does not use, are refused. What the scan accepts, protobufjs and the
// hand-written codecs read field for field as the scan did.
import { BatchTooLargeError, InvalidArgumentError } from '../errors/errors.js';
import { ProtobufWireError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WireReader } from './protobuf-wire.js';
import type { FieldSchema, MessageSchema } from './wire-schema.js';

/** The error for a repeated field with more than `itemsMax` items, from the scan or a codec. */
export function tooManyItems(field: string, itemsMax: number): BatchTooLargeError {
  return new BatchTooLargeError(undefined, itemsMax, field);
}

/**
 * Throws BatchTooLargeError (BATCH_TOO_LARGE) for a repeated field past its limit and
 * InvalidArgumentError for anything else the scan refuses; returns when a decoder may go
 * ahead.
 */
export function checkWireBounds(bytes: Buffer, schema: MessageSchema): void {
  try {
    scanMessage(new WireReader(bytes), schema);
  } catch (error) {
    if (error instanceof ProtobufWireError) throw new InvalidArgumentError(`${schema.typeName}: ${error.message}`);
    throw error;
  }
}

/** Walks the message from `reader.at` to `reader.end`. */
function scanMessage(reader: WireReader, schema: MessageSchema): void {
  const { counts } = schema;
  counts.fill(0);
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const number = tag >>> 3;
    // (An index past the array's end would take V8's slow path on every unknown field.)
    const field = number < schema.byNumber.length ? schema.byNumber[number] : undefined;
    if (field === undefined) {
      // Unknown fields cost protobufjs nothing but the skip (groups are refused here).
      reader.skip(wireType);
      continue;
    }
    if (field.packable && wireType === WIRE_LENGTH_DELIMITED) {
      count(field, counts, scanPacked(reader, field, field.occurrencesMax - counts[field.index]!));
      continue;
    }
    if (wireType !== field.wireType) throw new InvalidArgumentError(`${field.name} arrived in wire type ${wireType}, not ${field.wireType}`);
    count(field, counts, 1);
    if (field.message !== undefined) scanNested(reader, field.message);
    else if (field.varint32) skipVarint32(reader);
    else reader.skip(wireType);
  }
}

function count(field: FieldSchema, counts: Uint32Array, occurrences: number): void {
  const seen = counts[field.index]! + occurrences;
  if (seen > field.occurrencesMax) {
    if (field.occurrencesMax === 1) throw new InvalidArgumentError(`${field.name} occurs more than once`);
    throw tooManyItems(field.name, field.occurrencesMax);
  }
  counts[field.index] = seen;
}

/** A length-delimited nested message, walked in place within its own end. */
function scanNested(reader: WireReader, schema: MessageSchema): void {
  const length = reader.uint32();
  const end = reader.at + length;
  if (end > reader.end) throw new ProtobufWireError(`truncated ${schema.typeName}`);
  const outerEnd = reader.end;
  reader.end = end;
  scanMessage(reader, schema);
  reader.end = outerEnd;
}

/**
 * The elements of a packed repeated number, stepped over one by one as protobufjs reads
 * them; more than `itemsLeft` stops the walk. The last element must end exactly at the
 * payload's end (protobufjs would otherwise read on into the next field).
 */
function scanPacked(reader: WireReader, field: FieldSchema, itemsLeft: number): number {
  const length = reader.uint32();
  const end = reader.at + length;
  if (end > reader.end) throw new ProtobufWireError(`truncated packed ${field.name}`);
  const outerEnd = reader.end;
  reader.end = end;
  let elements = 0;
  while (!reader.done) {
    if (elements === itemsLeft) throw tooManyItems(field.name, field.occurrencesMax);
    elements++;
    if (field.wireType === WIRE_FIXED32) reader.advance(4);
    else if (field.wireType === WIRE_FIXED64) reader.advance(8);
    else if (field.varint32) skipVarint32(reader);
    else reader.skipVarint();
  }
  reader.end = outerEnd;
  return elements;
}

/**
 * Steps over a varint as protobufjs's `Reader.uint32` does (int32, uint32, sint32, bool,
 * enum values): up to five bytes, and when the fifth still has its continuation bit,
 * five more bytes whatever they hold. A negative int32 is ten bytes this way.
 */
function skipVarint32(reader: WireReader): void {
  for (let i = 0; i < 5; i++) {
    if (reader.done) throw new ProtobufWireError('truncated varint');
    if ((reader.bytes[reader.at++]! & 0x80) === 0) return;
  }
  reader.advance(5);
}
