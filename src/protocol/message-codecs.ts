// Hand-written protobuf codecs for the messages on the request path: the KV service's
// Put, Get and BatchPut on the node's server, unary and inside KV.Multiplex messages (whose
// envelope is kv-stream-envelope.ts's), Put and BatchPut on the client's end of
// KV.Multiplex, and Replica.Exchange on both ends
// (docs/decisions/0063-hand-written-request-codecs.md). proto-loader's generic codecs
// turn every message into a protobufjs object and back (`fromObject`/`toObject`), parse
// 64-bit fields through `Long`, and allocate a default for every absent field; for a
// BatchPut of 100 items that was ~190 µs of CPU per call, ~5 µs for a Put.
//
// Each codec produces and accepts exactly the objects proto-loader would (the options
// in proto-package.ts: camelCase, longs as decimal strings, defaults, oneofs), so the
// handlers and the generated types stay as they are; test/protocol/message-codecs.test.ts
// checks both directions against protobufjs on random messages. A message the codec
// does not expect — a known field in another wire type, a malformed buffer, a response
// with parts it does not write (a Get with replica reports) — goes to proto-loader's
// codec instead, which decodes it or fails as before. Unknown fields are skipped, as
// protobuf requires.
//
// Repeated fields are counted as they are read: a decoder stops at the first item past
// the field's limit (BatchTooLargeError, docs/decisions/0102-bounded-decoding.md) and
// that error is never handed to proto-loader's codec, which would decode every item
// first. On a node's server the bounds scan (checked-service.ts) has already refused
// such a message; the counts here keep the codecs bounded wherever else they are used,
// and the one fallback outside a server (Exchange replies, exchangeClientCodecs) runs
// behind the same scan.
import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import {
  delimitedFieldBytes,
  FieldShapeError,
  ProtobufWireError,
  uint64Parts,
  uint64VarintBytes,
  varintBytes,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  WireReader,
  WireWriter,
  type Uint64Parts,
} from './protobuf-wire.js';
import type { PutRequest__Output } from './generated/quorumkv/v1/PutRequest.js';
import type { PutResponse } from './generated/quorumkv/v1/PutResponse.js';
import type { GetRequest, GetRequest__Output } from './generated/quorumkv/v1/GetRequest.js';
import type { GetResponse, GetResponse__Output } from './generated/quorumkv/v1/GetResponse.js';
import type { BatchPutRequest__Output } from './generated/quorumkv/v1/BatchPutRequest.js';
import type { PutItem__Output } from './generated/quorumkv/v1/PutItem.js';
import type { BatchPutResponse } from './generated/quorumkv/v1/BatchPutResponse.js';
import type { Version } from './generated/quorumkv/v1/Version.js';
import type { ItemError } from './generated/quorumkv/v1/ItemError.js';
import type { KvStreamRequest, KvStreamRequest__Output } from './generated/quorumkv/v1/KvStreamRequest.js';
import type { KvStreamReply, KvStreamReply__Output } from './generated/quorumkv/v1/KvStreamReply.js';
import type { PutRequest } from './generated/quorumkv/v1/PutRequest.js';
import type { BatchPutRequest } from './generated/quorumkv/v1/BatchPutRequest.js';
import type { PutResponse__Output } from './generated/quorumkv/v1/PutResponse.js';
import type { BatchPutResponse__Output } from './generated/quorumkv/v1/BatchPutResponse.js';
import type { PutResult__Output } from './generated/quorumkv/v1/PutResult.js';
import type { Version__Output } from './generated/quorumkv/v1/Version.js';
import type { ExchangeRequest, ExchangeRequest__Output } from './generated/quorumkv/v1/ExchangeRequest.js';
import type { ExchangeReply, ExchangeReply__Output } from './generated/quorumkv/v1/ExchangeReply.js';
import type { ApplyRequest__Output } from './generated/quorumkv/v1/ApplyRequest.js';
import type { ReadRequest__Output } from './generated/quorumkv/v1/ReadRequest.js';
import type { ReadResponse__Output } from './generated/quorumkv/v1/ReadResponse.js';
import { isQkvError } from '../errors/errors.js';
import { BATCH_ITEMS_MAX, REPLICA_BATCH_ITEMS_MAX } from '../limits.js';
import { checkWireBounds, tooManyItems } from './wire-bounds.js';
import { messageSchema } from './request-limits.js';
import { decodeKvStreamEnvelope } from './kv-stream-envelope.js';

type Decode<T> = (bytes: Buffer) => T;
type Encode<T> = (message: T) => Buffer;

/**
 * The fast decoder, or the generic one for anything it does not expect. A refusal with a
 * quorumkv code (an item count past its limit) is final: the generic decoder would read
 * the whole message before anything counted it.
 */
