// Adds a gRPC service whose every request is bounded before it is decoded and whose
// requests that cannot be decoded answer INVALID_ARGUMENT with the stable code, like
// every other bad input. Here the deserializer of every method is wrapped:
//
// - A request larger than its method's limit (request-limits.ts) is refused before any
//   decoder reads it. grpc-js has one receive limit for the whole server
//   (GRPC_MESSAGE_BYTES_MAX, checked against the length prefix before a message is
//   buffered); the per-method limit is checked once the message has arrived, so it
//   bounds the decoding, not the receiving (docs/decisions/0102-bounded-decoding.md).
// - The bounds scan (wire-bounds.ts) walks the bytes without allocating and stops at the
//   first item of a repeated field past its limit (BATCH_TOO_LARGE), so neither the
//   hand-written codecs nor protobufjs ever sees an unbounded message.
// - grpc-js answers a request it cannot deserialize (truncated or garbage bytes, a wrong
//   wire type, nesting too deep) with a bare INTERNAL and no `qkv-error-code`, which says
//   "bug in the node" about what is the sender's mistake (docs/decisions/0039).
//
// Each refusal becomes a MalformedMessage value. A unary or server-streaming method's
// handler is not called for it; a bidirectional stream's handler receives it as a message and must end the
// stream with its error (replica-service.ts serveExchange).
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError, isQkvError, type QkvError } from '../errors/errors.js';
import { serviceErrorOf } from './error-status.js';
import { requestLimits } from './request-limits.js';
import { checkWireBounds } from './wire-bounds.js';
import { WIRE_VARINT, WireReader } from './protobuf-wire.js';

/** What a wrapped deserializer returns instead of throwing. */
export class MalformedMessage {
  /** `id`: the request's id where the stream answers refusals by id (request-limits.ts refusalsById). */
  constructor(
    readonly error: QkvError,
    readonly id?: number,
  ) {}

  /** A request that failed to parse, with the parser's reason. */
  static unparsable(path: string, reason: string): MalformedMessage {
    return new MalformedMessage(new InvalidArgumentError(`${path}: the request is not a valid protobuf message (${reason})`));
  }
}

/**
 * The method's deserializer behind its byte limit and the bounds scan, returning a
 * MalformedMessage for whatever it refuses or fails to parse.
 */
export function checkedDeserializer(method: grpc.MethodDefinition<unknown, unknown>): (bytes: Buffer) => unknown {
  const { bytesMax, schema, envelopeOnly, refusalsById } = requestLimits(method.path);
  const refused = (bytes: Buffer, error: QkvError): MalformedMessage => new MalformedMessage(error, refusalsById === true ? leadingId(bytes) : undefined);
  return (bytes: Buffer): unknown => {
    if (bytes.length > bytesMax) {
      return refused(bytes, new InvalidArgumentError(`${method.path}: the request is ${bytes.length} bytes; the limit of this method is ${bytesMax}`));
    }
    try {
      // An envelope's reader walks only its top-level fields and decodes no body; the
      // body is scanned and decoded later, after the caller's role (request-limits.ts).
      if (envelopeOnly !== true) checkWireBounds(bytes, schema);
      return method.requestDeserialize(bytes);
    } catch (error) {
      if (isQkvError(error)) return refused(bytes, error);
      return refused(bytes, MalformedMessage.unparsable(method.path, error instanceof Error ? error.message : String(error)).error);
    }
  };
}

/**
 * The varint in field 1 when it is the message's first field (as every encoder writes
 * it), or undefined: a refused message may be garbage, so nothing past that is trusted.
 */
function leadingId(bytes: Buffer): number | undefined {
  try {
    const reader = new WireReader(bytes);
    if (reader.done || reader.uint32() !== ((1 << 3) | WIRE_VARINT)) return undefined;
    return reader.uint32();
  } catch {
    return undefined;
  }
}

export function addCheckedService(server: grpc.Server, definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
  const checkedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const checkedHandlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const bidi = method.requestStream && method.responseStream;
    // Client-only streams would need their own wrapping here; quorumkv has none.
    if (method.requestStream && !method.responseStream) throw new Error(`${method.path} streams requests only`);
    const handler = handlers[name];
    if (handler === undefined) throw new Error(`no handler for ${method.path}`);
    checkedDefinition[name] = { ...method, requestDeserialize: checkedDeserializer(method) };
    if (bidi) {
      checkedHandlers[name] = handler;
      continue;
    }
    if (method.responseStream) {
      // Server streaming (Admin.Backup, Admin.Restore): one request, refused like a unary one.
      const streaming = handler as grpc.handleServerStreamingCall<unknown, unknown>;
      checkedHandlers[name] = (call: grpc.ServerWritableStream<unknown, unknown>): void => {
        if (call.request instanceof MalformedMessage) {
          call.emit('error', serviceErrorOf(call.request.error));
          return;
        }
        streaming(call);
      };
      continue;
    }
    const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
    checkedHandlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      if (call.request instanceof MalformedMessage) {
        callback(serviceErrorOf(call.request.error));
        return;
      }
      unary(call, callback);
    };
  }
  server.addService(checkedDefinition, checkedHandlers);
}
