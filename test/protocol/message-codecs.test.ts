// The hand-written codecs (src/protocol/message-codecs.ts) against protobufjs as loaded by
// proto-loader, on random messages: decoding gives the objects proto-loader gives,
// encoding gives bytes proto-loader reads back as the same message, unknown fields are
// skipped, and whatever the codecs do not expect (a field in another wire type, a
// truncated buffer, parts they do not write) ends as proto-loader's codec ends it —
// except that a repeated field past its limit stops a codec (BATCH_TOO_LARGE) before
// proto-loader could decode every item, and an Exchange reply left to proto-loader
// passes the bounds scan first (docs/decisions/0102-bounded-decoding.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type * as grpc from '@grpc/grpc-js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import {
  decodeBatchPutRequest,
  decodeExchangeReply,
  decodeExchangeRequest,
  decodeGetRequest,
  decodePutRequest,
  decodeKvStreamReply,
  encodeKvStreamReply,
  encodeKvStreamRequest,
  kvStreamClientCodecs,
  encodeBatchPutResponse,
  encodeExchangeReply,
  encodeExchangeRequest,
  encodeGetResponse,
  encodePutResponse,
  exchangeClientCodecs,
  kvServiceWithFastCodecs,
  replicaServiceWithFastCodecs,
} from '../../src/protocol/message-codecs.js';
import { WireReader, ProtobufWireError, uint64Decimal, uint64Parts } from '../../src/protocol/protobuf-wire.js';
import { checkWireBounds } from '../../src/protocol/wire-bounds.js';
import { messageSchema } from '../../src/protocol/request-limits.js';
import { BatchTooLargeError } from '../../src/errors/errors.js';
import { BATCH_ITEMS_MAX, REPLICA_BATCH_ITEMS_MAX } from '../../src/limits.js';
import { damaged } from '../support/damaged-bytes.js';
import { bytesField, varint, varintField } from '../support/raw-grpc.js';

const { grpcObject } = loadQuorumKvProtocol();
const kv = grpcObject.quorumkv.v1.KV.service;
const replica = grpcObject.quorumkv.v1.Replica.service;

interface Codec {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}
const generic = (service: grpc.ServiceDefinition, method: string): Codec => service[method] as unknown as Codec;

