// Adds a gRPC service whose requests failed to parse answer INVALID_ARGUMENT with the
// stable code, like every other bad input. grpc-js answers a request it cannot
// deserialize (truncated or garbage bytes, a wrong wire type, nesting too deep) with a
// bare INTERNAL and no `qkv-error-code`, which says "bug in the node" about what is the
// sender's mistake. Here the deserializer of every method is wrapped: a failure becomes a
// MalformedMessage value. A unary method's handler is not called for it; a bidirectional
// stream's handler receives it as a message and must end the stream with its error
// (replica-service.ts serveExchange).
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors/errors.js';
import { serviceErrorOf } from './error-status.js';

/** What a wrapped deserializer returns instead of throwing. */
export class MalformedMessage {
  readonly error: InvalidArgumentError;
  constructor(path: string, reason: string) {
    this.error = new InvalidArgumentError(`${path}: the request is not a valid protobuf message (${reason})`);
  }
}

export function addCheckedService(server: grpc.Server, definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
  const checkedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const checkedHandlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const bidi = method.requestStream && method.responseStream;
    // Client-only or server-only streams would need their own wrapping here; quorumkv has none.
    if (method.requestStream !== method.responseStream) throw new Error(`${method.path} streams one way only`);
    const handler = handlers[name];
    if (handler === undefined) throw new Error(`no handler for ${method.path}`);
    checkedDefinition[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedMessage(method.path, error instanceof Error ? error.message : String(error));
        }
      },
    };
    if (bidi) {
      checkedHandlers[name] = handler;
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
