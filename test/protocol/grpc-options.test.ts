// The server options every node listens with (src/protocol/grpc-options.ts), checked on a
// real grpc-js server: its HTTP/2 SETTINGS announce GRPC_CONNECTION_STREAMS_MAX, and one
// connection that asks for more calls at once than that gets them run at most that many
// at a time (grpc-js queues the rest on the client), every call still answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { GRPC_CONNECTION_STREAMS_MAX } from '../../src/limits.js';

const identity = (bytes: Buffer): Buffer => bytes;
const HOLD = { path: '/test.Hold/Hold', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };

async function holdServer(holdMs: number): Promise<{ server: grpc.Server; port: number; peakRunning: () => number }> {
  let running = 0;
  let peak = 0;
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService({ Hold: HOLD }, {
    Hold(_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      running++;
      peak = Math.max(peak, running);
      setTimeout(() => {
        running--;
        callback(null, Buffer.from('ok'));
      }, holdMs);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, port, peakRunning: () => peak };
}

test(`the server announces at most ${GRPC_CONNECTION_STREAMS_MAX} concurrent streams per connection`, async () => {
  const { server, port } = await holdServer(0);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    assert.equal(settings.maxConcurrentStreams, GRPC_CONNECTION_STREAMS_MAX);
  } finally {
    session.close();
    server.forceShutdown();
  }
});

test('one connection asking for more calls than the limit has at most the limit running; every call is answered', async () => {
  const { server, port, peakRunning } = await holdServer(300);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const calls = GRPC_CONNECTION_STREAMS_MAX + 100;
    const outcomes = await Promise.all(
      Array.from(
        { length: calls },
        () =>
          new Promise<string>((resolve) =>
            client.makeUnaryRequest(HOLD.path, identity, identity, Buffer.alloc(1), { deadline: Date.now() + 30_000 }, (error) => resolve(error ? grpc.status[error.code] : 'OK')),
          ),
      ),
    );
    assert.deepEqual(new Set(outcomes), new Set(['OK']));
    assert.ok(peakRunning() <= GRPC_CONNECTION_STREAMS_MAX, `${peakRunning()} calls ran at once`);
  } finally {
    client.close();
    server.forceShutdown();
  }
});