const bytes = fc.uint8Array({ maxLength: 48 }).map((array) => Buffer.from(array));
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const uint64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 40n })).map(String);
const text = fc.oneof(fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
const version = fc.record({ stamp: uint64, nodeId: text });

/** One field the codecs do not know (number 15), in any wire type they can skip. */
const unknownField = fc.oneof(
  uint32.map((value) => Buffer.from([0x78, ...varint(BigInt(value))])),
  bytes.map((payload) => Buffer.from([0x7a, ...varint(BigInt(payload.length)), ...payload])),
  fc.constant(Buffer.from([0x79, 1, 2, 3, 4, 5, 6, 7, 8])),
  fc.constant(Buffer.from([0x7d, 1, 2, 3, 4])),
);


/** Both directions for one message: fast decode of generic bytes, generic decode of fast bytes. */
function checkRequest<T>(codec: Codec, decode: (bytes: Buffer) => unknown, arbitrary: fc.Arbitrary<T>): void {
  fc.assert(
    fc.property(arbitrary, fc.array(unknownField, { maxLength: 2 }), (message, extras) => {
      const wire = codec.requestSerialize(message);
      assert.deepEqual(decode(wire), codec.requestDeserialize(wire));
      const withUnknown = Buffer.concat([...extras, wire]);
      assert.deepEqual(decode(withUnknown), codec.requestDeserialize(withUnknown));
    }),
  );
}

function checkResponse<T>(codec: Codec, encode: (message: T) => Buffer | undefined, arbitrary: fc.Arbitrary<T>): void {
  fc.assert(
    fc.property(arbitrary, (message) => {
      const fast = encode(message);
      assert.ok(fast !== undefined, 'the codec writes this message itself');
      assert.deepEqual(codec.responseDeserialize(fast), codec.responseDeserialize(codec.responseSerialize(message)));
    }),
  );
}

describe('KV codecs (server side)', () => {
  it('decode Put, Get and BatchPut requests as proto-loader does', () => {
    checkRequest(generic(kv, 'Put'), decodePutRequest, fc.record({ key: bytes, value: bytes, w: uint32, ttlMs: uint64 }, { requiredKeys: [] }));
    checkRequest(generic(kv, 'Get'), decodeGetRequest, fc.record({ key: bytes, r: uint32, includeReplicas: fc.boolean() }, { requiredKeys: [] }));
    const item = fc.record({ key: bytes, value: bytes, ttlMs: uint64 }, { requiredKeys: [] });
    checkRequest(generic(kv, 'BatchPut'), decodeBatchPutRequest, fc.record({ items: fc.array(item, { maxLength: 20 }), w: uint32 }, { requiredKeys: [] }));
  });

  it('encode Put, Get and BatchPut responses that proto-loader reads back the same', () => {
    checkResponse(generic(kv, 'Put'), encodePutResponse, fc.record({ version, acks: uint32 }, { requiredKeys: [] }));
    checkResponse(generic(kv, 'Get'), encodeGetResponse, fc.record({ found: fc.boolean(), value: bytes, version, acks: uint32 }, { requiredKeys: [] }));
    const error = fc.record({ code: text, message: text });
    const result = fc.oneof(
      fc.record({ ok: fc.constant(true), version, acks: uint32 }),
      fc.record({ ok: fc.constant(false), acks: uint32, error }),
    );
    checkResponse(generic(kv, 'BatchPut'), encodeBatchPutResponse, fc.record({ results: fc.array(result, { maxLength: 20 }) }));
  });

  // A Multiplex request's envelope is read by kv-stream-envelope.ts (its own test); its
  // body by the unary method's codec, checked above.
  it('encode Multiplex replies with a Put, Get or BatchPut answer as proto-loader does', () => {
    const multiplex = generic(kv, 'Multiplex');
    const result = fc.record({ ok: fc.constant(true), version, acks: uint32 });
    checkResponse(
      multiplex,
      encodeKvStreamReply,
      fc.oneof(
        fc.record({ id: uint32, put: fc.record({ version, acks: uint32 }, { requiredKeys: [] }) }),
        fc.record({ id: uint32, get: fc.record({ found: fc.boolean(), value: bytes, version, acks: uint32 }, { requiredKeys: [] }) }),
        fc.record({ id: uint32, batchPut: fc.record({ results: fc.array(result, { maxLength: 20 }) }) }),
      ),
    );
    // Error replies are proto-loader's.
    assert.equal(encodeKvStreamReply({ id: 1, error: { code: 'OVERLOADED', message: 'm' } }), undefined);
  });

  it('leave what they do not write or expect to proto-loader', () => {
    const service = kvServiceWithFastCodecs(kv);
    const get = generic(service, 'Get');
    const withReplicas = { found: true, value: Buffer.from('v'), acks: 2, replicas: [{ nodeId: 'n1', answered: true, found: true, error: '' }] };
    assert.equal(encodeGetResponse(withReplicas), undefined);
    assert.deepEqual(get.responseDeserialize(get.responseSerialize(withReplicas)), generic(kv, 'Get').responseDeserialize(generic(kv, 'Get').responseSerialize(withReplicas)));

    const put = generic(service, 'Put');
    // Field 3 (w) as a length-delimited field: protobufjs' decoder decides what that means.
    const odd = Buffer.from([0x1a, 0x01, 0x05]);
    assert.throws(() => decodePutRequest(odd));
    let expected: unknown;
    let expectedError: unknown;
    try {
      expected = generic(kv, 'Put').requestDeserialize(odd);
    } catch (error) {
      expectedError = error;
    }
    if (expectedError === undefined) assert.deepEqual(put.requestDeserialize(odd), expected);
    else assert.throws(() => put.requestDeserialize(odd));

    // A truncated message fails, as it does in protobufjs.
    const truncated = generic(kv, 'Put').requestSerialize({ key: Buffer.from('key'), value: Buffer.alloc(40, 1) }).subarray(0, 20);
    assert.throws(() => generic(kv, 'Put').requestDeserialize(truncated));
    assert.throws(() => put.requestDeserialize(truncated));
  });
});

describe('KV Multiplex codecs (client side)', () => {
  const multiplex = generic(kv, 'Multiplex');
  const head = { id: uint32, timeoutMs: uint32 };
  const put = fc.record({ key: bytes, value: bytes, w: uint32, ttlMs: uint64 }, { requiredKeys: ['key', 'value'] });
  const item = fc.record({ key: bytes, value: bytes, ttlMs: uint64 }, { requiredKeys: ['key', 'value'] });
  const batchPut = fc.record({ items: fc.array(item, { maxLength: 20 }), w: uint32 }, { requiredKeys: [] });
  const get = fc.record({ key: bytes, r: uint32, includeReplicas: fc.boolean() }, { requiredKeys: ['key'] });

  it('encode Put, Get and BatchPut requests that proto-loader reads back the same', () => {
    fc.assert(
      fc.property(fc.oneof(fc.record({ ...head, put }), fc.record({ ...head, batchPut }), fc.record({ ...head, get })), (message) => {
        const fast = encodeKvStreamRequest(message);
        assert.ok(fast !== undefined, 'the codec writes this request itself');
        assert.deepEqual(multiplex.requestDeserialize(fast), multiplex.requestDeserialize(multiplex.requestSerialize(message)));
      }),
    );
  });

  it('decode Put, Get, BatchPut and error replies as proto-loader does, unknown fields skipped', () => {
    const error = fc.record({ code: text, message: text });
    const result = fc.oneof(
      fc.record({ ok: fc.constant(true), version, acks: uint32 }),
      fc.record({ ok: fc.constant(false), acks: uint32, error }),
      fc.record({ ok: fc.boolean(), version, acks: uint32, error }, { requiredKeys: [] }),
    );
    const reply = fc.oneof(
      fc.record({ id: uint32, put: fc.record({ version, acks: uint32 }, { requiredKeys: [] }) }),
      fc.record({ id: uint32, batchPut: fc.record({ results: fc.array(result, { maxLength: 20 }) }) }),
      fc.record({ id: uint32, get: fc.record({ found: fc.boolean(), value: bytes, version, acks: uint32 }, { requiredKeys: [] }) }),
      fc.record({ id: uint32, error }),
      fc.record({ id: uint32 }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(reply, fc.array(unknownField, { maxLength: 2 }), (message, extras) => {
        const wire = Buffer.concat([...extras, multiplex.responseSerialize(message)]);
        assert.deepEqual(decodeKvStreamReply(wire), multiplex.responseDeserialize(wire));
      }),
    );
  });

  /** `value` as a varint padded to `length` bytes (0x80 continuations), as a hostile or careless sender may write it. */
  function paddedVarint(value: bigint, length: number): Buffer {
    const plain = [...varint(value)];
    while (plain.length < length) {
      plain[plain.length - 1]! |= 0x80;
      plain.push(0);
    }
    return Buffer.from(plain);
  }
  const tagOf = (field: number, wireType: number): Buffer => varint(BigInt((field << 3) | wireType));
  const anyVarint = fc.oneof(
    fc.bigInt({ min: 0n, max: 3n }),
    fc.bigInt({ min: 0n, max: 0xffffffffn }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), // negative int32s and huge values take ten bytes
  );
  /** A varint field written plainly or padded up to ten bytes. */
  const varintOf = (field: number) =>
    fc.tuple(anyVarint, fc.integer({ min: 0, max: 10 })).map(([value, length]) => Buffer.concat([tagOf(field, 0), paddedVarint(value, length)]));
  const delimitedOf = (field: number, body: fc.Arbitrary<Buffer>) => body.map((payload) => Buffer.concat([tagOf(field, 2), varint(BigInt(payload.length)), payload]));
  const versionBody = fc
    .array(fc.oneof(varintOf(1), delimitedOf(2, fc.oneof(bytes, text.map((t) => Buffer.from(t)))), unknownField), { maxLength: 4 })
    .map((fields) => Buffer.concat(fields));
  /** A known field in a wire type that does not match it. */
  const mismatched = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 1, 2, 5)).chain(([field, wireType]) => {
    if (wireType === 0) return varintOf(field);
    if (wireType === 2) return delimitedOf(field, bytes);
    return fc.constant(Buffer.concat([tagOf(field, wireType), Buffer.alloc(wireType === 1 ? 8 : 4, 7)]));
  });
  /** A GetResponse body as any sender might write it: fields in any order, repeated, padded, mistyped, unknown. */
  const hostileGetBody = fc
    .array(fc.oneof(varintOf(1), delimitedOf(2, bytes), delimitedOf(3, versionBody), varintOf(4), unknownField, mismatched), { maxLength: 8 })
    .map((fields) => Buffer.concat(fields));
  const hostileGetReply = fc
    .tuple(fc.option(varintOf(1), { nil: undefined }), fc.array(hostileGetBody, { minLength: 1, maxLength: 2 }), fc.boolean())
    .map(([id, gets, idLast]) => {
      const body = Buffer.concat(gets.map((get) => Buffer.concat([tagOf(3, 2), varint(BigInt(get.length)), get])));
      const head = id ?? Buffer.alloc(0);
      return idLast ? Buffer.concat([body, head]) : Buffer.concat([head, body]);
    });

  /** The client's decoding gives what proto-loader gives, or fails where proto-loader fails. */
  function decodesAsProtoLoader(wire: Buffer): void {
    const codecs = kvStreamClientCodecs(kv);
    let expected: unknown;
    let expectedError: unknown;
    try {
      expected = multiplex.responseDeserialize(wire);
    } catch (error) {
      expectedError = error;
    }
    if (expectedError !== undefined) {
      assert.throws(() => codecs.deserialize(wire));
      return;
    }
    assert.deepEqual(codecs.deserialize(wire), expected);
    // And the fast decoder alone, whenever it does not hand the reply on: never a different reply.
    let fast: unknown;
    try {
      fast = decodeKvStreamReply(wire);
    } catch {
      return;
    }
    assert.deepEqual(fast, expected);
  }

  it('decode hostile Get replies as proto-loader does: any order, repeats, padded varints, mistyped and unknown fields', () => {
    fc.assert(fc.property(hostileGetReply, decodesAsProtoLoader), { numRuns: 5000 });
  });

  it('decode damaged Get replies as proto-loader does or fail where it fails', () => {
    const getReply = fc
      .record({ id: uint32, get: fc.record({ found: fc.boolean(), value: bytes, version, acks: uint32 }, { requiredKeys: [] }) })
      .map((message) => multiplex.responseSerialize(message));
    fc.assert(fc.property(damaged(getReply), decodesAsProtoLoader), { numRuns: 5000 });
  });

  it('decode the edge cases of a Get reply one by one', () => {
    const get = (body: Buffer): Buffer => Buffer.concat([tagOf(3, 2), varint(BigInt(body.length)), body]);
    const cases: Array<[string, Buffer]> = [
      ['an empty Get reply', get(Buffer.alloc(0))],
      ['an empty value written out', get(bytesField(2, Buffer.alloc(0)))],
      ['found twice, the last false', get(Buffer.concat([varintField(1, 1n), varintField(1, 0n)]))],
      ['value twice, the last wins', get(Buffer.concat([bytesField(2, Buffer.from('old')), bytesField(2, Buffer.from('new'))]))],
      ['acks before found', get(Buffer.concat([varintField(4, 3n), varintField(1, 1n)]))],
      ['acks as a ten-byte varint (a negative int32)', get(Buffer.concat([tagOf(4, 0), varint((1n << 64n) - 1n)]))],
      ['acks past 32 bits', get(varintField(4, (1n << 32n) + 5n))],
      ['found as 2^32 (zero in 32 bits)', get(varintField(1, 1n << 32n))],
      ['found padded to five bytes', get(Buffer.concat([tagOf(1, 0), paddedVarint(1n, 5)]))],
      ['found padded to ten bytes', get(Buffer.concat([tagOf(1, 0), paddedVarint(1n, 10)]))],
      ['version twice', get(Buffer.concat([bytesField(3, varintField(1, 5n)), bytesField(3, bytesField(2, Buffer.from('n')))]))],
      ['found as a length-delimited field', get(bytesField(1, Buffer.from([1])))],
      ['value as a varint', get(varintField(2, 7n))],
      ['a value length past the end', get(Buffer.concat([tagOf(2, 2), varint(100n), Buffer.from('short')]))],
      ['a Get reply length past the end', Buffer.concat([tagOf(3, 2), varint(50n), varintField(1, 1n)])],
      ['two Get replies, the last wins', Buffer.concat([get(varintField(4, 2n)), get(varintField(1, 1n))])],
      ['a Get reply then an error', Buffer.concat([get(varintField(1, 1n)), bytesField(7, bytesField(1, Buffer.from('INTERNAL')))])],
      ['a varint of eleven bytes', get(Buffer.concat([tagOf(4, 0), Buffer.alloc(10, 0x80), Buffer.from([0])]))],
      ['a group wire type', get(Buffer.from([0x7b, 0x7c]))],
    ];
    for (const [name, wire] of cases) {
      try {
        decodesAsProtoLoader(wire);
      } catch (error) {
        assert.fail(`${name}: ${String(error)}`);
      }
    }
    // A 16 MiB value comes through whole, as a view into the reply.
    const big = Buffer.alloc(16 * 1024 * 1024, 0x5a);
    const wire = multiplex.responseSerialize({ id: 9, get: { found: true, value: big, version: { stamp: '18446744073709551615', nodeId: 'qkv-2' }, acks: 3 } });
    decodesAsProtoLoader(wire);
    const reply = decodeKvStreamReply(wire);
    assert.equal(reply.get?.value.length, big.length);
    assert.ok(reply.get?.value.equals(big));
    assert.equal(reply.get?.version?.stamp, '18446744073709551615');
  });

  it('encode a Get request in the bytes protobufjs writes when every field is set, and in fewer (defaults left out) when not', () => {
    const multiplexRequest = fc.record({ id: fc.integer({ min: 1, max: 0xffffffff }), timeoutMs: fc.integer({ min: 1, max: 0xffffffff }) });
    const fullGet = fc.record({ key: fc.uint8Array({ minLength: 1, maxLength: 48 }).map((a) => Buffer.from(a)), r: fc.integer({ min: 1, max: 0xffffffff }), includeReplicas: fc.constant(true) });
    fc.assert(
      fc.property(multiplexRequest, fullGet, (head2, get) => {
        const message = { ...head2, get };
        assert.deepEqual(encodeKvStreamRequest(message), multiplex.requestSerialize(message));
      }),
    );
    // Defaults given explicitly: protobufjs writes them (an empty key, r 0, false), the codec
    // leaves them out as proto3 allows; both read back as the same request.
    const defaults = { id: 1, get: { key: Buffer.alloc(0), r: 0, includeReplicas: false } };
    const fast = encodeKvStreamRequest(defaults)!;
    assert.ok(fast.length < multiplex.requestSerialize(defaults).length);
    assert.deepEqual(multiplex.requestDeserialize(fast), multiplex.requestDeserialize(multiplex.requestSerialize(defaults)));
  });

  it('leave other bodies and request shapes to proto-loader, and bound what they decode', () => {
    assert.equal(encodeKvStreamRequest({ id: 1, delete: { key: Buffer.from('k') } }), undefined);
    assert.equal(encodeKvStreamRequest({ id: 1, put: { key: 'a string key', value: Buffer.from('v') } }), undefined);
    assert.equal(encodeKvStreamRequest({ id: 1, get: { key: 'a string key' } }), undefined);
    assert.equal(encodeKvStreamRequest({ id: 1, get: { key: Buffer.from('k'), r: 1.5 } }), undefined);
    assert.notEqual(encodeKvStreamRequest({ id: 1, get: { key: Buffer.from('k'), r: 2 } }), undefined, 'a plain get is encoded by hand');
    // A Get reply that lists every replica's view goes to proto-loader whole.
    const replicas = [{ nodeId: 'qkv-0', answered: true, found: true, version: { stamp: '7', nodeId: 'qkv-0' } }, { nodeId: 'qkv-1' }];
    const getReply = multiplex.responseSerialize({ id: 2, get: { found: true, value: Buffer.from('v'), acks: 2, replicas } });
    assert.throws(() => decodeKvStreamReply(getReply));
    const codecs = kvStreamClientCodecs(kv);
    assert.deepEqual(codecs.deserialize(getReply), multiplex.responseDeserialize(getReply));
    assert.equal(codecs.deserialize(getReply).get?.replicas.length, 2);
    const deleteRequest = { id: 3, timeoutMs: 50, delete: { key: Buffer.from('k'), w: 2 } };
    assert.deepEqual(multiplex.requestDeserialize(codecs.serialize(deleteRequest)), multiplex.requestDeserialize(multiplex.requestSerialize(deleteRequest)));
    // A BatchPut reply with more results than any request may have items stops the fast decoder at the limit.
    const results = Array.from({ length: BATCH_ITEMS_MAX + 1 }, () => ({ ok: true, acks: 2 }));
    const tooMany = multiplex.responseSerialize({ id: 4, batchPut: { results } });
    assert.throws(() => codecs.deserialize(tooMany), (error: unknown) => error instanceof BatchTooLargeError);
  });
});

