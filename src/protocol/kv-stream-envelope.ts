// What the node reads of a KV.Multiplex message before it knows whether the caller may
// send it: the request's id, its deadline and which request it is, with the body's bytes
// left as they arrived (docs/decisions/0190-multiplex-bodies-decoded-after-the-role-check.md).
// The stream's handler (src/api/kv-stream.ts) checks the caller's role for that request
// first, and only then holds the body to its unary method's limits and decodes it, so a
// request on the stream is refused in the same order and with the same code as its unary
// call: role, then size, then item counts, then decoding.
//
// Reading the envelope allocates one object and one view of the received buffer, and
// walks only the top-level fields, so it needs no bounds scan of its own.
import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireReader } from './protobuf-wire.js';

/** KvStreamRequest's body fields (kv.proto), by the name of the oneof member. */
export const KV_STREAM_BODY_FIELDS = { put: 3, get: 4, delete: 5, batchPut: 6, batchGet: 7 } as const;

export type KvStreamBodyKind = keyof typeof KV_STREAM_BODY_FIELDS;

/** The unary method each body kind stands for. */
export const KV_STREAM_BODY_METHODS: Readonly<Record<KvStreamBodyKind, 'Put' | 'Get' | 'Delete' | 'BatchPut' | 'BatchGet'>> = {
  put: 'Put',
  get: 'Get',
  delete: 'Delete',
  batchPut: 'BatchPut',
  batchGet: 'BatchGet',
};

const EMPTY: Buffer = Buffer.alloc(0);

const KIND_OF_FIELD: ReadonlyMap<number, KvStreamBodyKind> = new Map(Object.entries(KV_STREAM_BODY_FIELDS).map(([kind, field]) => [field, kind as KvStreamBodyKind]));

/** One KV.Multiplex request as the node first reads it: the body not decoded yet. */
export interface KvStreamEnvelope {
  readonly id: number;
  /** The request's own deadline in ms from its arrival; 0: none. */
  readonly timeoutMs: number;
  /** Undefined when the message carries no body. */
  readonly kind: KvStreamBodyKind | undefined;
  /** The body's encoded bytes (a view of the received message); empty without a body. */
  readonly body: Buffer;
}

/** Thrown for a message that is not a KvStreamRequest; the caller answers INVALID_ARGUMENT. */
export class KvStreamEnvelopeError extends Error {}

/**
 * Reads the envelope of a KvStreamRequest. Unknown fields are skipped, as protobuf
 * requires; a message with two bodies (two members of the oneof, or one twice) is refused.
 */
export function decodeKvStreamEnvelope(bytes: Buffer): KvStreamEnvelope {
  const reader = new WireReader(bytes);
  let id = 0;
  let timeoutMs = 0;
  let kind: KvStreamBodyKind | undefined;
  let body = EMPTY;
  while (!reader.done) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    const bodyKind = KIND_OF_FIELD.get(field);
    if (field === 1 || field === 2) {
      if (wireType !== WIRE_VARINT) throw new KvStreamEnvelopeError(`field ${field} has wire type ${wireType}, expected ${WIRE_VARINT}`);
      if (field === 1) id = reader.uint32();
      else timeoutMs = reader.uint32();
    } else if (bodyKind !== undefined) {
      if (wireType !== WIRE_LENGTH_DELIMITED) throw new KvStreamEnvelopeError(`the ${bodyKind} body has wire type ${wireType}, expected ${WIRE_LENGTH_DELIMITED}`);
      // No correct sender writes two bodies; protobufjs would keep both (and refuse the
      // whole message if the one not served were damaged), so neither is guessed at.
      if (kind !== undefined) throw new KvStreamEnvelopeError(`a request carries one body; this one carries ${kind} and ${bodyKind}`);
      kind = bodyKind;
      body = reader.bytesView();
    } else {
      reader.skip(wireType);
    }
  }
  return { id, timeoutMs, kind, body };
}