function withFallback<T>(fast: Decode<T>, generic: Decode<T>): Decode<T> {
  return (bytes) => {
    try {
      return fast(bytes);
    } catch (error) {
      if (isQkvError(error)) throw error;
      return generic(bytes);
    }
  };
}

/** A fast encoder that returns undefined for a message it does not write, which the generic one then encodes. */
function encodeWithFallback<T>(fast: (message: T) => Buffer | undefined, generic: Encode<T>): Encode<T> {
  return (message) => fast(message) ?? generic(message);
}

function expect(wireType: number, wanted: number): void {
  if (wireType !== wanted) throw new FieldShapeError(`wire type ${wireType}, expected ${wanted}`);
}

/**
 * A message with two different members of one oneof is not what a correct sender writes,
 * and protobufjs reads it its own way (it keeps both): such a message goes to protobufjs.
 */
function oneMemberOnly(seen: string | undefined, member: string): void {
  if (seen !== undefined && seen !== member) throw new FieldShapeError(`two members of a oneof (${seen}, ${member})`);
}

function emptyBuffer(): Buffer {
  // proto-loader hands out a fresh empty buffer for every absent bytes field.
  return Buffer.alloc(0);
}

// ---- decoders -----------------------------------------------------------------------

export function decodePutRequest(bytes: Buffer): PutRequest__Output {
  const reader = new WireReader(bytes);
  let key: Buffer | undefined;
  let value: Buffer | undefined;
  let w = 0;
  let ttlMs = '0';
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        key = reader.bytesView();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        value = reader.bytesView();
        break;
      case 3:
        expect(wireType, WIRE_VARINT);
        w = reader.uint32();
        break;
      case 4:
        expect(wireType, WIRE_VARINT);
        ttlMs = reader.uint64String();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { key: key ?? emptyBuffer(), value: value ?? emptyBuffer(), w, ttlMs };
}

export function decodeGetRequest(bytes: Buffer): GetRequest__Output {
  const reader = new WireReader(bytes);
  let key: Buffer | undefined;
  let r = 0;
  let includeReplicas = false;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        key = reader.bytesView();
        break;
      case 2:
        expect(wireType, WIRE_VARINT);
        r = reader.uint32();
        break;
      case 3:
        expect(wireType, WIRE_VARINT);
        includeReplicas = reader.bool();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { key: key ?? emptyBuffer(), r, includeReplicas };
}

function decodePutItem(bytes: Buffer): PutItem__Output {
  const reader = new WireReader(bytes);
  let key: Buffer | undefined;
  let value: Buffer | undefined;
  let ttlMs = '0';
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        key = reader.bytesView();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        value = reader.bytesView();
        break;
      case 3:
        expect(wireType, WIRE_VARINT);
        ttlMs = reader.uint64String();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { key: key ?? emptyBuffer(), value: value ?? emptyBuffer(), ttlMs };
}

export function decodeBatchPutRequest(bytes: Buffer): BatchPutRequest__Output {
  const reader = new WireReader(bytes);
  const items: PutItem__Output[] = [];
  let w = 0;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        if (items.length === BATCH_ITEMS_MAX) throw tooManyItems('quorumkv.v1.BatchPutRequest.items', BATCH_ITEMS_MAX);
        items.push(decodePutItem(reader.bytesView()));
        break;
      case 2:
        expect(wireType, WIRE_VARINT);
        w = reader.uint32();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { items, w };
}

function decodeApplyRequest(bytes: Buffer): ApplyRequest__Output {
  const reader = new WireReader(bytes);
  let batch: Buffer | undefined;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        batch = reader.bytesView();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { batch: batch ?? emptyBuffer() };
}

function decodeReadRequest(bytes: Buffer): ReadRequest__Output {
  const reader = new WireReader(bytes);
  const keys: Buffer[] = [];
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 1) {
      expect(wireType, WIRE_LENGTH_DELIMITED);
      if (keys.length === REPLICA_BATCH_ITEMS_MAX) throw tooManyItems('quorumkv.v1.ReadRequest.keys', REPLICA_BATCH_ITEMS_MAX);
      keys.push(reader.bytesView());
    } else reader.skip(wireType);
  }
  return { keys };
}

export function decodeExchangeRequest(bytes: Buffer): ExchangeRequest__Output {
  const reader = new WireReader(bytes);
  let id = 0;
  let apply: ApplyRequest__Output | undefined;
  let read: ReadRequest__Output | undefined;
  let body: 'apply' | 'read' | undefined;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        id = reader.uint32();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(body, 'apply');
        apply = decodeApplyRequest(reader.bytesView());
        body = 'apply';
        break;
      case 3:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(body, 'read');
        read = decodeReadRequest(reader.bytesView());
        body = 'read';
        break;
      default:
        reader.skip(wireType);
    }
  }
  // Only the member that is set appears, as in proto-loader's objects.
  if (body === 'apply') return { id, apply: apply!, body };
  if (body === 'read') return { id, read: read!, body };
  return { id };
}

