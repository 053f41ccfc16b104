// The receive gate on the peer port (docs/decisions/0269-peer-stream-messages-take-receive-turns.md)
// must not stall honest replication: a member sends many Exchange-like streams at once over
// one HTTP/2 connection, every one of them in the middle of large messages, far more
// than its share of turns (RECEIVING_CALLS_PER_CALLER_MAX). Streams without a turn wait
// paused; if their paused bytes could fill the connection's flow-control window, the
// stream holding a turn could not finish its message and would hold the turn until the
// gate's timeout ended it. Real grpc-js server and client, the gate with its defaults.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ReceiveGate } from '../../src/security/receive-gate.js';
import { GRPC_MESSAGE_BYTES_MAX, RECEIVING_CALLS_PER_CALLER_MAX } from '../../src/limits.js';

const identity = (bytes: Buffer): Buffer => bytes;
const STREAM = { path: '/test.Streams/Echo', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
const STREAMS = 32;
const LARGE_MESSAGES = 2;
const LARGE_BYTES = 2 * 1024 * 1024;

let server: grpc.Server;
let client: grpc.Client & { Echo: () => grpc.ClientDuplexStream<Buffer, Buffer> };
const refusals: string[] = [];

before(async () => {
  const gate = new ReceiveGate({ onRefused: (error) => refusals.push(error.code) });
  server = new grpc.Server({ 'grpc.max_receive_message_length': GRPC_MESSAGE_BYTES_MAX, interceptors: [gate.interceptor()] });
  server.addService({ Echo: STREAM }, {
    Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('error', () => {});
      call.on('data', (message: Buffer) => {
        const reply = Buffer.alloc(4);
        reply.writeUInt32BE(message.length);
        call.write(reply);
      });
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const Client = grpc.makeGenericClientConstructor({ Echo: STREAM }, 'Streams');
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': GRPC_MESSAGE_BYTES_MAX }) as unknown as typeof client;
});

after(() => {
  client.close();
  server.forceShutdown();
});

test(`${STREAMS} streams of one caller on one connection, each sending ${LARGE_MESSAGES} messages of 2 MiB at once, all arrive with no gate timeout`, async (t) => {
  assert.ok(STREAMS > 4 * RECEIVING_CALLS_PER_CALLER_MAX, 'far more streams than the caller has turns');
  const started = performance.now();
  const replies = await Promise.all(
    Array.from({ length: STREAMS }, () =>
      new Promise<number[]>((resolve, reject) => {
        const call = client.Echo();
        const lengths: number[] = [];
        call.on('data', (reply: Buffer) => lengths.push(reply.readUInt32BE(0)));
        call.on('error', reject);
        call.on('end', () => resolve(lengths));
        // A small first message, as an Exchange stream opens, then the large ones back to back.
        call.write(Buffer.alloc(16));
        for (let index = 0; index < LARGE_MESSAGES; index++) call.write(Buffer.alloc(LARGE_BYTES, index + 1));
        call.end();
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  t.diagnostic(`${STREAMS} x ${LARGE_MESSAGES} x ${LARGE_BYTES} bytes in ${elapsedMs.toFixed(0)} ms`);
  for (const lengths of replies) assert.deepEqual(lengths, [16, ...Array<number>(LARGE_MESSAGES).fill(LARGE_BYTES)]);
  assert.deepEqual(refusals, [], 'no stream was ended by the gate (a turn held past its timeout would be DEADLINE_EXCEEDED)');
});
