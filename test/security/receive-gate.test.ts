// The receive gate (src/security/receive-gate.ts) on a real grpc-js server and client in
// this process: at most `receivingMax` calls have their message read at once and the
// others wait (their bytes held back by HTTP/2 flow control), every call is still
// answered, a queue past its bound is refused OVERLOADED, and a call that never sends
// its message is ended and gives its turn back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ReceiveGate } from '../../src/security/receive-gate.js';
import { ERROR_CODE_METADATA_KEY } from '../../src/protocol/error-status.js';

const identity = (bytes: Buffer): Buffer => bytes;
const ECHO: grpc.ServiceDefinition = {
  Echo: { path: '/test.Gate/Echo', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

let server: grpc.Server;
let port: number;
let gate: ReceiveGate;
/** The most calls the handler saw while the gate reported them receiving. */
let receivingSeenMax = 0;

before(async () => {
  gate = new ReceiveGate({ receivingMax: 2, waitingMax: 50, timeoutMs: 500, timeoutCheckIntervalMs: 50 });
  server = new grpc.Server({ interceptors: [gate.interceptor()], 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  server.addService(ECHO, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      receivingSeenMax = Math.max(receivingSeenMax, gate.load.receiving);
      callback(null, Buffer.from(String(call.request.length)));
    },
  });
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
});

after(() => {
  server.forceShutdown();
});

function call(client: grpc.Client, body: Buffer): Promise<{ code: grpc.status; qkvCode?: string; response?: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(ECHO['Echo']!.path, identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (error, response) => {
      const [qkvCode] = error?.metadata?.get(ERROR_CODE_METADATA_KEY) ?? [];
      resolve({ code: error?.code ?? grpc.status.OK, ...(qkvCode === undefined ? {} : { qkvCode: String(qkvCode) }), ...(response === undefined ? {} : { response: response.toString() }) });
    });
  });
}

test('many large calls at once: at most two are read at a time, every one is answered', async () => {
  const clients = Array.from({ length: 4 }, () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }));
  try {
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    let waitingSeenMax = 0;
    const sampler = setInterval(() => (waitingSeenMax = Math.max(waitingSeenMax, gate.load.waiting)), 1);
    const outcomes = await Promise.all(Array.from({ length: 24 }, (_, i) => call(clients[i % clients.length]!, body)));
    clearInterval(sampler);
    for (const outcome of outcomes) assert.deepEqual(outcome, { code: grpc.status.OK, response: String(body.length) });
    assert.ok(receivingSeenMax <= 2, `${receivingSeenMax} calls were read at once`);
    assert.ok(waitingSeenMax > 0, 'some calls waited for a turn');
    assert.deepEqual(gate.load, { receiving: 0, waiting: 0, callers: 0 });
  } finally {
    for (const client of clients) client.close();
  }
});