function decodeApplyResponse(bytes: Buffer): { records: number } {
  const reader = new WireReader(bytes);
  let records = 0;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 1) {
      expect(wireType, WIRE_VARINT);
      records = reader.uint32();
    } else reader.skip(wireType);
  }
  return { records };
}

function decodeReadResponse(bytes: Buffer): ReadResponse__Output {
  const reader = new WireReader(bytes);
  const found: boolean[] = [];
  let batch: Buffer | undefined;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 2:
        if (wireType === WIRE_VARINT) {
          if (found.length === REPLICA_BATCH_ITEMS_MAX) throw tooManyItems('quorumkv.v1.ReadResponse.found', REPLICA_BATCH_ITEMS_MAX);
          found.push(reader.bool());
        } else {
          expect(wireType, WIRE_LENGTH_DELIMITED);
          // Packed, as proto3 writes repeated scalars.
          const packed = new WireReader(reader.bytesView());
          while (!packed.done) {
            if (found.length === REPLICA_BATCH_ITEMS_MAX) throw tooManyItems('quorumkv.v1.ReadResponse.found', REPLICA_BATCH_ITEMS_MAX);
            found.push(packed.bool());
          }
        }
        break;
      case 3:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        batch = reader.bytesView();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { found, batch: batch ?? emptyBuffer() };
}

function decodeExchangeError(bytes: Buffer): { code: string; message: string } {
  const reader = new WireReader(bytes);
  let code = '';
  let message = '';
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        code = reader.string();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        message = reader.string();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { code, message };
}

export function decodeExchangeReply(bytes: Buffer): ExchangeReply__Output {
  const reader = new WireReader(bytes);
  let id = 0;
  let reply: Omit<ExchangeReply__Output, 'id'> = {};
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        id = reader.uint32();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'apply');
        reply = { apply: decodeApplyResponse(reader.bytesView()), body: 'apply' };
        break;
      case 3:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'read');
        reply = { read: decodeReadResponse(reader.bytesView()), body: 'read' };
        break;
      case 4:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'error');
        reply = { error: decodeExchangeError(reader.bytesView()), body: 'error' };
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { id, ...reply };
}

// ---- the client's end of KV.Multiplex: replies --------------------------------------
// Nested messages are read in place (the reader's `end` moved to the nested message's
// end and back) rather than through a view of their bytes: a BatchPut reply of 100
// results holds 200 of them, and a view costs more than reading one.

/** Reads the length-delimited message at the reader's position with `decode`, in place. */
function inPlace<T>(reader: WireReader, decode: (reader: WireReader) => T): T {
  const length = reader.uint32();
  const end = reader.at + length;
  if (end > reader.end) throw new ProtobufWireError('truncated nested message');
  const outerEnd = reader.end;
  reader.end = end;
  const message = decode(reader);
  reader.end = outerEnd;
  return message;
}

function readVersion(reader: WireReader): Version__Output {
  let stamp = '0';
  let nodeId = '';
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        stamp = reader.uint64String();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        nodeId = reader.string();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { stamp, nodeId };
}

function readPutResponse(reader: WireReader): PutResponse__Output {
  let version: Version__Output | null = null;
  let acks = 0;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        // protobufjs merges a repeated message field; one is all a node writes.
        if (version !== null) throw new FieldShapeError('a second version');
        version = inPlace(reader, readVersion);
        break;
      case 2:
        expect(wireType, WIRE_VARINT);
        acks = reader.uint32();
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { version, acks };
}

function readPutResult(reader: WireReader): PutResult__Output {
  let ok = false;
  let version: Version__Output | null = null;
  let acks = 0;
  let error: PutResult__Output['error'] = null;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        ok = reader.bool();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        if (version !== null) throw new FieldShapeError('a second version');
        version = inPlace(reader, readVersion);
        break;
      case 3:
        expect(wireType, WIRE_VARINT);
        acks = reader.uint32();
        break;
      case 4:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        if (error !== null) throw new FieldShapeError('a second error');
        error = decodeExchangeError(reader.bytesView());
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { ok, version, acks, error };
}

function readBatchPutResponse(reader: WireReader): BatchPutResponse__Output {
  const results: PutResult__Output[] = [];
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        // A node answers one result per item of a request it accepted.
        if (results.length === BATCH_ITEMS_MAX) throw tooManyItems('quorumkv.v1.BatchPutResponse.results', BATCH_ITEMS_MAX);
        results.push(inPlace(reader, readPutResult));
        break;
      default:
        reader.skip(wireType);
    }
  }
  return { results };
}

