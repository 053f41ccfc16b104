// The .proto files are the one source of truth for the hand-written codecs
// (docs/decisions/0130-protobuf-source-of-truth.md). message-codecs.test.ts checks the
// codecs against protobufjs on messages whose fields the test itself lists, so a field
// added to the .proto and to neither the codec nor that list went unnoticed in an encoded
// message. Here the random messages come from the schema proto-loader read from the
// .proto files: every field of every message a codec reads or writes, nested messages
// included, gets random values, so a field the codec does not handle fails the test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { loadQuorumKvProtocol, PROTO_FILES, PROTO_ROOT } from '../../src/protocol/proto-package.js';
import {
  decodeBatchPutRequest,
  decodeExchangeReply,
  decodeExchangeRequest,
  decodeGetRequest,
  decodePutRequest,
  encodeBatchPutResponse,
  encodeExchangeReply,
  encodeExchangeRequest,
  encodeGetResponse,
  encodePutResponse,
} from '../../src/protocol/message-codecs.js';

const PACKAGE = 'quorumkv.v1';
const { grpcObject } = loadQuorumKvProtocol();
// The same .proto files through protobufjs' reflection (which proto-loader uses inside):
// its descriptors say which fields belong to a oneof, proto-loader's flattened ones do not.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
root.loadSync([...PROTO_FILES]).resolveAll();

/**
 * Response parts the encoders leave to proto-loader's codec on purpose (ADR 0063): the
 * arbitraries keep them empty, and a message with them is checked to fall back in
 * message-codecs.test.ts. Anything else in the .proto must be handled by the codec.
 */
const LEFT_TO_PROTO_LOADER: ReadonlySet<string> = new Set(['quorumkv.v1.GetResponse.replicas']);

const bytes = fc.uint8Array({ maxLength: 24 }).map((array) => Buffer.from(array));
const scalars: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  bytes,
  string: fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 })),
  bool: fc.boolean(),
  uint32: fc.integer({ min: 0, max: 0xffffffff }),
  // Longs as decimal strings, as proto-loader hands them out (ADR 0030).
  uint64: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(String),
};

/** The message types an arbitrary reached, so the test can say it covered them. */
const covered = new Set<string>();

/**
 * Random messages of `typeName` in proto-loader's object form (camelCase names), built
 * from its descriptor: every field, a random member of each oneof, up to 4 items of a
 * repeated field. A `complete` message sets every field and one member of each oneof,
 * as the handlers' responses and the transport's requests do; the encoders leave other
 * shapes (a version without its stamp, a request without a body) to proto-loader, which
 * message-codecs.test.ts checks. An incomplete one leaves out any field or oneof, as a
 * decoder may meet them.
 */
function messageOf(typeName: string, complete: boolean): fc.Arbitrary<Record<string, unknown>> {
  covered.add(typeName);
  const type = root.lookupType(typeName);
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  const members = new Map<string, Array<[string, fc.Arbitrary<unknown>]>>();
  for (const field of type.fieldsArray) {
    const qualified = `${typeName}.${field.name}`;
    if (LEFT_TO_PROTO_LOADER.has(qualified)) continue;
    let value: fc.Arbitrary<unknown>;
    if (field.resolvedType instanceof protobuf.Type) {
      value = messageOf(field.resolvedType.fullName.slice(1), complete);
    } else {
      const scalar = scalars[field.type];
      assert.ok(scalar !== undefined, `${qualified}: a field of type ${field.type}; teach this test (and the codec) that type`);
      value = scalar;
    }
    if (field.repeated) value = fc.array(value, { maxLength: 4 });
    const name = protobuf.util.camelCase(field.name);
    if (field.partOf === null) plain[name] = value;
    else members.set(field.partOf.name, [...(members.get(field.partOf.name) ?? []), [name, value]]);
  }
  const oneofChoices = [...members.values()].map((choices) =>
    fc.oneof(...(complete ? [] : [fc.constant({})]), ...choices.map(([name, value]) => value.map((chosen) => ({ [name]: chosen })))),
  );
  return fc
    .tuple(complete ? fc.record(plain) : fc.record(plain, { requiredKeys: [] }), ...oneofChoices)
    .map(([fieldsPart, ...chosen]) => Object.assign({}, fieldsPart, ...chosen) as Record<string, unknown>);
}