test('a call that never sends its message is ended after the timeout, and its turn goes back', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  // The server may end the session's streams with a reset when it shuts them; not an error here.
  session.on('error', () => {});
  try {
    // Headers of a gRPC call, then nothing: no message, no end of stream.
    const streams = [0, 1].map(() => session.request({ ':method': 'POST', ':path': ECHO['Echo']!.path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false }));
    const ended = streams.map(
      (stream) =>
        new Promise<string | undefined>((resolve) => {
          stream.on('error', () => {});
          stream.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
          stream.on('response', (headers) => {
            if (headers['grpc-status'] !== undefined) resolve(String(headers['grpc-status']));
          });
          stream.on('close', () => resolve(undefined));
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(gate.load.receiving, 2, 'both silent calls hold a turn');
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const started = Date.now();
      const outcome = await call(client, Buffer.from('after the silent ones'));
      assert.equal(outcome.code, grpc.status.OK);
      assert.ok(Date.now() - started >= 300, 'it waited for a turn');
    } finally {
      client.close();
    }
    assert.deepEqual(await Promise.all(ended), [String(grpc.status.DEADLINE_EXCEEDED), String(grpc.status.DEADLINE_EXCEEDED)]);
  } finally {
    session.close();
  }
  assert.deepEqual(gate.load, { receiving: 0, waiting: 0, callers: 0 });
});

test('past its bound the queue refuses at once with OVERLOADED', async () => {
  const small = new ReceiveGate({ receivingMax: 1, waitingMax: 1, timeoutMs: 300, timeoutCheckIntervalMs: 50 });
  const gated = new grpc.Server({ interceptors: [small.interceptor()] });
  gated.addService(ECHO, { Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from('ok')) });
  const gatedPort = await new Promise<number>((resolve, reject) => gated.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const session = http2.connect(`http://127.0.0.1:${gatedPort}`);
  session.on('error', () => {});
  const client = new grpc.Client(`127.0.0.1:${gatedPort}`, grpc.credentials.createInsecure());
  try {
    // Two silent calls: one holds the turn, one waits; the queue is full.
    for (let i = 0; i < 2; i++) session.request({ ':method': 'POST', ':path': ECHO['Echo']!.path, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false }).on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(small.load, { receiving: 1, waiting: 1, callers: 1 });
    const refused = await call(client, Buffer.from('x'));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(refused.qkvCode, 'OVERLOADED');
  } finally {
    client.close();
    session.close();
    gated.forceShutdown();
  }
});

// Turns shared by caller (docs/decisions/0240): these servers name each call's caller by
// a metadata entry, since every call of this test comes from one address.
const CALLER_METADATA_KEY = 'test-caller';

async function gatedServer(options: ConstructorParameters<typeof ReceiveGate>[0]): Promise<{ gate: ReceiveGate; port: number; close: () => void }> {
  const gate = new ReceiveGate({ ...options, callerOf: (_call, metadata) => String(metadata.get(CALLER_METADATA_KEY)[0] ?? 'nobody') });
  const gated = new grpc.Server({ interceptors: [gate.interceptor()] });
  gated.addService(ECHO, { Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from('ok')) });
  const gatedPort = await new Promise<number>((resolve, reject) => gated.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { gate, port: gatedPort, close: () => gated.forceShutdown() };
}

/** `count` calls of `caller` that send their headers and never their message. */
function silentCalls(session: http2.ClientHttp2Session, caller: string, count: number): void {
  for (let i = 0; i < count; i++) {
    session.request({ ':method': 'POST', ':path': ECHO['Echo']!.path, 'content-type': 'application/grpc', te: 'trailers', [CALLER_METADATA_KEY]: caller }, { endStream: false }).on('error', () => {});
  }
}

function callAs(client: grpc.Client, caller: string): Promise<{ code: grpc.status; qkvCode?: string; details: string; elapsedMs: number }> {
  const metadata = new grpc.Metadata();
  metadata.set(CALLER_METADATA_KEY, caller);
  const started = Date.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(ECHO['Echo']!.path, identity, identity, Buffer.from('x'), metadata, { deadline: Date.now() + 30_000 }, (error) => {
      const [qkvCode] = error?.metadata?.get(ERROR_CODE_METADATA_KEY) ?? [];
      resolve({ code: error?.code ?? grpc.status.OK, ...(qkvCode === undefined ? {} : { qkvCode: String(qkvCode) }), details: error?.details ?? '', elapsedMs: Date.now() - started });
    });
  });
}

test('one caller holds at most its share of the turns: another caller is served at once while it stalls', async () => {
  const { gate: shared, port: sharedPort, close } = await gatedServer({ receivingMax: 4, receivingPerCallerMax: 2, timeoutMs: 5_000 });
  const session = http2.connect(`http://127.0.0.1:${sharedPort}`);
  session.on('error', () => {});
  const client = new grpc.Client(`127.0.0.1:${sharedPort}`, grpc.credentials.createInsecure());
  try {
    silentCalls(session, 'slow', 6);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(shared.load, { receiving: 2, waiting: 4, callers: 1 }, 'the stalling caller holds its two turns, the rest of its calls wait');
    const outcome = await callAs(client, 'other');
    assert.equal(outcome.code, grpc.status.OK);
    assert.ok(outcome.elapsedMs < 1_000, `the other caller waited ${outcome.elapsedMs} ms`);
  } finally {
    client.close();
    session.close();
    close();
  }
});

