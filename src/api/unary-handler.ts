// One wrapper for every unary handler of the public services. It turns a handler that
// returns a promise into grpc-js's callback form and guarantees the three things every
// call needs: a thrown or rejected error becomes exactly one gRPC status with the
// stable code in the trailing metadata (src/protocol/error-status.ts); an error that is not
// a QkvError (a bug) is logged with its stack and reaches the client only as INTERNAL;
// and the call is counted in `qkv_api_requests_total{method,code}`.
import * as grpc from '@grpc/grpc-js';
import { isQkvError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { serviceErrorOf, statusName } from '../protocol/error-status.js';

/**
 * Public calls by method and resulting gRPC status (`qkv_api_requests_total`, made by
 * src/metrics/api-prometheus.ts). A child is one (method, code) pair; a caller may keep
 * it, so that counting a call looks nothing up.
 */
export interface ApiRequestCounter {
  child(method: string, code: string): { inc(): void };
}

export interface ApiContext {
  readonly logger: Logger;
  readonly requests: ApiRequestCounter;
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
  // Nearly every call ends OK: its counter child is found once, here, not per call.
  const succeeded = context.requests.child(method, 'OK');
  return (call, callback) => {
    let pending: Promise<Response>;
    try {
      pending = run(call.request, call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => {
        succeeded.inc();
        callback(null, response);
      },
      (error: unknown) => {
        const status = serviceErrorOf(error);
        context.requests.child(method, statusName(status.code)).inc();
        if (!isQkvError(error)) context.logger.error({ err: error, method }, 'request failed with an unexpected error');
        callback(status);
      },
    );
  };
}