/**
 * A GetResponse without `replicas`, as a get answers unless the caller asked for every
 * replica's view: a reply that lists replicas goes to proto-loader whole (the fast
 * decoder has no bound for them, and include_replicas is the rare call).
 */
function readGetResponse(reader: WireReader): GetResponse__Output {
  let found = false;
  let value: Buffer | undefined;
  let version: Version__Output | null = null;
  let acks = 0;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        found = reader.bool();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        // A view into the reply, as protobufjs gives; a repeated field's last one wins, as there.
        value = reader.bytesView();
        break;
      case 3:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        if (version !== null) throw new FieldShapeError('a second version');
        version = inPlace(reader, readVersion);
        break;
      case 4:
        expect(wireType, WIRE_VARINT);
        acks = reader.uint32();
        break;
      case 5:
        throw new FieldShapeError('a Get reply with replicas (decoded by proto-loader)');
      default:
        reader.skip(wireType);
    }
  }
  return { found, value: value ?? Buffer.alloc(0), version, acks, replicas: [] };
}

/**
 * A Multiplex reply with a Put, Get or BatchPut answer or an error, as the client
 * receives it; any other body goes to proto-loader's codec. Get replies were left to
 * proto-loader until a profile of the load generator under gets found that path (the
 * refusal's Error, protobufjs's decode and its Long stamps) at about a fifth of the
 * client's CPU (docs/decisions/0267-client-get-codecs-by-hand.md).
 */
export function decodeKvStreamReply(bytes: Buffer): KvStreamReply__Output {
  const reader = new WireReader(bytes);
  let id = 0;
  let reply: Omit<KvStreamReply__Output, 'id'> = {};
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expect(wireType, WIRE_VARINT);
        id = reader.uint32();
        break;
      case 2:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'put');
        reply = { put: inPlace(reader, readPutResponse), body: 'put' };
        break;
      case 5:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'batchPut');
        reply = { batchPut: inPlace(reader, readBatchPutResponse), body: 'batchPut' };
        break;
      case 7:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'error');
        reply = { error: decodeExchangeError(reader.bytesView()), body: 'error' };
        break;
      case 3:
        expect(wireType, WIRE_LENGTH_DELIMITED);
        oneMemberOnly(reply.body, 'get');
        reply = { get: inPlace(reader, readGetResponse), body: 'get' };
        break;
      case 4:
      case 6:
        throw new FieldShapeError('a Delete or BatchGet reply (decoded by proto-loader)');
      default:
        reader.skip(wireType);
    }
  }
  return { id, ...reply };
}

// ---- encoders -----------------------------------------------------------------------

/** A Version's fields with their sizes, computed once for sizing and writing. */
interface SizedVersion {
  readonly stamp: Uint64Parts;
  readonly nodeId: string;
  readonly nodeIdBytes: number;
  /** Payload bytes of the Version message. */
  readonly bytes: number;
}

function sizeVersion(version: Version): SizedVersion | undefined {
  const { stamp, nodeId } = version;
  if ((typeof stamp !== 'string' && typeof stamp !== 'bigint') || typeof nodeId !== 'string') return undefined;
  const parts = uint64Parts(stamp);
  const nodeIdBytes = Buffer.byteLength(nodeId, 'utf8');
  return { stamp: parts, nodeId, nodeIdBytes, bytes: 1 + uint64VarintBytes(parts) + delimitedFieldBytes(nodeIdBytes) };
}

function writeVersion(writer: WireWriter, field: number, version: SizedVersion): void {
  writer.tag(field, WIRE_LENGTH_DELIMITED);
  writer.uint32(version.bytes);
  writer.tag(1, WIRE_VARINT);
  writer.uint64(version.stamp);
  writer.tag(2, WIRE_LENGTH_DELIMITED);
  writer.stringField(version.nodeId, version.nodeIdBytes);
}

export function encodePutResponse(response: PutResponse): Buffer | undefined {
  const version = response.version ? sizeVersion(response.version) : undefined;
  if (response.version && version === undefined) return undefined;
  const acks = response.acks ?? 0;
  const size = (version ? delimitedFieldBytes(version.bytes) : 0) + (acks !== 0 ? 1 + varintBytes(acks) : 0);
  const writer = new WireWriter(size);
  if (version) writeVersion(writer, 1, version);
  if (acks !== 0) {
    writer.tag(2, WIRE_VARINT);
    writer.uint32(acks);
  }
  return writer.finish();
}

