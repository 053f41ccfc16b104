// Adds a unary gRPC service whose requests failed to parse answer INVALID_ARGUMENT with
// the stable code, like every other bad input. grpc-js answers a request it cannot
// deserialize (truncated or garbage bytes, a wrong wire type, nesting too deep) with a
// bare INTERNAL and no `qkv-error-code`, which says "bug in the node" about what is the
// sender's mistake. Here the deserializer of every method is wrapped: a failure becomes a
// MalformedRequest value, and the method's handler is not called for it.
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors/errors.js';
import { serviceErrorOf } from './error-status.js';

/** What a wrapped deserializer returns instead of throwing. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

export function addCheckedService(server: grpc.Server, definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
  const checkedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const checkedHandlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    // Every quorumkv method is unary; a streaming one would need its own wrapping here.
    if (method.requestStream || method.responseStream) throw new Error(`${method.path} is a streaming method`);
    const handler = handlers[name] as grpc.handleUnaryCall<unknown, unknown> | undefined;
    if (handler === undefined) throw new Error(`no handler for ${method.path}`);
    checkedDefinition[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedRequest(error instanceof Error ? error.message : String(error));
        }
      },
    };
    checkedHandlers[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      if (call.request instanceof MalformedRequest) {
        callback(serviceErrorOf(new InvalidArgumentError(`${method.path}: the request is not a valid protobuf message (${call.request.reason})`)));
        return;
      }
      handler(call, callback);
    };
  }
  server.addService(checkedDefinition, checkedHandlers);
}
