// The receive gate and a stream's messages after its first, on a real grpc-js server and
// bare HTTP/2 clients in this process (so a test can stop sending in the middle of a
// message). The gate has one turn: a stream that has begun a later message and reads on
// holds it, a second such stream waits with its HTTP/2 stream paused, an idle stream
// holds nothing, and every way such a stream can end (cancelled while holding or
// waiting, half-closed mid-message, stalled until the gate's timeout) gives the turn or
// the waiting place back exactly once: the gate is empty afterwards. The messages a
// waiting stream sends still arrive whole and in order once it has its turn.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { ReceiveGate } from '../../src/security/receive-gate.js';
import { streamReaderOf } from '../../src/security/stream-reading.js';

const identity = (bytes: Buffer): Buffer => bytes;
const STREAM = { path: '/test.Streams/Echo', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
/** Large enough to take many HTTP/2 DATA frames, small enough for a quick test. */
const LARGE_BYTES = 256 * 1024;
const TIMEOUT_MS = 1_500;

let server: grpc.Server;
let port: number;
let gate: ReceiveGate;
let timedOut = 0;
/** The length of every message the handler received, per stream (by its `stream-name` metadata). */
const received = new Map<string, number[]>();

before(async () => {
  gate = new ReceiveGate({
    receivingMax: 1,
    timeoutMs: TIMEOUT_MS,
    timeoutCheckIntervalMs: 50,
    callerOf: (_call, metadata) => String(metadata.get('caller')[0] ?? 'nobody'),
    onRefused: (error) => {
      if (error.code === 'DEADLINE_EXCEEDED') timedOut++;
    },
  });
  server = new grpc.Server({ interceptors: [gate.interceptor()] });
  server.addService({ Echo: STREAM }, {
    Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      const name = String(call.metadata.get('stream-name')[0]);
      received.set(name, []);
      call.on('error', () => {});
      // Answers each message with its length, so the sender knows it arrived.
      call.on('data', (message: Buffer) => {
        received.get(name)!.push(message.length);
        const reply = Buffer.alloc(4);
        reply.writeUInt32BE(message.length);
        call.write(reply);
      });
      call.on('end', () => call.end());
    },
  });
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
});

after(() => server.forceShutdown());

function framed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

interface RawStream {
  readonly request: http2.ClientHttp2Stream;
  /** Replies (message lengths) so far. */
  readonly replies: number[];
  /** The grpc-status the stream ended with, or 'closed'. */
  readonly status: Promise<string>;
}

function openStream(session: http2.ClientHttp2Session, name: string, caller = 'one'): RawStream {
  const request = session.request({ ':method': 'POST', ':path': STREAM.path, 'content-type': 'application/grpc', te: 'trailers', caller, 'stream-name': name });
  const replies: number[] = [];
  let pending = Buffer.alloc(0);
  request.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      replies.push(pending.readUInt32BE(5));
      pending = pending.subarray(9);
    }
  });
  request.on('error', () => {});
  const status = new Promise<string>((resolve) => {
    request.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
    request.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
    });
    request.on('close', () => resolve('closed'));
  });
  return { request, replies, status };
}

async function until(condition: () => boolean, what: string, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} (gate ${JSON.stringify(gate.load)})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a stream and has its small first message answered (the first message takes a turn of its own). */
async function opened(session: http2.ClientHttp2Session, name: string, caller = 'one'): Promise<RawStream> {
  const stream = openStream(session, name, caller);
  stream.request.write(framed(Buffer.from('first')));
  await until(() => stream.replies.length === 1, `${name}'s first message was not answered`);
  return stream;
}

/** Sends all of a large message but its last byte on `stream`; returns that byte. */
function partway(stream: RawStream): Buffer {
  const large = framed(Buffer.alloc(LARGE_BYTES, 7));
  stream.request.write(large.subarray(0, large.length - 1));
  return large.subarray(large.length - 1);
}

function gateIsEmpty(): boolean {
  return gate.load.receiving === 0 && gate.load.waiting === 0 && gate.load.callers === 0;
}

test('grpc-js still keeps its call where the gate looks for it', () => {
  // Without this the gate falls back to bounding a stream's first message only.
  let found = false;
  const probe = new grpc.Server({
    interceptors: [
      (_method, call) => {
        found = streamReaderOf(call) !== undefined;
        return new grpc.ServerInterceptingCall(call);
      },
    ],
  });
  // The interceptor runs per call; a call needs a bound server, so ask a fresh one.
  return new Promise<void>((resolve, reject) => {
    probe.addService({ Echo: STREAM }, { Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => call.end() });
    probe.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) return reject(error);
      const client = new grpc.Client(`127.0.0.1:${bound}`, grpc.credentials.createInsecure());
      const call = client.makeBidiStreamRequest(STREAM.path, identity, identity);
      call.on('data', () => {});
      call.on('error', () => {});
      call.on('status', () => {
        client.close();
        probe.forceShutdown();
        try {
          assert.ok(found, 'streamReaderOf found no BaseServerInterceptingCall with handleDataFrame, decoder.readState and a pausable stream: grpc-js moved them');
          resolve();
        } catch (failure) {
          reject(failure as Error);
        }
      });
      call.end();
    });
  });
});