export function encodeGetResponse(response: GetResponse): Buffer | undefined {
  if (response.replicas !== undefined && response.replicas.length > 0) return undefined;
  const value = response.value;
  if (value !== undefined && !Buffer.isBuffer(value)) return undefined;
  const version = response.version ? sizeVersion(response.version) : undefined;
  if (response.version && version === undefined) return undefined;
  const found = response.found === true;
  const acks = response.acks ?? 0;
  const size =
    (found ? 2 : 0) +
    (value !== undefined && value.length > 0 ? delimitedFieldBytes(value.length) : 0) +
    (version ? delimitedFieldBytes(version.bytes) : 0) +
    (acks !== 0 ? 1 + varintBytes(acks) : 0);
  const writer = new WireWriter(size);
  if (found) {
    writer.tag(1, WIRE_VARINT);
    writer.uint32(1);
  }
  if (value !== undefined && value.length > 0) {
    writer.tag(2, WIRE_LENGTH_DELIMITED);
    writer.bytesField(value);
  }
  if (version) writeVersion(writer, 3, version);
  if (acks !== 0) {
    writer.tag(4, WIRE_VARINT);
    writer.uint32(acks);
  }
  return writer.finish();
}

interface SizedResult {
  readonly ok: boolean;
  readonly version: SizedVersion | undefined;
  readonly acks: number;
  readonly error: { code: string; codeBytes: number; message: string; messageBytes: number; bytes: number } | undefined;
  readonly bytes: number;
}

function sizeError(error: ItemError): SizedResult['error'] {
  const code = error.code ?? '';
  const message = error.message ?? '';
  const codeBytes = Buffer.byteLength(code, 'utf8');
  const messageBytes = Buffer.byteLength(message, 'utf8');
  return { code, codeBytes, message, messageBytes, bytes: delimitedFieldBytes(codeBytes) + delimitedFieldBytes(messageBytes) };
}

export function encodeBatchPutResponse(response: BatchPutResponse): Buffer | undefined {
  const sized: SizedResult[] = [];
  let size = 0;
  for (const result of response.results ?? []) {
    const version = result.version ? sizeVersion(result.version) : undefined;
    if (result.version && version === undefined) return undefined;
    const error = result.error ? sizeError(result.error) : undefined;
    const acks = result.acks ?? 0;
    const ok = result.ok === true;
    const bytes =
      (ok ? 2 : 0) +
      (version ? delimitedFieldBytes(version.bytes) : 0) +
      (acks !== 0 ? 1 + varintBytes(acks) : 0) +
      (error ? delimitedFieldBytes(error.bytes) : 0);
    sized.push({ ok, version, acks, error, bytes });
    size += delimitedFieldBytes(bytes);
  }
  const writer = new WireWriter(size);
  for (const result of sized) {
    writer.tag(1, WIRE_LENGTH_DELIMITED);
    writer.uint32(result.bytes);
    if (result.ok) {
      writer.tag(1, WIRE_VARINT);
      writer.uint32(1);
    }
    if (result.version) writeVersion(writer, 2, result.version);
    if (result.acks !== 0) {
      writer.tag(3, WIRE_VARINT);
      writer.uint32(result.acks);
    }
    if (result.error) {
      writer.tag(4, WIRE_LENGTH_DELIMITED);
      writer.uint32(result.error.bytes);
      writer.tag(1, WIRE_LENGTH_DELIMITED);
      writer.stringField(result.error.code, result.error.codeBytes);
      writer.tag(2, WIRE_LENGTH_DELIMITED);
      writer.stringField(result.error.message, result.error.messageBytes);
    }
  }
  return writer.finish();
}

export function encodeExchangeRequest(request: ExchangeRequest): Buffer | undefined {
  const id = request.id ?? 0;
  const idBytes = id !== 0 ? 1 + varintBytes(id) : 0;
  if (request.apply) {
    const batch = request.apply.batch;
    if (batch !== undefined && !Buffer.isBuffer(batch)) return undefined;
    const applyBytes = batch !== undefined && batch.length > 0 ? delimitedFieldBytes(batch.length) : 0;
    const writer = new WireWriter(idBytes + delimitedFieldBytes(applyBytes));
    if (id !== 0) {
      writer.tag(1, WIRE_VARINT);
      writer.uint32(id);
    }
    writer.tag(2, WIRE_LENGTH_DELIMITED);
    writer.uint32(applyBytes);
    if (applyBytes > 0) {
      writer.tag(2, WIRE_LENGTH_DELIMITED);
      writer.bytesField(batch!);
    }
    return writer.finish();
  }
  if (request.read) {
    const keys = request.read.keys ?? [];
    let readBytes = 0;
    for (const key of keys) {
      if (!Buffer.isBuffer(key)) return undefined;
      readBytes += delimitedFieldBytes(key.length);
    }
    const writer = new WireWriter(idBytes + delimitedFieldBytes(readBytes));
    if (id !== 0) {
      writer.tag(1, WIRE_VARINT);
      writer.uint32(id);
    }
    writer.tag(3, WIRE_LENGTH_DELIMITED);
    writer.uint32(readBytes);
    for (const key of keys) {
      writer.tag(1, WIRE_LENGTH_DELIMITED);
      writer.bytesField(key as Buffer);
    }
    return writer.finish();
  }
  return undefined;
}

