// Holds each request on a KV.Multiplex stream to its unary call's byte limit
// (request-limits.ts), before anything decodes it: a Get on the stream may be no larger
// than a unary Get, a Put no larger than a unary Put. The stream's own limit is the
// largest of them (a BatchPut); without this walk a 16 MiB Get would pass on the stream
// where the unary call refuses it. The walk reads only the top-level tags and lengths of
// a message the bounds scan (wire-bounds.ts) has already accepted.
import { InvalidArgumentError } from '../errors/errors.js';
import { WIRE_LENGTH_DELIMITED, WireReader } from './protobuf-wire.js';

/** KvStreamRequest's body fields (kv.proto) and the unary method each stands for. */
export const KV_STREAM_BODY_METHODS: ReadonlyMap<number, string> = new Map([
  [3, '/quorumkv.v1.KV/Put'],
  [4, '/quorumkv.v1.KV/Get'],
  [5, '/quorumkv.v1.KV/Delete'],
  [6, '/quorumkv.v1.KV/BatchPut'],
  [7, '/quorumkv.v1.KV/BatchGet'],
]);

/** Throws INVALID_ARGUMENT for a body larger than its unary method's limit. */
export function checkKvStreamBodyBytes(bytes: Buffer, bytesMaxOf: (method: string) => number): void {
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const method = KV_STREAM_BODY_METHODS.get(tag >>> 3);
    if (method === undefined || wireType !== WIRE_LENGTH_DELIMITED) {
      reader.skip(wireType);
      continue;
    }
    const length = reader.uint32();
    const bytesMax = bytesMaxOf(method);
    // The body alone is measured; the unary limit is for a whole request of that method.
    if (length > bytesMax) throw new InvalidArgumentError(`${method} on the Multiplex stream: the request is ${length} bytes; the limit of this method is ${bytesMax}`);
    reader.advance(length);
  }
}
