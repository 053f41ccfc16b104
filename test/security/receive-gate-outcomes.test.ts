// The receive gate's turn accounting over long runs of mixed call outcomes, on a real
// grpc-js server and client in this process. A turn or a waiting place never given back
// on some path slowly closes the node for every caller, so this plays rounds of calls that
// end every way a call can: answered, a slow handler, the client's deadline passing while
// the call waits or reads, the client cancelling, a stream with and without a message, a
// stream the handler ends before reading, an HTTP/2 reset, a half-close without message,
// half a message, and no message at all (ended by the gate's timeout). After every round
// the gate must be empty again: no turn held, no call waiting, no caller remembered.
// The timeout would hide a leaked turn (it ends the call and gives the turn back), so
// the gate's own timeouts are counted too: exactly one per call that never completed
// its message, none for any other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { ReceiveGate } from '../../src/security/receive-gate.js';

const identity = (bytes: Buffer): Buffer => bytes;
function method(name: string, stream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return { path: `/test.Outcomes/${name}`, requestStream: stream, responseStream: stream, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
}
const SERVICE = { Echo: method('Echo', false), Slow: method('Slow', false), Stream: method('Stream', true), EndsAtOnce: method('EndsAtOnce', true) };

const RECEIVING_MAX = 3;
const ROUNDS = 6;
const CALLS_PER_ROUND = 60;

let server: grpc.Server;
let port: number;
let gate: ReceiveGate;
/** Calls the gate ended because their message did not arrive in time. */
let timedOut = 0;

before(async () => {
  // Four callers named in metadata, so shares and the rotation are in play.
  gate = new ReceiveGate({
    receivingMax: RECEIVING_MAX,
    receivingPerCallerMax: 2,
    waitingMax: 40,
    waitingPerCallerMax: 20,
    // Long enough that no honest call here comes near it, even on a busy machine.
    timeoutMs: 1_200,
    timeoutCheckIntervalMs: 50,
    callerOf: (_call, metadata) => String(metadata.get('caller')[0] ?? 'nobody'),
    onRefused: (error) => {
      if (error.code === 'DEADLINE_EXCEEDED') timedOut++;
    },
  });
  server = new grpc.Server({ interceptors: [gate.interceptor()] });
  server.addService(SERVICE, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
    Slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => setTimeout(() => callback(null, call.request), 20),
    Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('error', () => {});
      call.on('data', (message: Buffer) => call.write(message));
      call.on('end', () => call.end());
    },
    // The handler's status goes out before any message is read.
    EndsAtOnce: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('error', () => {});
      call.end();
    },
  });
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
});

after(() => {
  server.forceShutdown();
});

function metadataOf(caller: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('caller', caller);
  return metadata;
}

function unary(client: grpc.Client, path: string, caller: string, body: Buffer, deadlineMs: number, cancelAfterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(path, identity, identity, body, metadataOf(caller), { deadline: Date.now() + deadlineMs }, () => resolve());
    if (cancelAfterMs !== undefined) setTimeout(() => call.cancel(), cancelAfterMs);
  });
}

function stream(client: grpc.Client, path: string, caller: string, sendMessage: boolean): Promise<void> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, identity, identity, metadataOf(caller), { deadline: Date.now() + 5_000 });
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', () => resolve());
    if (sendMessage) call.write(Buffer.from('one'));
    call.end();
  });
}

type RawEnding = 'reset' | 'half-close' | 'half-a-message' | 'silent';

/** A call made with bare HTTP/2, to end it in ways a gRPC client does not; resolves with its grpc-status, if one came. */
function raw(session: http2.ClientHttp2Session, caller: string, ending: RawEnding, delayMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = session.request({ ':method': 'POST', ':path': SERVICE.Echo.path, 'content-type': 'application/grpc', te: 'trailers', caller }, { endStream: ending === 'half-close' });
    const done = (status: unknown): void => {
      resolve(String(status));
      if (!request.closed) request.close();
    };
    request.on('error', () => {});
    request.on('close', () => resolve(undefined));
    request.on('trailers', (trailers) => done(trailers['grpc-status']));
    request.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) done(headers['grpc-status']);
    });
    if (ending === 'reset') setTimeout(() => request.close(http2.constants.NGHTTP2_CANCEL), delayMs);
    // A gRPC message header announcing 10 bytes, then only one of them.
    if (ending === 'half-a-message') request.write(Buffer.from([0, 0, 0, 0, 10, 1]));
  });
}

