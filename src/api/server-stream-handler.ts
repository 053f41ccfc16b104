// The wrapper for the public services' server-streaming handlers (Admin.Backup and
// Admin.Restore), the streaming twin of unary-handler.ts: the handler gets the request
// and a `send` for progress messages; a thrown or rejected error ends the stream with
// exactly one gRPC status carrying the stable code, an error that is not a QkvError is
// logged and reaches the client as INTERNAL, and the call is counted. A caller that goes
// away aborts the handler's signal, so long work stops instead of running for no one.
import type * as grpc from '@grpc/grpc-js';
import { isQkvError } from '../errors/errors.js';
import { serviceErrorOf, statusName } from '../protocol/error-status.js';
import type { ApiContext } from './unary-handler.js';

export function serverStream<Request, Response>(
  context: ApiContext,
  method: string,
  run: (request: Request, send: (message: Response) => void, signal: AbortSignal) => Promise<void>,
): grpc.handleServerStreamingCall<Request, Response> {
  return (call) => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort(new Error('the caller cancelled the call')));
    let pending: Promise<void>;
    try {
      pending = run(call.request, (message) => call.write(message), abort.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      () => {
        context.requests.child(method, 'OK').inc();
        call.end();
      },
      (error: unknown) => {
        const status = serviceErrorOf(error);
        context.requests.child(method, statusName(status.code)).inc();
        if (!isQkvError(error) && !abort.signal.aborted) context.logger.error({ err: error, method }, 'request failed with an unexpected error');
        call.emit('error', status);
      },
    );
  };
}