describe('Exchange codecs (both sides)', () => {
  const exchange = generic(replica, 'Exchange');
  const request = fc.oneof(
    fc.record({ id: uint32, apply: fc.record({ batch: bytes }) }),
    fc.record({ id: uint32, read: fc.record({ keys: fc.array(bytes, { maxLength: 10 }) }) }),
  );
  const reply = fc.oneof(
    fc.record({ id: uint32, apply: fc.record({ records: uint32 }) }),
    fc.record({ id: uint32, read: fc.record({ found: fc.array(fc.boolean(), { maxLength: 300 }), batch: bytes }) }),
    fc.record({ id: uint32, error: fc.record({ code: text, message: text }) }),
  );

  it('requests round-trip with proto-loader in both directions', () => {
    checkRequest(exchange, decodeExchangeRequest, request);
    fc.assert(
      fc.property(request, (message) => {
        const fast = encodeExchangeRequest(message);
        assert.ok(fast !== undefined);
        assert.deepEqual(exchange.requestDeserialize(fast), exchange.requestDeserialize(exchange.requestSerialize(message)));
      }),
    );
  });

  it('replies round-trip with proto-loader in both directions, packed or unpacked flags', () => {
    fc.assert(
      fc.property(reply, fc.array(unknownField, { maxLength: 2 }), (message, extras) => {
        const wire = Buffer.concat([...extras, exchange.responseSerialize(message)]);
        assert.deepEqual(decodeExchangeReply(wire), exchange.responseDeserialize(wire));
        const fast = encodeExchangeReply(message);
        assert.ok(fast !== undefined);
        assert.deepEqual(exchange.responseDeserialize(fast), exchange.responseDeserialize(exchange.responseSerialize(message)));
      }),
    );
    // `found` written unpacked (one varint field per flag) by some other implementation.
    const unpacked = Buffer.from([0x08, 0x07, 0x1a, 0x04, 0x10, 0x01, 0x10, 0x00]);
    assert.deepEqual(decodeExchangeReply(unpacked), exchange.responseDeserialize(unpacked));
  });

  it('skip the retired field 1 of Apply requests and Read replies (records, results) as proto-loader does', () => {
    // ExchangeRequest { id: 3, apply: { 1: "x" } }: ApplyRequest.records before `batch`.
    const request = Buffer.from([0x08, 0x03, 0x12, 0x03, 0x0a, 0x01, 0x78]);
    assert.deepEqual(decodeExchangeRequest(request), exchange.requestDeserialize(request));
    // ExchangeReply { id: 4, read: { 1: "x" } }: ReadResponse.results before `found` and `batch`.
    const reply = Buffer.from([0x08, 0x04, 0x1a, 0x03, 0x0a, 0x01, 0x78]);
    assert.deepEqual(decodeExchangeReply(reply), exchange.responseDeserialize(reply));
  });
});

