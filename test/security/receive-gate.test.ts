// The receive gate (src/security/receive-gate.ts) on a real grpc-js server and client in
// this process: at most `receivingMax` calls have their message read at once and the
// others wait (their bytes held back by HTTP/2 flow control), every call is still
// answered, a queue past its bound is refused OVERLOADED, and a call that never sends
// its message is ended and gives its turn back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
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
  gate = new ReceiveGate({ receivingMax: 2, waitingMax: 50, timeoutMs: 500 });
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
    assert.deepEqual(gate.load, { receiving: 0, waiting: 0 });
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
  assert.deepEqual(gate.load, { receiving: 0, waiting: 0 });
});

test('past its bound the queue refuses at once with OVERLOADED', async () => {
  const small = new ReceiveGate({ receivingMax: 1, waitingMax: 1, timeoutMs: 300 });
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
    assert.deepEqual(small.load, { receiving: 1, waiting: 1 });
    const refused = await call(client, Buffer.from('x'));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(refused.qkvCode, 'OVERLOADED');
  } finally {
    client.close();
    session.close();
    gated.forceShutdown();
  }
});