/** A fixed-seed generator, so a failing round can be played again. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
}

async function gateEmpty(withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (gate.load.receiving === 0 && gate.load.waiting === 0 && gate.load.callers === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(gate.load, { receiving: 0, waiting: 0, callers: 0 }, `the gate is not empty ${withinMs} ms after a round`);
}

test('rounds of calls ending every way a call can: the gate is empty after each, and never reads more than its bound', async () => {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const random = generator(7);
  let receivingSeenMax = 0;
  const sampler = setInterval(() => (receivingSeenMax = Math.max(receivingSeenMax, gate.load.receiving)), 1);
  const endings = ['answered', 'slow handler', 'deadline', 'cancel', 'stream', 'stream without message', 'handler ends first', 'reset', 'half-close', 'half a message', 'silent'] as const;
  const played = new Map<string, number>();
  /** Calls that never complete their message and were answered DEADLINE_EXCEEDED: the gate's timeout ended them. */
  let incompleteTimedOut = 0;
  const countTimeout = (status: string | undefined): void => {
    if (status === String(grpc.status.DEADLINE_EXCEEDED)) incompleteTimedOut++;
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const calls: Promise<void>[] = [];
      for (let i = 0; i < CALLS_PER_ROUND; i++) {
        // Four callers share the turns; some calls come from a caller seen once, whose
        // state must be dropped however its one call ends.
        const caller = random() < 0.25 ? `once-${round}-${i}` : `caller-${Math.floor(random() * 4)}`;
        const ending = endings[Math.floor(random() * endings.length)]!;
        const body = Buffer.alloc(Math.floor(random() * 200_000), 1);
        const soonMs = Math.floor(random() * 30);
        played.set(ending, (played.get(ending) ?? 0) + 1);
        if (ending === 'answered') calls.push(unary(client, SERVICE.Echo.path, caller, body, 5_000));
        if (ending === 'slow handler') calls.push(unary(client, SERVICE.Slow.path, caller, body, 5_000));
        if (ending === 'deadline') calls.push(unary(client, SERVICE.Echo.path, caller, body, 1 + soonMs));
        if (ending === 'cancel') calls.push(unary(client, SERVICE.Echo.path, caller, body, 5_000, soonMs));
        if (ending === 'stream') calls.push(stream(client, SERVICE.Stream.path, caller, true));
        if (ending === 'stream without message') calls.push(stream(client, SERVICE.Stream.path, caller, false));
        if (ending === 'handler ends first') calls.push(stream(client, SERVICE.EndsAtOnce.path, caller, random() < 0.5));
        if (ending === 'reset') calls.push(raw(session, caller, 'reset', soonMs * 3).then(() => {}));
        if (ending === 'half-close') calls.push(raw(session, caller, 'half-close', 0).then(() => {}));
        if (ending === 'half a message') calls.push(raw(session, caller, 'half-a-message', 0).then(countTimeout));
        if (ending === 'silent') calls.push(raw(session, caller, 'silent', 0).then(countTimeout));
      }
      await Promise.all(calls);
      // Well under the timeout: a turn still held now was leaked, not slow.
      await gateEmpty(400);
      assert.equal(timedOut, incompleteTimedOut, `round ${round}: the gate timed out ${timedOut} calls, ${incompleteTimedOut} of them calls that never completed their message`);
    }
  } finally {
    clearInterval(sampler);
    session.close();
    client.close();
  }
  for (const ending of endings) assert.ok((played.get(ending) ?? 0) >= 10, `"${ending}" was played ${played.get(ending) ?? 0} times`);
  assert.ok(receivingSeenMax <= RECEIVING_MAX, `${receivingSeenMax} calls were read at once`);
  assert.ok(receivingSeenMax === RECEIVING_MAX, 'the rounds filled the gate at least once');
  assert.ok(incompleteTimedOut >= 10, `${incompleteTimedOut} silent calls were timed out`);
});