describe('protobuf wire reader', () => {
  it('reads uint64 varints up to 2^64-1 as decimal strings and refuses overlong or truncated ones', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (value) => {
        const out: number[] = [];
        let rest = value;
        while (rest >= 0x80n) {
          out.push(Number(rest & 0x7fn) | 0x80);
          rest >>= 7n;
        }
        out.push(Number(rest));
        assert.equal(new WireReader(Buffer.from(out)).uint64String(), value.toString());
      }),
    );
    assert.throws(() => new WireReader(Buffer.alloc(11, 0x80)).uint64String(), ProtobufWireError);
    assert.throws(() => new WireReader(Buffer.from([0x80, 0x80])).uint32(), ProtobufWireError);
  });
});

describe('uint64 decimals', () => {
  it('are the exact decimal of any 64-bit value, as bigint writes it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (value) => {
        assert.equal(uint64Decimal(Number(value & 0xffffffffn), Number(value >> 32n)), value.toString());
      }),
      { numRuns: 2000 },
    );
    for (const value of [0n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n, 10n ** 19n, 10n ** 14n - 1n, 1796537644529n << 16n]) {
      assert.equal(uint64Decimal(Number(value & 0xffffffffn), Number(value >> 32n)), value.toString());
    }
  });
});

describe('uint64 parts', () => {
  it('split every decimal up to 2^64-1 (and bigints) into the right 32-bit halves', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: (1n << 53n) - 5n, max: (1n << 64n) - 1n })), (value) => {
        const expected = { low: Number(value & 0xffffffffn), high: Number(value >> 32n) };
        assert.deepEqual(uint64Parts(value.toString()), expected);
        assert.deepEqual(uint64Parts(value), expected);
      }),
    );
    assert.deepEqual(uint64Parts('18446744073709551615'), { low: 0xffffffff, high: 0xffffffff });
    assert.deepEqual(uint64Parts('0'), { low: 0, high: 0 });
  });
});

