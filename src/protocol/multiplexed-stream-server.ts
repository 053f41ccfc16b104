// The server side of a bidirectional stream that carries many numbered requests at once
// and answers each with its number, in the order they finish: Replica.Exchange between
// members (docs/decisions/0062-replica-exchange-stream.md) and KV.Multiplex for clients
// (docs/decisions/0170-multiplexed-kv-stream.md). What the two share lives here once:
//
// - Every request starts when it arrives; its reply goes out when it finishes.
// - At most `requestsMax` requests run at once on one stream; more are answered
//   OVERLOADED at once (the stream goes on). A request counts as running until its
//   reply has left for the sender (grpc-js calls back when HTTP/2 took it under the
//   sender's flow-control window), so a sender that stops reading its replies gets
//   OVERLOADED instead of making the node buffer every answer it asks for.
// - Refusals (OVERLOADED, SHUTTING_DOWN) wait to be read too; past `requestsMax` unsent
//   ones a request gets no answer at all and its sender gives up at its own deadline.
// - A draining node answers new requests with SHUTTING_DOWN and ends each stream once its
//   running requests have answered (at once when none runs), so grpc's tryShutdown, which
//   waits for every open call, can finish.
// - A message refused before decoding (checked-service.ts MalformedMessage) is answered
//   under its id where the stream's limits name one (KV.Multiplex); one with no id to
//   answer ends the stream with its error status, and the sender fails what it has
//   waiting on the stream.
// - Nothing a sender does may throw outside a request's promise: every failure becomes
//   one error reply; one that is not a QkvError (a bug) is logged and answered INTERNAL.
import type * as grpc from '@grpc/grpc-js';
import { OverloadedError, QkvError, ShuttingDownError, isQkvError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { serviceErrorOf } from './error-status.js';
import { MalformedMessage } from './checked-service.js';

/** What one served stream must do when the node drains. */
interface ServedStream {
  drain(): void;
}

/** The open streams of one service, so that a draining node can end them. */
export class ServedStreams {
  private readonly open = new Set<ServedStream>();
  private isDraining = false;

  get draining(): boolean {
    return this.isDraining;
  }

  /** Streams not ended yet. */
  get size(): number {
    return this.open.size;
  }

  add(stream: ServedStream): void {
    this.open.add(stream);
  }

  delete(stream: ServedStream): void {
    this.open.delete(stream);
  }

  /**
   * From now on every stream answers new requests with SHUTTING_DOWN and ends as soon
   * as its running requests have answered.
   */
  drain(): void {
    this.isDraining = true;
    for (const stream of [...this.open]) stream.drain();
  }
}

export interface MultiplexedStreamOptions<Request extends { id: number }, Reply> {
  /** The method, for the log line of a bug. */
  readonly method: string;
  /** The log line of a bug (a request that failed with something not a QkvError). */
  readonly failureLogMessage: string;
  readonly logger: Logger;
  /** Requests that may run at once on this stream. */
  readonly requestsMax: number;
  readonly streams?: ServedStreams | undefined;
  /** Runs one request and resolves with its reply; a rejection becomes an error reply. */
  readonly serve: (request: Request) => Promise<Reply>;
  /** The reply that carries `error` (with its stable code) for request `id`. */
  readonly errorReply: (id: number, error: QkvError) => Reply;
  /** Called for every request that arrives, before it runs or is refused. */
  readonly onRequest?: () => void;
  /** What a request limit refusal is called in OVERLOADED's message. */
  readonly requestsName: string;
}

export function serveMultiplexedStream<Request extends { id: number }, Reply>(
  call: grpc.ServerDuplexStream<Request, Reply>,
  options: MultiplexedStreamOptions<Request, Reply>,
): void {
  const { logger, streams, requestsMax } = options;
  let running = 0;
  let refusalsUnsent = 0;
  let halfClosed = false;
  let ended = false;
  const endIfDone = (): void => {
    if (ended || running > 0 || !(halfClosed || streams?.draining === true)) return;
    ended = true;
    streams?.delete(served);
    call.end();
  };
  const served: ServedStream = { drain: endIfDone };
  /**
   * Replies written but not yet sent, each as the callback that finishes it; a cancelled
   * stream never calls back for them, so cancelling calls them instead. Whichever comes
   * first finishes the reply, once. A callback and not a promise per reply: this runs for
   * every request.
   */
  const unsent = new Set<() => void>();
  const reply = (message: Reply, onSent: () => void): void => {
    // A cancelled stream (the sender went away) has nobody left to answer.
    if (ended || call.cancelled || call.destroyed) return onSent();
    const sent = (): void => {
      if (unsent.delete(sent)) onSent();
    };
    unsent.add(sent);
    call.write(message, sent);
  };
  const errorReply = (id: number, error: unknown): Reply => {
    // As for a unary call (serviceErrorOf): a bug is logged, the sender sees INTERNAL.
    const known = isQkvError(error) ? error : new QkvError('INTERNAL', 'internal error; the node has logged it');
    if (known.code === 'INTERNAL') logger.error({ err: error, method: options.method }, options.failureLogMessage);
    return options.errorReply(id, known);
  };
  streams?.add(served);
  /** A refusal for request `id`; refusals wait to be read too, and only so many of them. */
  const refuse = (id: number, error: QkvError): void => {
    if (refusalsUnsent >= requestsMax) return;
    refusalsUnsent++;
    reply(errorReply(id, error), refusalSent);
  };
  const refusalSent = (): void => {
    refusalsUnsent--;
  };
  /** A request's reply has left (or the stream was cancelled): it no longer runs. */
  const requestDone = (): void => {
    running--;
    endIfDone();
  };
  call.on('data', (message: Request | MalformedMessage) => {
    if (ended) return;
    if (message instanceof MalformedMessage) {
      // Framing is gRPC's, so one refused message leaves the stream readable: where it
      // names its id, its request alone fails, with the code a unary call would have had.
      if (message.id !== undefined) {
        options.onRequest?.();
        return refuse(message.id, message.error);
      }
      ended = true;
      streams?.delete(served);
      call.emit('error', serviceErrorOf(message.error));
      return;
    }
    const request = message;
    options.onRequest?.();
    if (streams?.draining === true) return refuse(request.id, new ShuttingDownError());
    if (running >= requestsMax) return refuse(request.id, new OverloadedError(options.requestsName, requestsMax));
    let answer: Promise<Reply>;
    try {
      answer = options.serve(request);
    } catch (error) {
      answer = Promise.reject(error);
    }
    running++;
    answer.then(
      (message) => reply(message, requestDone),
      (error: unknown) => reply(errorReply(request.id, error), requestDone),
    );
  });
  call.on('end', () => {
    halfClosed = true;
    endIfDone();
  });
  // A sender that goes away cancels the stream: nothing is left to answer, nothing to log.
  call.on('error', () => {});
  call.on('cancelled', () => {
    ended = true;
    streams?.delete(served);
    for (const sent of [...unsent]) sent();
  });
}
