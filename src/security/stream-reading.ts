// How the receive gate (receive-gate.ts) sees a streaming call's bytes arrive after its
// first message: grpc-js 1.14 has no public hook for it, so this reaches the call's
// BaseServerInterceptingCall the way connection-identity.ts reaches its TLS socket (the
// `nextCall` chain of the intercepting calls) and puts a wrapper in front of its
// handleDataFrame, the method its HTTP/2 stream's 'data' listener calls for every chunk.
//
// What grpc-js does with a chunk (server-interceptors.js, stream-decoder.js): the
// decoder keeps the bytes of a message being received until it is complete
// (readState is NO_DATA only between messages), and the stream is paused after each
// complete message until the handler asks for the next one. So "this call holds part
// of a message and reads on" is: the decoder is not between messages and the stream is
// not paused. receive-gate.ts holds a turn exactly while that is true.
//
// None of this is public API: streamReaderOf() returns undefined when a grpc-js upgrade
// moves a field, and stream-reading.test.ts fails then. Until it is fixed, the gate
// bounds a stream's first message only, as it did before (docs/operations/security.md).
import type * as grpc from '@grpc/grpc-js';

/** StreamDecoder's readState between messages (stream-decoder.js, ReadState.NO_DATA). */
const DECODER_BETWEEN_MESSAGES = 0;
/** How many intercepting calls streamReaderOf looks through: one per interceptor. */
const MAX_CALL_WRAPPERS = 8;

/** The fields of grpc-js's BaseServerInterceptingCall used here. */
interface BaseCallInternals {
  handleDataFrame: (data: Buffer) => void;
  readonly decoder: { readonly readState: number };
  readonly stream: { pause(): unknown; resume(): unknown; isPaused(): boolean };
}

/** One streaming call's reading, as the receive gate needs it. */
export interface StreamReader {
  /** Has `onChunk` run after grpc-js took in each chunk of the request stream. */
  afterEachChunk(onChunk: () => void): void;
  /** Whether the call holds part of a message and its stream reads on. */
  readonly receivingMessage: boolean;
  /** Stops reading the HTTP/2 stream: flow control keeps further bytes at the sender. */
  pause(): void;
  /** Reads the HTTP/2 stream again (only ever after pause(), while grpc-js was reading). */
  resume(): void;
}

function isBaseCall(candidate: unknown): candidate is BaseCallInternals {
  const internals = candidate as Partial<BaseCallInternals>;
  return (
    typeof internals.handleDataFrame === 'function' &&
    typeof internals.decoder?.readState === 'number' &&
    typeof internals.stream?.pause === 'function' &&
    typeof internals.stream.resume === 'function' &&
    typeof internals.stream.isPaused === 'function'
  );
}

/** The reading of the call an interceptor was given, or undefined when grpc-js's internals are not where this expects. */
export function streamReaderOf(call: grpc.ServerInterceptingCallInterface): StreamReader | undefined {
  let current: unknown = call;
  for (let depth = 0; depth < MAX_CALL_WRAPPERS && typeof current === 'object' && current !== null; depth++) {
    if (isBaseCall(current)) return readerOf(current);
    current = (current as { readonly nextCall?: unknown }).nextCall;
  }
  return undefined;
}

function readerOf(base: BaseCallInternals): StreamReader {
  const { decoder, stream } = base;
  return {
    afterEachChunk(onChunk) {
      const handleDataFrame = base.handleDataFrame;
      // An instance property: the stream's listener calls this.handleDataFrame(data).
      base.handleDataFrame = (data) => {
        handleDataFrame.call(base, data);
        onChunk();
      };
    },
    get receivingMessage() {
      return decoder.readState !== DECODER_BETWEEN_MESSAGES && !stream.isPaused();
    },
    pause: () => void stream.pause(),
    resume: () => void stream.resume(),
  };
}