describe('damaged bytes', () => {
  /** What a decoder makes of `wire`: its object, or that it threw. */
  const outcome = (decode: (wire: Buffer) => unknown, wire: Buffer): { value?: unknown; threw?: true } => {
    try {
      return { value: decode(wire) };
    } catch {
      return { threw: true };
    }
  };

  /**
   * The fast decoder with its fallback (what the server and client really use) must end
   * any bytes exactly as proto-loader alone does: the same object, or a failure. A fast
   * decoder that accepted what protobufjs refuses, or read it differently, would let a
   * request past the checks that protobufjs' refusal gives (INVALID_ARGUMENT).
   */
  const agrees = (fast: (wire: Buffer) => unknown, slow: (wire: Buffer) => unknown, valid: fc.Arbitrary<Buffer>): void => {
    fc.assert(
      fc.property(damaged(valid), (wire) => {
        assert.deepEqual(outcome(fast, wire), outcome(slow, wire));
      }),
      { numRuns: 2_000 },
    );
  };

  /**
   * `fast` ends the `wires` as `slow` does, except where it fails because the bounds scan
   * of an ExchangeReply alone refuses the bytes; at most `refusedShareMax` of the runs may be such.
   */
  const agreesUnlessScanRefuses = (fast: (wire: Buffer) => unknown, slow: (wire: Buffer) => unknown, wires: fc.Arbitrary<Buffer>, refusedShareMax = 0.25): void => {
    const replySchema = messageSchema('quorumkv.v1.ExchangeReply');
    const runs = 2_000;
    let refusedByScan = 0;
    fc.assert(
      fc.property(wires, (wire) => {
        const fastOutcome = outcome(fast, wire);
        const slowOutcome = outcome(slow, wire);
        if (fastOutcome.threw && !slowOutcome.threw && outcome((bytes) => checkWireBounds(bytes, replySchema), wire).threw) {
          refusedByScan++;
          return;
        }
        assert.deepEqual(fastOutcome, slowOutcome);
      }),
      { numRuns: runs },
    );
    assert.ok(refusedByScan <= runs * refusedShareMax, `the scan refused ${refusedByScan} of ${runs} replies that proto-loader reads`);
  };

  it("end in the client's fast Multiplex reply decoder exactly as in proto-loader", () => {
    const multiplex = generic(kv, 'Multiplex');
    const codecs = kvStreamClientCodecs(kv);
    const result = fc.record({ ok: fc.boolean(), version, acks: uint32, error: fc.record({ code: text, message: text }) }, { requiredKeys: [] });
    const replies = fc.oneof(
      fc.record({ id: uint32, put: fc.record({ version, acks: uint32 }, { requiredKeys: [] }) }),
      fc.record({ id: uint32, batchPut: fc.record({ results: fc.array(result, { maxLength: 5 }) }) }),
      fc.record({ id: uint32, error: fc.record({ code: text, message: text }) }),
    );
    agrees(codecs.deserialize, (wire) => multiplex.responseDeserialize(wire), replies.map((reply) => multiplex.responseSerialize(reply)));
  });

  it('end in the fast KV decoders exactly as in proto-loader', () => {
    const fastKv = kvServiceWithFastCodecs(kv);
    const item = fc.record({ key: bytes, value: bytes, ttlMs: uint64 }, { requiredKeys: [] });
    const requests: Array<[string, fc.Arbitrary<object>]> = [
      ['Put', fc.record({ key: bytes, value: bytes, w: uint32, ttlMs: uint64 }, { requiredKeys: [] })],
      ['Get', fc.record({ key: bytes, r: uint32, includeReplicas: fc.boolean() }, { requiredKeys: [] })],
      ['BatchPut', fc.record({ items: fc.array(item, { maxLength: 5 }), w: uint32 }, { requiredKeys: [] })],
    ];
    for (const [method, arbitrary] of requests) {
      const slow = generic(kv, method);
      agrees(
        (wire) => generic(fastKv, method).requestDeserialize(wire),
        (wire) => slow.requestDeserialize(wire),
        arbitrary.map((message) => slow.requestSerialize(message)),
      );
    }
  });

  it('end in the fast Exchange decoders exactly as in proto-loader, on both ends', () => {
    const exchange = generic(replica, 'Exchange');
    const server = generic(replicaServiceWithFastCodecs(replica), 'Exchange');
    const client = exchangeClientCodecs(replica);
    const request = fc.oneof(
      fc.record({ id: uint32, apply: fc.record({ batch: bytes }) }),
      fc.record({ id: uint32, read: fc.record({ keys: fc.array(bytes, { maxLength: 5 }) }) }),
    );
    const reply = fc.oneof(
      fc.record({ id: uint32, apply: fc.record({ records: uint32 }) }),
      fc.record({ id: uint32, read: fc.record({ found: fc.array(fc.boolean(), { maxLength: 20 }), batch: bytes }) }),
      fc.record({ id: uint32, error: fc.record({ code: text, message: text }) }),
    );
    agrees((wire) => server.requestDeserialize(wire), (wire) => exchange.requestDeserialize(wire), request.map((message) => exchange.requestSerialize(message)));
    // A reply left to proto-loader passes the bounds scan first, which refuses bytes that
    // protobufjs would read by another structure than the scan (a known field in another
    // wire type, a read across a nested message's end) or that repeat a singular field:
    // there the client fails where proto-loader alone would have returned something.
    // Everywhere else they agree.
    agreesUnlessScanRefuses((wire) => client.deserialize(wire), (wire) => exchange.responseDeserialize(wire), damaged(reply.map((message) => exchange.responseSerialize(message))));
    // Two messages one after the other are one message to protobuf (later fields win or
    // merge): with different bodies, two members of the oneof. No correct sender writes
    // that; the codecs must still end it as proto-loader does.
    const twice = <T,>(arbitrary: fc.Arbitrary<T>, serialize: (message: T) => Buffer): fc.Arbitrary<Buffer> =>
      fc.tuple(arbitrary, arbitrary).map(([first, second]) => Buffer.concat([serialize(first), serialize(second)]));
    const requestTwice = twice(request, (message) => exchange.requestSerialize(message));
    fc.assert(fc.property(requestTwice, (wire) => assert.deepEqual(outcome((bytes) => server.requestDeserialize(bytes), wire), outcome((bytes) => exchange.requestDeserialize(bytes), wire))), { numRuns: 1_000 });
    // Every singular field twice: the scan refuses what reaches proto-loader (ADR 0102).
    agreesUnlessScanRefuses((wire) => client.deserialize(wire), (wire) => exchange.responseDeserialize(wire), twice(reply, (message) => exchange.responseSerialize(message)), 1);
  });
});

