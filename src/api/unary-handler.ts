// One wrapper for every unary handler of the public services. It turns a handler that
// returns a promise into grpc-js's callback form and guarantees the three things every
// call needs: a thrown or rejected error becomes exactly one gRPC status with the
// stable code in the trailing metadata (src/protocol/error-status.ts); an error that is not
// a QkvError (a bug) is logged with its stack and reaches the client only as INTERNAL;
// and the call is counted in `qkv_api_requests_total{method,code}`.
import * as grpc from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import { isQkvError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { serviceErrorOf, statusName } from '../protocol/error-status.js';

export interface ApiContext {
  readonly logger: Logger;
  readonly requests: Counter<'method' | 'code'>;
}

export function createApiContext(logger: Logger, registry: Registry): ApiContext {
  const requests = new Counter({
    name: 'qkv_api_requests_total',
    help: 'Public gRPC calls by method and resulting gRPC status.',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  return { logger, requests };
}

/** Absolute deadline of the call in Date.now() ms, or undefined when the client set none. */
export function deadlineMsOf(call: { getDeadline(): grpc.Deadline }): number | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

export function unary<Request, Response>(
  context: ApiContext,
  method: string,
  run: (request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    let pending: Promise<Response>;
    try {
      pending = run(call.request, call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => {
        context.requests.inc({ method, code: 'OK' });
        callback(null, response);
      },
      (error: unknown) => {
        const status = serviceErrorOf(error);
        context.requests.inc({ method, code: statusName(status.code) });
        if (!isQkvError(error)) context.logger.error({ err: error, method }, 'request failed with an unexpected error');
        callback(status);
      },
    );
  };
}