export function encodeExchangeReply(reply: ExchangeReply): Buffer | undefined {
  const id = reply.id ?? 0;
  const idBytes = id !== 0 ? 1 + varintBytes(id) : 0;
  const writeId = (writer: WireWriter): void => {
    if (id === 0) return;
    writer.tag(1, WIRE_VARINT);
    writer.uint32(id);
  };
  if (reply.apply) {
    const records = reply.apply.records ?? 0;
    const applyBytes = records !== 0 ? 1 + varintBytes(records) : 0;
    const writer = new WireWriter(idBytes + delimitedFieldBytes(applyBytes));
    writeId(writer);
    writer.tag(2, WIRE_LENGTH_DELIMITED);
    writer.uint32(applyBytes);
    if (records !== 0) {
      writer.tag(1, WIRE_VARINT);
      writer.uint32(records);
    }
    return writer.finish();
  }
  if (reply.read) {
    const { found = [], batch } = reply.read;
    if (batch !== undefined && !Buffer.isBuffer(batch)) return undefined;
    const foundBytes = found.length > 0 ? delimitedFieldBytes(found.length) : 0;
    const batchBytes = batch !== undefined && batch.length > 0 ? delimitedFieldBytes(batch.length) : 0;
    const readBytes = foundBytes + batchBytes;
    const writer = new WireWriter(idBytes + delimitedFieldBytes(readBytes));
    writeId(writer);
    writer.tag(3, WIRE_LENGTH_DELIMITED);
    writer.uint32(readBytes);
    if (found.length > 0) {
      writer.tag(2, WIRE_LENGTH_DELIMITED);
      writer.uint32(found.length);
      for (const flag of found) writer.uint32(flag ? 1 : 0);
    }
    if (batchBytes > 0) {
      writer.tag(3, WIRE_LENGTH_DELIMITED);
      writer.bytesField(batch!);
    }
    return writer.finish();
  }
  if (reply.error) {
    const error = sizeError(reply.error)!;
    const writer = new WireWriter(idBytes + delimitedFieldBytes(error.bytes));
    writeId(writer);
    writer.tag(4, WIRE_LENGTH_DELIMITED);
    writer.uint32(error.bytes);
    writer.tag(1, WIRE_LENGTH_DELIMITED);
    writer.stringField(error.code, error.codeBytes);
    writer.tag(2, WIRE_LENGTH_DELIMITED);
    writer.stringField(error.message, error.messageBytes);
    return writer.finish();
  }
  return undefined;
}

// ---- service definitions ------------------------------------------------------------

type AnyMethod = MethodDefinition<object, object, object, object>;

/**
 * The KV service's definition with the hand-written codecs on the server's side of Put,
 * Get and BatchPut (request decoding, response encoding); other methods unchanged.
 */
/**
 * A Multiplex reply with a Put, Get or BatchPut answer, written by their own encoders
 * inside the reply; undefined (proto-loader's codec) for any other.
 */
export function encodeKvStreamReply(reply: KvStreamReply): Buffer | undefined {
  let field: number;
  let inner: Buffer | undefined;
  if (reply.put) {
    field = 2;
    inner = encodePutResponse(reply.put);
  } else if (reply.get) {
    field = 3;
    inner = encodeGetResponse(reply.get);
  } else if (reply.batchPut) {
    field = 5;
    inner = encodeBatchPutResponse(reply.batchPut);
  } else {
    return undefined;
  }
  if (inner === undefined) return undefined;
  const id = reply.id ?? 0;
  const writer = new WireWriter((id !== 0 ? 1 + varintBytes(id) : 0) + delimitedFieldBytes(inner.length));
  if (id !== 0) {
    writer.tag(1, WIRE_VARINT);
    writer.uint32(id);
  }
  writer.tag(field, WIRE_LENGTH_DELIMITED);
  writer.bytesField(inner);
  return writer.finish();
}

/** A Put or a BatchPut item as the client writes them: Buffers and a decimal ttl. */
interface SizedPut {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly ttlMs: Uint64Parts;
  readonly bytes: number;
}