describe('item counts', () => {
  const keyItems = (count: number): Array<{ key: Buffer }> => Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`) }));
  const batchTooLarge = (field: string, itemsMax: number) => (error: unknown): boolean => {
    assert.ok(error instanceof BatchTooLargeError, String(error));
    assert.equal(error.code, 'BATCH_TOO_LARGE');
    assert.equal(error.message, `quorumkv.v1.${field} has more than ${itemsMax} items; the limit is ${itemsMax}`);
    return true;
  };

  it('a BatchPut decoder takes BATCH_ITEMS_MAX items and stops at the next, with or without its fallback', () => {
    const serialize = generic(kv, 'BatchPut').requestSerialize;
    assert.equal(decodeBatchPutRequest(serialize({ items: keyItems(BATCH_ITEMS_MAX) })).items.length, BATCH_ITEMS_MAX);
    const over = serialize({ items: keyItems(BATCH_ITEMS_MAX + 1) });
    assert.throws(() => decodeBatchPutRequest(over), batchTooLarge('BatchPutRequest.items', BATCH_ITEMS_MAX));
    // The limit error is final: proto-loader would have decoded all 1001 items.
    assert.throws(() => generic(kvServiceWithFastCodecs(kv), 'BatchPut').requestDeserialize(over), batchTooLarge('BatchPutRequest.items', BATCH_ITEMS_MAX));
    // 100,000 empty items (two bytes each): refused, not decoded.
    const empties = Buffer.alloc(200_000);
    for (let at = 0; at < empties.length; at += 2) empties[at] = 0x0a;
    assert.throws(() => decodeBatchPutRequest(empties), batchTooLarge('BatchPutRequest.items', BATCH_ITEMS_MAX));
  });

  it('Exchange decoders stop at REPLICA_BATCH_ITEMS_MAX keys and flags, on both ends', () => {
    const exchange = generic(replica, 'Exchange');
    const server = generic(replicaServiceWithFastCodecs(replica), 'Exchange');
    const client = exchangeClientCodecs(replica);
    const keys = (count: number): Buffer[] => keyItems(count).map((item) => item.key);
    assert.equal(decodeExchangeRequest(exchange.requestSerialize({ id: 1, read: { keys: keys(REPLICA_BATCH_ITEMS_MAX) } })).read?.keys.length, REPLICA_BATCH_ITEMS_MAX);
    const overKeys = exchange.requestSerialize({ id: 1, read: { keys: keys(REPLICA_BATCH_ITEMS_MAX + 1) } });
    assert.throws(() => decodeExchangeRequest(overKeys), batchTooLarge('ReadRequest.keys', REPLICA_BATCH_ITEMS_MAX));
    assert.throws(() => server.requestDeserialize(overKeys), batchTooLarge('ReadRequest.keys', REPLICA_BATCH_ITEMS_MAX));

    const flags = (count: number): boolean[] => Array.from({ length: count }, (_, i) => i % 2 === 0);
    assert.equal(client.deserialize(exchange.responseSerialize({ id: 2, read: { found: flags(REPLICA_BATCH_ITEMS_MAX) } })).read?.found.length, REPLICA_BATCH_ITEMS_MAX);
    const packed = exchange.responseSerialize({ id: 2, read: { found: flags(REPLICA_BATCH_ITEMS_MAX + 1) } });
    assert.throws(() => decodeExchangeReply(packed), batchTooLarge('ReadResponse.found', REPLICA_BATCH_ITEMS_MAX));
    assert.throws(() => client.deserialize(packed), batchTooLarge('ReadResponse.found', REPLICA_BATCH_ITEMS_MAX));
    // Unpacked: one varint field per flag.
    const flagFields = Buffer.alloc(2 * (REPLICA_BATCH_ITEMS_MAX + 1));
    for (let at = 0; at < flagFields.length; at += 2) flagFields[at] = 0x10;
    const unpacked = Buffer.concat([Buffer.from([0x1a, ...varint(BigInt(flagFields.length))]), flagFields]);
    assert.throws(() => client.deserialize(unpacked), batchTooLarge('ReadResponse.found', REPLICA_BATCH_ITEMS_MAX));
  });

  it('a reply left to proto-loader is counted before it is decoded', () => {
    const exchange = generic(replica, 'Exchange');
    const client = exchangeClientCodecs(replica);
    // Two members of the oneof (an apply body, then a read body) go to proto-loader, behind the scan.
    const flags = (count: number): boolean[] => Array.from({ length: count }, () => false);
    const twoBodies = (count: number): Buffer =>
      Buffer.concat([exchange.responseSerialize({ id: 4, apply: { records: 1 } }), exchange.responseSerialize({ read: { found: flags(count) } })]);
    const atLimit = twoBodies(REPLICA_BATCH_ITEMS_MAX);
    assert.deepEqual(client.deserialize(atLimit), exchange.responseDeserialize(atLimit));
    assert.throws(() => client.deserialize(twoBodies(REPLICA_BATCH_ITEMS_MAX + 1)), batchTooLarge('ReadResponse.found', REPLICA_BATCH_ITEMS_MAX));
    // `id` sent length-delimited: protobufjs would read the length as the id and the
    // payload as fields of the reply itself.
    const hidden = Buffer.alloc(200_000);
    for (let at = 0; at < hidden.length; at += 2) hidden[at] = 0x0a;
    const read = Buffer.concat([Buffer.from([0x1a, ...varint(BigInt(hidden.length))]), hidden]);
    const smuggled = Buffer.concat([Buffer.from([0x0a, ...varint(BigInt(read.length))]), read]);
    assert.throws(() => client.deserialize(smuggled), { code: 'INVALID_ARGUMENT', message: /ExchangeReply\.id arrived in wire type 2/ });
  });
});
