// The protobuf wire format, as far as the hand-written message codecs (message-codecs.ts)
// and the bounds scan (wire-bounds.ts) need it: varints, length-delimited fields, and
// skipping fields a decoder does not know. https://protobuf.dev/programming-guides/encoding/
//
// A reader that meets bytes it cannot take (a truncated field, a varint longer than ten
// bytes, a wire type that does not exist) throws ProtobufWireError; a codec that meets
// a field it knows in an unexpected wire type throws FieldShapeError, so that its
// caller can hand the message to protobufjs instead (message-codecs.ts).

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufWireError extends Error {}

/** A known field arrived in another wire type than the codec expects. */
export class FieldShapeError extends Error {}

const TWO_32 = 2 ** 32;

export class WireReader {
  at = 0;
  /**
   * Where the message being read ends. The bounds scan sets it to a nested message's end
   * while it walks that message, and back afterwards, so that a nested message is read in
   * place without a view of its bytes.
   */
  end: number;

  constructor(readonly bytes: Buffer) {
    this.end = bytes.length;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  /**
   * A varint of a 32-bit field (uint32, tags, lengths) in at most five bytes. A longer one
   * is valid protobuf (the high bits are dropped), but protobufjs reads it its own way (it
   * skips five further bytes whatever they hold), so it is refused here and the message
   * goes to protobufjs: the codecs must end every input as protobufjs does
   * (test/protocol/message-codecs.test.ts "damaged bytes"). No encoder writes such varints for
   * quorumkv's unsigned fields.
   */
  uint32(): number {
    // Tags and most lengths and counts are one byte.
    const first = this.at < this.end ? this.bytes[this.at]! : 0x80;
    if (first < 0x80) {
      this.at++;
      return first;
    }
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.at >= this.end) throw new ProtobufWireError('truncated varint');
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value % TWO_32;
    }
    throw new ProtobufWireError('a 32-bit varint longer than five bytes');
  }

  /** A uint64 varint as its unsigned decimal string (proto-loader's `longs: String`). */
  uint64String(): string {
    // Bits 0-27 from the first four bytes, 28-31 and 32-34 from the fifth, the rest into
    // `high`; a running factor instead of 2 ** shift, which V8 computes as a call each time.
    let low = 0;
    let high = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw new ProtobufWireError('truncated varint');
      const byte = this.bytes[this.at++]!;
      const bits = byte & 0x7f;
      if (i < 4) {
        low += bits * factor;
        factor *= 128;
      } else if (i === 4) {
        low += (bits & 0x0f) * 268435456;
        high = bits >>> 4;
        factor = 8;
      } else {
        high += bits * factor;
        factor *= 128;
      }
      if ((byte & 0x80) === 0) return uint64Decimal(low, high % TWO_32);
    }
    throw new ProtobufWireError('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** Moves past one varint of up to ten bytes (any 64-bit value) without reading it. */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.end) throw new ProtobufWireError('truncated varint');
      if ((this.bytes[this.at++]! & 0x80) === 0) return;
    }
    throw new ProtobufWireError('varint longer than 10 bytes');
  }

  /** A length-delimited field's bytes: a view into the message, as protobufjs gives. */
  bytesView(): Buffer {
    const length = this.uint32();
    const end = this.at + length;
    if (end > this.end) throw new ProtobufWireError('truncated length-delimited field');
    const view = this.bytes.subarray(this.at, end);
    this.at = end;
    return view;
  }

  string(): string {
    const length = this.uint32();
    const end = this.at + length;
    if (end > this.end) throw new ProtobufWireError('truncated string');
    const text = this.bytes.toString('utf8', this.at, end);
    this.at = end;
    return text;
  }

  /** Skips one field of `wireType` whose tag was just read. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.skipVarint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.advance(this.uint32());
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        // Groups (3, 4) are not used by proto3 and not read here.
        throw new ProtobufWireError(`wire type ${wireType} is not supported`);
    }
  }

  /** Moves past `count` bytes of the current message. */
  advance(count: number): void {
    if (this.at + count > this.end) throw new ProtobufWireError('truncated field');
    this.at += count;
  }
}

/** Bytes of `value` (a uint32) as a varint. */
export function varintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

const TWO_24 = 2 ** 24;
const TEN_7 = 1e7;

/**
 * The unsigned decimal of high * 2^32 + low (both below 2^32) in plain double
 * arithmetic. A stamp (wall milliseconds << 16) is above 2^53, and going through bigint
 * cost a client decoding a 100-item BatchPut reply more than proto-loader's whole codec.
 * The value is cut into 24-, 24- and 16-bit parts and summed in base 10^7, every step
 * below 2^53: 2^24 = 1·10^7 + 6777216 and 2^48 = 2·10^14 + 8147497·10^7 + 6710656 (the
 * method of google-protobuf's joinUnsignedDecimalString).
 */