function sizePut(key: unknown, value: unknown, ttlMs: unknown, extraBytes: number): SizedPut | undefined {
  if (!Buffer.isBuffer(key) || !Buffer.isBuffer(value)) return undefined;
  if (ttlMs !== undefined && typeof ttlMs !== 'string' && typeof ttlMs !== 'bigint') return undefined;
  const ttl = ttlMs === undefined ? { low: 0, high: 0 } : uint64Parts(ttlMs);
  const ttlBytes = ttl.low === 0 && ttl.high === 0 ? 0 : 1 + uint64VarintBytes(ttl);
  const bytes = (key.length > 0 ? delimitedFieldBytes(key.length) : 0) + (value.length > 0 ? delimitedFieldBytes(value.length) : 0) + ttlBytes + extraBytes;
  return { key, value, ttlMs: ttl, bytes };
}

function writePut(writer: WireWriter, put: SizedPut, ttlField: number): void {
  if (put.key.length > 0) {
    writer.tag(1, WIRE_LENGTH_DELIMITED);
    writer.bytesField(put.key);
  }
  if (put.value.length > 0) {
    writer.tag(2, WIRE_LENGTH_DELIMITED);
    writer.bytesField(put.value);
  }
  if (put.ttlMs.low !== 0 || put.ttlMs.high !== 0) {
    writer.tag(ttlField, WIRE_VARINT);
    writer.uint64(put.ttlMs);
  }
}

/**
 * A Multiplex request with a Put, Get or BatchPut body as the client sends it (keys and
 * values as Buffers, ttls as decimal strings, QuorumKvClient's shapes); undefined
 * (proto-loader's codec) for any other.
 */
export function encodeKvStreamRequest(request: KvStreamRequest): Buffer | undefined {
  const id = request.id ?? 0;
  const timeoutMs = request.timeoutMs ?? 0;
  const head = (id !== 0 ? 1 + varintBytes(id) : 0) + (timeoutMs !== 0 ? 1 + varintBytes(timeoutMs) : 0);
  let field: number;
  let inner: number;
  let write: (writer: WireWriter) => void;
  if (request.put && !request.batchPut && request.get === undefined && request.delete === undefined && request.batchGet === undefined) {
    const { key, value, w, ttlMs } = request.put as PutRequest;
    const wValue = w ?? 0;
    const put = sizePut(key, value, ttlMs, wValue !== 0 ? 1 + varintBytes(wValue) : 0);
    if (put === undefined) return undefined;
    field = 3;
    inner = put.bytes;
    write = (writer) => {
      writePut(writer, { ...put, ttlMs: { low: 0, high: 0 } }, 4);
      if (wValue !== 0) {
        writer.tag(3, WIRE_VARINT);
        writer.uint32(wValue);
      }
      if (put.ttlMs.low !== 0 || put.ttlMs.high !== 0) {
        writer.tag(4, WIRE_VARINT);
        writer.uint64(put.ttlMs);
      }
    };
  } else if (request.batchPut && !request.put && request.get === undefined && request.delete === undefined && request.batchGet === undefined) {
    const { items, w } = request.batchPut as BatchPutRequest;
    const sized: SizedPut[] = [];
    inner = 0;
    for (const item of items ?? []) {
      const put = sizePut(item.key, item.value, item.ttlMs, 0);
      if (put === undefined) return undefined;
      sized.push(put);
      inner += delimitedFieldBytes(put.bytes);
    }
    const wValue = w ?? 0;
    if (wValue !== 0) inner += 1 + varintBytes(wValue);
    field = 6;
    write = (writer) => {
      for (const put of sized) {
        writer.tag(1, WIRE_LENGTH_DELIMITED);
        writer.uint32(put.bytes);
        writePut(writer, put, 3);
      }
      if (wValue !== 0) {
        writer.tag(2, WIRE_VARINT);
        writer.uint32(wValue);
      }
    };
  } else if (request.get && request.put === undefined && request.batchPut === undefined && request.delete === undefined && request.batchGet === undefined) {
    const { key, r, includeReplicas } = request.get as GetRequest;
    // Anything but the shapes the client sends (a Buffer key, an integer r) goes to proto-loader.
    if (!Buffer.isBuffer(key)) return undefined;
    const rValue = r ?? 0;
    if (typeof rValue !== 'number' || !Number.isInteger(rValue) || rValue < 0 || rValue > 0xffffffff) return undefined;
    if (includeReplicas !== undefined && typeof includeReplicas !== 'boolean') return undefined;
    const all = includeReplicas === true;
    field = 4;
    inner = (key.length > 0 ? delimitedFieldBytes(key.length) : 0) + (rValue !== 0 ? 1 + varintBytes(rValue) : 0) + (all ? 2 : 0);
    write = (writer) => {
      if (key.length > 0) {
        writer.tag(1, WIRE_LENGTH_DELIMITED);
        writer.bytesField(key);
      }
      if (rValue !== 0) {
        writer.tag(2, WIRE_VARINT);
        writer.uint32(rValue);
      }
      if (all) {
        writer.tag(3, WIRE_VARINT);
        writer.uint32(1);
      }
    };
  } else {
    return undefined;
  }
  const writer = new WireWriter(head + delimitedFieldBytes(inner));
  if (id !== 0) {
    writer.tag(1, WIRE_VARINT);
    writer.uint32(id);
  }
  if (timeoutMs !== 0) {
    writer.tag(2, WIRE_VARINT);
    writer.uint32(timeoutMs);
  }
  writer.tag(field, WIRE_LENGTH_DELIMITED);
  writer.uint32(inner);
  write(writer);
  return writer.finish();
}

