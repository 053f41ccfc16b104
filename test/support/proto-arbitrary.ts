// Random valid messages of any quorumkv.v1 type, as proto-loader's serializer takes them
// (longs as decimal strings, bytes as Buffers), built from the descriptors proto-loader
// holds, so that a fuzz test covers every field of every request without listing them
// and a field added to a .proto file is fuzzed from then on. A field type the generator
// does not know fails the test that asks for it.
import fc from 'fast-check';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { varint } from './raw-grpc.js';

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

const UINT64_MAX = (1n << 64n) - 1n;

const SCALARS: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  TYPE_UINT32: fc.oneof(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 0xffffffff })),
  TYPE_UINT64: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: UINT64_MAX })).map(String),
  TYPE_BOOL: fc.boolean(),
  TYPE_DOUBLE: fc.double(),
  TYPE_STRING: fc.oneof(fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 })),
  TYPE_BYTES: fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes)),
};

export interface MessageArbitraryOptions {
  /** Items in any repeated field. */
  readonly itemsMax: number;
}

/** Messages of the quorumkv.v1 type `typeName` (e.g. `BatchPutRequest`), every field optional. */
export function messageArbitrary(typeName: string, options: MessageArbitraryOptions): fc.Arbitrary<Record<string, unknown>> {
  const definition = loadQuorumKvProtocol().packageDefinition[`quorumkv.v1.${typeName}`] as MessageTypeDefinition<object, object> | undefined;
  if (definition === undefined) throw new Error(`no message type quorumkv.v1.${typeName}`);
  const fields = (definition.type as { field: FieldDescriptor[] }).field;
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    const value = field.type === 'TYPE_MESSAGE' ? messageArbitrary(field.typeName, options) : SCALARS[field.type];
    if (value === undefined) throw new Error(`${typeName}.${field.name}: no arbitrary for ${field.type}`);
    model[field.name] = field.label === 'LABEL_REPEATED' ? fc.array(value, { maxLength: options.itemsMax }) : value;
  }
  return fc.record(model, { requiredKeys: [] });
}

/**
 * One field no quorumkv message has (numbers 100 to 2000), in each wire type a proto3
 * message may carry: what a newer sender adds, which every decoder must skip.
 */
export const unknownFieldArbitrary: fc.Arbitrary<Buffer> = fc
  .tuple(fc.integer({ min: 100, max: 2000 }), fc.constantFrom(0, 1, 2, 5), fc.uint8Array({ maxLength: 24 }), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([number, wireType, payload, value]) => {
    const tag = varint(BigInt(number * 8 + wireType));
    if (wireType === 0) return Buffer.from([...tag, ...varint(BigInt(value))]);
    if (wireType === 1) return Buffer.from([...tag, ...payload.subarray(0, 8), ...new Uint8Array(Math.max(0, 8 - payload.length))]);
    if (wireType === 5) return Buffer.from([...tag, ...payload.subarray(0, 4), ...new Uint8Array(Math.max(0, 4 - payload.length))]);
    return Buffer.from([...tag, ...varint(BigInt(payload.length)), ...payload]);
  });