test('a freed turn goes to the callers in turn, not to the oldest waiting call', async () => {
  // Both turns held by `slow`, three more of its calls waiting, then one of `other`'s.
  // When slow's two turns expire together, one goes to slow (first in the rotation) and
  // the other to `other`, which a first-come queue would have served only after slow's
  // three waiting calls had expired in their turn.
  const timeoutMs = 500;
  const { gate: shared, port: sharedPort, close } = await gatedServer({ receivingMax: 2, receivingPerCallerMax: 2, timeoutMs, timeoutCheckIntervalMs: 20 });
  const session = http2.connect(`http://127.0.0.1:${sharedPort}`);
  session.on('error', () => {});
  const client = new grpc.Client(`127.0.0.1:${sharedPort}`, grpc.credentials.createInsecure());
  try {
    silentCalls(session, 'slow', 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(shared.load, { receiving: 2, waiting: 3, callers: 1 });
    const outcome = await callAs(client, 'other');
    assert.equal(outcome.code, grpc.status.OK);
    assert.ok(outcome.elapsedMs < 2 * timeoutMs - 100, `the other caller waited ${outcome.elapsedMs} ms: behind slow's waiting calls`);
  } finally {
    client.close();
    session.close();
    close();
  }
});

test('one caller\'s full queue refuses its own calls OVERLOADED, not another caller\'s', async () => {
  const { gate: shared, port: sharedPort, close } = await gatedServer({ receivingMax: 1, waitingPerCallerMax: 2, waitingMax: 10, timeoutMs: 5_000 });
  const session = http2.connect(`http://127.0.0.1:${sharedPort}`);
  session.on('error', () => {});
  const client = new grpc.Client(`127.0.0.1:${sharedPort}`, grpc.credentials.createInsecure());
  try {
    silentCalls(session, 'slow', 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(shared.load, { receiving: 1, waiting: 2, callers: 1 });
    const refused = await callAs(client, 'slow');
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(refused.qkvCode, 'OVERLOADED');
    assert.match(refused.details, /calls of slow waiting for their request to be read; the limit is 2/);
    // Another caller may still wait for the turn: it is not refused at once.
    const other = callAs(client, 'other');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(shared.load, { receiving: 1, waiting: 3, callers: 2 });
    // The slow caller goes away: its calls are cancelled and the turn passes on.
    session.destroy();
    assert.equal((await other).code, grpc.status.OK);
  } finally {
    client.close();
    session.close();
    close();
  }
});

test('without certificates the caller is the remote address: silent calls from 127.0.0.2 do not hold 127.0.0.1\'s turns', async () => {
  // No callerOf given: the node's own rule (caller-key.ts), which keys plaintext calls by address.
  const byAddress = new ReceiveGate({ receivingMax: 2, receivingPerCallerMax: 1, timeoutMs: 5_000 });
  const gated = new grpc.Server({ interceptors: [byAddress.interceptor()] });
  gated.addService(ECHO, { Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from('ok')) });
  const gatedPort = await new Promise<number>((resolve, reject) => gated.bindAsync('0.0.0.0:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const session = http2.connect(`http://127.0.0.1:${gatedPort}`, { createConnection: () => net.connect({ host: '127.0.0.1', port: gatedPort, localAddress: '127.0.0.2' }) });
  session.on('error', () => {});
  const client = new grpc.Client(`127.0.0.1:${gatedPort}`, grpc.credentials.createInsecure());
  try {
    silentCalls(session, 'ignored', 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(byAddress.load, { receiving: 1, waiting: 2, callers: 1 }, '127.0.0.2 holds its one turn');
    const outcome = await callAs(client, 'ignored');
    assert.equal(outcome.code, grpc.status.OK);
    assert.ok(outcome.elapsedMs < 1_000, `127.0.0.1 waited ${outcome.elapsedMs} ms`);
  } finally {
    client.close();
    session.destroy();
    gated.forceShutdown();
  }
});