export function kvServiceWithFastCodecs(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const method = (name: string): AnyMethod => service[name] as unknown as AnyMethod;
  const put = method('Put');
  const get = method('Get');
  const batchPut = method('BatchPut');
  const multiplex = method('Multiplex');
  return {
    ...service,
    Multiplex: {
      ...multiplex,
      // Only the envelope: each body is decoded by its unary method's deserializer once the
      // caller's role for that method is checked (kv-stream-envelope.ts).
      requestDeserialize: decodeKvStreamEnvelope,
      responseSerialize: encodeWithFallback(encodeKvStreamReply, multiplex.responseSerialize),
    },
    Put: {
      ...put,
      requestDeserialize: withFallback(decodePutRequest, put.requestDeserialize),
      responseSerialize: encodeWithFallback(encodePutResponse, put.responseSerialize),
    },
    Get: {
      ...get,
      requestDeserialize: withFallback(decodeGetRequest, get.requestDeserialize),
      responseSerialize: encodeWithFallback(encodeGetResponse, get.responseSerialize),
    },
    BatchPut: {
      ...batchPut,
      requestDeserialize: withFallback(decodeBatchPutRequest, batchPut.requestDeserialize),
      responseSerialize: encodeWithFallback(encodeBatchPutResponse, batchPut.responseSerialize),
    },
  } as grpc.ServiceDefinition;
}

/** The Replica service's definition with the hand-written codecs on Exchange (the serving side). */
export function replicaServiceWithFastCodecs(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const exchange = service['Exchange'] as unknown as AnyMethod;
  return {
    ...service,
    Exchange: {
      ...exchange,
      requestDeserialize: withFallback(decodeExchangeRequest, exchange.requestDeserialize),
      responseSerialize: encodeWithFallback(encodeExchangeReply, exchange.responseSerialize),
    },
  } as grpc.ServiceDefinition;
}

/**
 * The sending side of Exchange: request encoding and reply decoding, with the same
 * fallbacks. A reply the fast decoder leaves to proto-loader (a known field in another
 * wire type, two members of its oneof) passes the bounds scan first: no server-side
 * wrapper guards a client's decoding, and a peer's reply is as much input from the
 * network as a request.
 */
export function exchangeClientCodecs(service: grpc.ServiceDefinition): {
  readonly path: string;
  readonly serialize: Encode<ExchangeRequest>;
  readonly deserialize: Decode<ExchangeReply__Output>;
} {
  const exchange = service['Exchange'] as unknown as MethodDefinition<ExchangeRequest, ExchangeReply, ExchangeRequest__Output, ExchangeReply__Output>;
  const replySchema = messageSchema('quorumkv.v1.ExchangeReply');
  const boundedGeneric: Decode<ExchangeReply__Output> = (bytes) => {
    checkWireBounds(bytes, replySchema);
    return exchange.responseDeserialize(bytes);
  };
  return {
    path: exchange.path,
    serialize: encodeWithFallback(encodeExchangeRequest, exchange.requestSerialize),
    deserialize: withFallback(decodeExchangeReply, boundedGeneric),
  };
}

/**
 * The client's end of KV.Multiplex: Put, Get and BatchPut requests encoded and their
 * replies decoded by hand (a Get reply listing replicas excepted), everything else by
 * proto-loader, as the client did before it had these
 * codecs (the bounds scan has no item limits for replies such as GetResponse.replicas,
 * so replies left to proto-loader are decoded as they always were; the fast decoder
 * stops a BatchPut reply at BATCH_ITEMS_MAX results).
 */
export function kvStreamClientCodecs(service: grpc.ServiceDefinition): {
  readonly path: string;
  readonly serialize: Encode<KvStreamRequest>;
  readonly deserialize: Decode<KvStreamReply__Output>;
} {
  const multiplex = service['Multiplex'] as unknown as MethodDefinition<KvStreamRequest, KvStreamReply, KvStreamRequest__Output, KvStreamReply__Output>;
  return {
    path: multiplex.path,
    serialize: encodeWithFallback(encodeKvStreamRequest, multiplex.requestSerialize),
    deserialize: withFallback(decodeKvStreamReply, multiplex.responseDeserialize),
  };
}