test('a stream partway through a later message holds the turn; a second one waits, then gets it and its message arrives whole', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  try {
    const holder = await opened(session, 'holder');
    const waiter = await opened(session, 'waiter', 'two');
    // A stream whose first message was answered and that sends nothing more.
    const idle = await opened(session, 'idle', 'three');
    const holderRest = partway(holder);
    await until(() => gate.load.receiving === 1, 'the stream partway through its second message holds no turn');
    const waiterRest = partway(waiter);
    await until(() => gate.load.waiting === 1, 'the second stream partway through a message is not waiting');
    assert.deepEqual(gate.load, { receiving: 1, waiting: 1, callers: 2 });
    // The idle stream holds nothing and waits for nothing.
    assert.equal(idle.replies.length, 1);
    // The waiter's last byte is sent, but it cannot arrive before the waiter has a turn.
    waiter.request.write(waiterRest);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(waiter.replies, [5], 'the waiting stream was read without a turn');
    // The holder completes its message: the turn goes to the waiter, whose message arrives.
    holder.request.write(holderRest);
    await until(() => holder.replies.length === 2 && waiter.replies.length === 2, 'the two large messages were not both answered');
    assert.deepEqual(received.get('holder'), [5, LARGE_BYTES]);
    assert.deepEqual(received.get('waiter'), [5, LARGE_BYTES]);
    // More messages on the same streams, small and large, go through in order.
    for (const stream of [holder, waiter]) {
      stream.request.write(Buffer.concat([framed(Buffer.from('a')), framed(Buffer.alloc(LARGE_BYTES)), framed(Buffer.from('bc'))]));
      stream.request.end();
    }
    assert.equal(await holder.status, '0');
    assert.equal(await waiter.status, '0');
    assert.deepEqual(received.get('waiter'), [5, LARGE_BYTES, 1, LARGE_BYTES, 2]);
    idle.request.end();
    assert.equal(await idle.status, '0');
    await until(gateIsEmpty, 'the gate is not empty after the streams ended');
  } finally {
    session.close();
  }
});

test('cancelled while holding and while waiting, half-closed mid-message, stalled: the gate is empty after each', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const timedOutBefore = timedOut;
  try {
    // Cancelled while waiting, then while holding.
    const holder = await opened(session, 'cancel-holder');
    const waiter = await opened(session, 'cancel-waiter', 'two');
    partway(holder);
    await until(() => gate.load.receiving === 1, 'no turn held');
    partway(waiter);
    await until(() => gate.load.waiting === 1, 'nothing waiting');
    waiter.request.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => gate.load.waiting === 0, 'the cancelled waiting stream still waits');
    assert.equal(gate.load.receiving, 1);
    holder.request.close(http2.constants.NGHTTP2_CANCEL);
    await until(gateIsEmpty, 'the gate is not empty after both streams were cancelled');

    // A waiter whose turn comes after the holder was cancelled is read to the end.
    const second = await opened(session, 'second-holder');
    const next = await opened(session, 'next-waiter', 'two');
    partway(second);
    await until(() => gate.load.receiving === 1, 'no turn held');
    const nextRest = partway(next);
    await until(() => gate.load.waiting === 1, 'nothing waiting');
    second.request.close(http2.constants.NGHTTP2_CANCEL);
    next.request.write(nextRest);
    await until(() => next.replies.length === 2, "the waiter's message was not read after the holder was cancelled");
    next.request.end();
    assert.equal(await next.status, '0');
    await until(gateIsEmpty, 'the gate is not empty after the waiter ended');

    // Half-closed in the middle of a message: no more bytes can come.
    const halfClosed = await opened(session, 'half-closed');
    partway(halfClosed);
    await until(() => gate.load.receiving === 1, 'no turn held');
    halfClosed.request.end();
    await halfClosed.status;
    await until(gateIsEmpty, 'the gate is not empty after a stream half-closed mid-message');

    // Stalled mid-message: the gate's timeout ends it, and only it.
    const stalled = await opened(session, 'stalled');
    partway(stalled);
    await until(() => gate.load.receiving === 1, 'no turn held');
    assert.equal(await stalled.status, String(grpc.status.DEADLINE_EXCEEDED));
    await until(gateIsEmpty, 'the gate is not empty after the stalled stream was ended');
    assert.equal(timedOut - timedOutBefore, 1, 'the gate ended a stream other than the stalled one');
  } finally {
    session.close();
  }
});