interface MethodCodec {
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

function methodOf(service: 'KV' | 'Replica', name: string): MethodCodec {
  return grpcObject.quorumkv.v1[service].service[name] as unknown as MethodCodec;
}

/** The fast decoder reads what protobufjs writes exactly as protobufjs reads it. */
function checkDecoder(typeName: string, side: 'request' | 'response', method: MethodCodec, decode: (bytes: Buffer) => unknown): void {
  const serialize = side === 'request' ? method.requestSerialize : method.responseSerialize;
  const deserialize = side === 'request' ? method.requestDeserialize : method.responseDeserialize;
  fc.assert(
    fc.property(messageOf(typeName, false), (message) => {
      const wire = serialize(message);
      assert.deepEqual(decode(wire), deserialize(wire), `${typeName}: the hand-written decoder`);
    }),
  );
}

/** The fast encoder writes the message itself, and protobufjs reads back what it reads from its own encoding. */
function checkEncoder(typeName: string, side: 'request' | 'response', method: MethodCodec, encode: (message: never) => Buffer | undefined): void {
  const serialize = side === 'request' ? method.requestSerialize : method.responseSerialize;
  const deserialize = side === 'request' ? method.requestDeserialize : method.responseDeserialize;
  fc.assert(
    fc.property(messageOf(typeName, true), (message) => {
      const fast = encode(message as never);
      assert.ok(fast !== undefined, `${typeName}: the hand-written encoder writes ${JSON.stringify(Object.keys(message))} itself`);
      assert.deepEqual(deserialize(fast), deserialize(serialize(message)), `${typeName}: the hand-written encoder`);
    }),
  );
}

describe('hand-written codecs against the .proto schema', () => {
  it('KV decoders read every field of Put, Get and BatchPut requests', () => {
    checkDecoder('quorumkv.v1.PutRequest', 'request', methodOf('KV', 'Put'), decodePutRequest);
    checkDecoder('quorumkv.v1.GetRequest', 'request', methodOf('KV', 'Get'), decodeGetRequest);
    checkDecoder('quorumkv.v1.BatchPutRequest', 'request', methodOf('KV', 'BatchPut'), decodeBatchPutRequest);
  });

  it('KV encoders write every field of Put, Get and BatchPut responses', () => {
    checkEncoder('quorumkv.v1.PutResponse', 'response', methodOf('KV', 'Put'), encodePutResponse);
    checkEncoder('quorumkv.v1.GetResponse', 'response', methodOf('KV', 'Get'), encodeGetResponse);
    checkEncoder('quorumkv.v1.BatchPutResponse', 'response', methodOf('KV', 'BatchPut'), encodeBatchPutResponse);
  });

  it('Exchange codecs read and write every field of requests and replies', () => {
    const exchange = methodOf('Replica', 'Exchange');
    checkDecoder('quorumkv.v1.ExchangeRequest', 'request', exchange, decodeExchangeRequest);
    checkEncoder('quorumkv.v1.ExchangeRequest', 'request', exchange, encodeExchangeRequest);
    checkDecoder('quorumkv.v1.ExchangeReply', 'response', exchange, decodeExchangeReply);
    checkEncoder('quorumkv.v1.ExchangeReply', 'response', exchange, encodeExchangeReply);
  });

  it('the random messages reach every nested message type of the hand-coded messages', () => {
    for (const typeName of ['PutRequest', 'GetRequest', 'BatchPutRequest', 'PutResponse', 'GetResponse', 'BatchPutResponse', 'ExchangeRequest', 'ExchangeReply']) {
      messageOf(`${PACKAGE}.${typeName}`, false);
    }
    const nested = ['PutItem', 'PutResult', 'Version', 'ItemError', 'ApplyRequest', 'ReadRequest', 'ApplyResponse', 'ReadResponse', 'ExchangeError'];
    for (const typeName of nested) assert.ok(covered.has(`${PACKAGE}.${typeName}`), `${typeName} is reached`);
  });
});