export function uint64Decimal(low: number, high: number): string {
  if (high < 2 ** 21) return String(high * TWO_32 + low);
  const part0 = low % TWO_24;
  const part1 = Math.floor(low / TWO_24) + (high % 2 ** 16) * 2 ** 8;
  const part2 = Math.floor(high / 2 ** 16);
  let digitsLow = part0 + part1 * 6777216 + part2 * 6710656;
  let digitsMid = part1 + part2 * 8147497;
  let digitsHigh = part2 * 2;
  digitsMid += Math.floor(digitsLow / TEN_7);
  digitsLow %= TEN_7;
  digitsHigh += Math.floor(digitsMid / TEN_7);
  digitsMid %= TEN_7;
  const padded = (digits: number): string => String(digits).padStart(7, '0');
  return digitsHigh > 0 ? `${digitsHigh}${padded(digitsMid)}${padded(digitsLow)}` : `${digitsMid}${padded(digitsLow)}`;
}

/** A uint64 split into 32-bit halves, for varint sizing and writing. */
export interface Uint64Parts {
  readonly low: number;
  readonly high: number;
}

const DECIMAL_DIGITS = /^[0-9]{1,20}$/;
const TWO_16 = 2 ** 16;
const BILLION = 1e9;

/**
 * An unsigned decimal of up to 20 digits (proto-loader's `longs: String`) or a bigint as
 * 32-bit halves. Decimals are split in plain double arithmetic, every step below 2^53,
 * because a stamp is written into every response and bigint operations allocate.
 */
export function uint64Parts(value: string | bigint): Uint64Parts {
  if (typeof value === 'string' && DECIMAL_DIGITS.test(value)) {
    if (value.length <= 15) {
      const number = Number(value);
      return { low: number % TWO_32, high: Math.floor(number / TWO_32) };
    }
    // value = upper * 10^9 + lower, upper < 1.9e11, lower < 10^9; upper = upperHigh * 2^16 + upperLow.
    const upper = Number(value.slice(0, -9));
    const lower = Number(value.slice(-9));
    const upperHigh = Math.floor(upper / TWO_16);
    const upperLow = upper % TWO_16;
    const nearLow = upperLow * BILLION + lower; // < 2^47
    const farTimes = upperHigh * BILLION; // the part scaled by 2^16, < 2^49
    const lowSum = nearLow + (farTimes % TWO_16) * TWO_16; // < 2^48
    const high = Math.floor(farTimes / TWO_16) + Math.floor(lowSum / TWO_32);
    if (high < TWO_32) return { low: lowSum % TWO_32, high };
  }
  const big = BigInt.asUintN(64, BigInt(value));
  return { low: Number(big & 0xffffffffn), high: Number(big >> 32n) };
}

export function uint64VarintBytes(parts: Uint64Parts): number {
  if (parts.high === 0) return varintBytes(parts.low);
  let bytes = 5; // the low 32 bits plus the first bits of the high half
  let rest = Math.floor(parts.high / 8);
  while (rest > 0) {
    bytes++;
    rest = Math.floor(rest / 128);
  }
  return bytes;
}

/**
 * Writes protobuf into a buffer sized beforehand by the caller (`bytes`), so that a
 * message costs one allocation.
 */
export class WireWriter {
  at = 0;
  readonly bytes: Buffer;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): void {
    this.uint32(field * 8 + wireType);
  }

  uint32(value: number): void {
    while (value >= 0x80) {
      this.bytes[this.at++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.bytes[this.at++] = value;
  }

  uint64(parts: Uint64Parts): void {
    if (parts.high === 0) return this.uint32(parts.low);
    // 28 bits of the low half in four bytes, then 4 low bits + 3 high bits, then the rest.
    let low = parts.low;
    for (let i = 0; i < 4; i++) {
      this.bytes[this.at++] = (low & 0x7f) | 0x80;
      low = Math.floor(low / 128);
    }
    let high = parts.high;
    const mixed = (low & 0x0f) | ((high & 0x07) << 4);
    high = Math.floor(high / 8);
    this.bytes[this.at++] = high > 0 ? mixed | 0x80 : mixed;
    if (high > 0) this.uint32(high);
  }

  bytesField(value: Uint8Array): void {
    this.uint32(value.length);
    this.bytes.set(value, this.at);
    this.at += value.length;
  }

  /** `byteLength` must be Buffer.byteLength(value). */
  stringField(value: string, byteLength: number): void {
    this.uint32(byteLength);
    this.at += this.bytes.write(value, this.at, byteLength, 'utf8');
  }

  /** Checks the sizing: a codec that computed the wrong size has a bug. */
  finish(): Buffer {
    if (this.at !== this.bytes.length) throw new Error(`protobuf writer filled ${this.at} of ${this.bytes.length} bytes`);
    return this.bytes;
  }
}

/** Bytes of a length-delimited field with its tag (`field` < 16) and `length` payload bytes. */
export function delimitedFieldBytes(length: number): number {
  return 1 + varintBytes(length) + length;
}
