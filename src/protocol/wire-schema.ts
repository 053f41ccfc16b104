// What the bounds scan (wire-bounds.ts) knows of a protobuf message: for every field its
// number, the wire types it may arrive in, how often it may occur in one message, and
// for a message field the nested message's own schema. Built once from the descriptors
// proto-loader already holds for proto/quorumkv/v1, so that the scan follows the .proto
// files without a second hand-written copy of them.
//
// A singular field may occur once: protobuf allows a later occurrence to override (or
// merge into) an earlier one, but no protobuf library writes a field twice, and every
// occurrence costs protobufjs an allocation (a 16 MiB message of 8 million empty
// sub-messages took it 0.5 s). A repeated field may occur as often as its limit in
// `itemsMaxOfField` says; a repeated field without one is a programmer error, reported
// when the schema is built, so a field added to a .proto file cannot go unbounded.
import type { MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from './protobuf-wire.js';

export interface FieldSchema {
  /** `Message.field`, for error messages. */
  readonly name: string;
  /** The wire type a correct sender writes. */
  readonly wireType: number;
  /** A repeated number may also come packed (length-delimited); the element wire type is `wireType`. */
  readonly packable: boolean;
  /**
   * A varint that protobufjs reads as 32 bits (int32, uint32, sint32, bool, enum): after
   * five bytes without an end it skips five more whatever they hold, and the scan must
   * step over it the same way to stay where protobufjs will be (wire-bounds.ts).
   */
  readonly varint32: boolean;
  /** Occurrences (for a packed field: elements) allowed in one message; 1 for a singular field. */
  readonly occurrencesMax: number;
  /** The field's message type, for a message field. */
  readonly message: MessageSchema | undefined;
  /** The field's place in its message's `counts`. */
  readonly index: number;
}

export interface MessageSchema {
  /** The fully qualified type name, e.g. `quorumkv.v1.BatchPutRequest`. */
  readonly typeName: string;
  /** Fields by number; unknown numbers are skipped. */
  readonly fields: ReadonlyMap<number, FieldSchema>;
  /** The same fields in an array indexed by number (holes for unknown numbers), for the scan's lookups. */
  readonly byNumber: readonly (FieldSchema | undefined)[];
  /**
   * Occurrences of each field seen so far in the message being scanned, by the field's
   * index in `fields`. One array per schema, reused: the scan is synchronous and a schema
   * never contains itself (checked when it is built), so no two scans of one schema overlap.
   */
  readonly counts: Uint32Array;
}

const VARINT32_TYPES: ReadonlySet<string> = new Set(['TYPE_INT32', 'TYPE_UINT32', 'TYPE_SINT32', 'TYPE_BOOL', 'TYPE_ENUM']);

const WIRE_TYPE_OF_TYPE: Readonly<Record<string, number>> = {
  TYPE_INT32: WIRE_VARINT,
  TYPE_INT64: WIRE_VARINT,
  TYPE_UINT32: WIRE_VARINT,
  TYPE_UINT64: WIRE_VARINT,
  TYPE_SINT32: WIRE_VARINT,
  TYPE_SINT64: WIRE_VARINT,
  TYPE_BOOL: WIRE_VARINT,
  TYPE_ENUM: WIRE_VARINT,
  TYPE_FIXED64: WIRE_FIXED64,
  TYPE_SFIXED64: WIRE_FIXED64,
  TYPE_DOUBLE: WIRE_FIXED64,
  TYPE_FIXED32: WIRE_FIXED32,
  TYPE_SFIXED32: WIRE_FIXED32,
  TYPE_FLOAT: WIRE_FIXED32,
  TYPE_STRING: WIRE_LENGTH_DELIMITED,
  TYPE_BYTES: WIRE_LENGTH_DELIMITED,
  TYPE_MESSAGE: WIRE_LENGTH_DELIMITED,
};

/** One field of a DescriptorProto as proto-loader gives it (`type: object` in its typings). */
interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

function fieldDescriptorsOf(definition: MessageTypeDefinition<object, object>, typeName: string): FieldDescriptor[] {
  const fields: unknown = (definition.type as { field?: unknown }).field;
  if (!Array.isArray(fields)) throw new Error(`${typeName}: its descriptor has no field list`);
  return fields.map((field: unknown): FieldDescriptor => {
    const { name, number, label, type, typeName: fieldTypeName } = (field ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof number !== 'number' || typeof label !== 'string' || typeof type !== 'string' || typeof fieldTypeName !== 'string') {
      throw new Error(`${typeName}: a field descriptor of an unexpected shape`);
    }
    return { name, number, label, type, typeName: fieldTypeName };
  });
}

function isMessageType(definition: PackageDefinition[string] | undefined): definition is MessageTypeDefinition<object, object> {
  return definition !== undefined && 'format' in definition && definition.format === 'Protocol Buffer 3 DescriptorProto';
}

/**
 * `name` as protobuf resolves a type name used inside `scope`: from the innermost
 * enclosing scope outwards (proto-loader keeps names relative, e.g. `PutItem`).
 */
function resolveTypeName(packageDefinition: PackageDefinition, scope: string, name: string): string {
  if (name.startsWith('.')) return name.slice(1);
  const parts = scope.split('.');
  for (let length = parts.length; length >= 0; length--) {
    const candidate = [...parts.slice(0, length), name].join('.');
    if (isMessageType(packageDefinition[candidate])) return candidate;
  }
  throw new Error(`${scope}: type ${name} is not in the package definition`);
}

/**
 * Builds (and caches) the schema of every message type reachable from the ones asked
 * for. `itemsMaxOfField` gives the limit of each repeated field by `type.field` name.
 */
export class WireSchemas {
  private readonly built = new Map<string, MessageSchema>();
  private readonly building = new Set<string>();

  constructor(
    private readonly packageDefinition: PackageDefinition,
    private readonly itemsMaxOfField: (fieldName: string) => number | undefined,
  ) {}

  /** The schema of the fully qualified message type `typeName`. */
  of(typeName: string): MessageSchema {
    const cached = this.built.get(typeName);
    if (cached !== undefined) return cached;
    if (this.building.has(typeName)) throw new Error(`${typeName} contains itself; the bounds scan supports no recursive messages`);
    const definition = this.packageDefinition[typeName];
    if (!isMessageType(definition)) throw new Error(`${typeName} is not a message type of the package definition`);
    this.building.add(typeName);
    const fields = new Map<number, FieldSchema>();
    for (const field of fieldDescriptorsOf(definition, typeName)) {
      const name = `${typeName}.${field.name}`;
      const wireType = WIRE_TYPE_OF_TYPE[field.type];
      if (wireType === undefined) throw new Error(`${name}: field type ${field.type} is not supported by the bounds scan`);
      const repeated = field.label === 'LABEL_REPEATED';
      let occurrencesMax = 1;
      if (repeated) {
        const itemsMax = this.itemsMaxOfField(name);
        if (itemsMax === undefined) throw new Error(`${name} is repeated and has no item limit (src/protocol/request-limits.ts)`);
        occurrencesMax = itemsMax;
      }
      const message = field.type === 'TYPE_MESSAGE' ? this.of(resolveTypeName(this.packageDefinition, typeName, field.typeName)) : undefined;
      const packable = repeated && wireType !== WIRE_LENGTH_DELIMITED;
      fields.set(field.number, { name, wireType, packable, varint32: VARINT32_TYPES.has(field.type), occurrencesMax, message, index: fields.size });
    }
    this.building.delete(typeName);
    const byNumber: (FieldSchema | undefined)[] = Array.from({ length: Math.max(0, ...fields.keys()) + 1 }, (_, number) => fields.get(number));
    const schema: MessageSchema = { typeName, fields, byNumber, counts: new Uint32Array(fields.size) };
    this.built.set(typeName, schema);
    return schema;
  }
}
