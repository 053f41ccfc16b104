// A probe's answer is bounded before the prober decodes it (src/protocol/probe-answer-bounds.ts):
// a member answering probes could otherwise make every node that probes it decode up to
// 16 MiB of empty forgotten members (8.4 million objects, 3.7 GiB of heap measured). A
// real gRPC server plays the hostile member and answers raw bytes; the client is the
// Replica client every node probes with (the protocol as loaded, channel options and all).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/protocol/grpc-options.js';
import { FORGET_SIGNATURE_BYTES_MAX, FORGET_SIGNER_CERTIFICATE_BYTES_MAX, FORGOTTEN_MEMBERS_MAX, NODE_ID_BYTES_MAX, PROBE_ANSWER_BYTES_MAX } from '../../src/limits.js';
import type { ReplicaClient } from '../../src/protocol/generated/quorumkv/v1/Replica.js';
import type { ProbeResponse__Output } from '../../src/protocol/generated/quorumkv/v1/ProbeResponse.js';

let answer: Buffer = Buffer.alloc(0);
let server: grpc.Server;
let client: ReplicaClient;

before(async () => {
  const identity = (bytes: Buffer): Buffer => bytes;
  server = new grpc.Server({ 'grpc.max_send_message_length': 32 * 1024 * 1024 });
  const rawProbe = { path: '/quorumkv.v1.Replica/Probe', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  server.addService({ Probe: rawProbe }, { Probe: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, answer) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  client = new (loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica)(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
});

after(() => {
  client.close();
  server.forceShutdown();
});

function probe(): Promise<{ error: grpc.ServiceError | null; response: ProbeResponse__Output | undefined }> {
  return new Promise((resolve) => client.Probe({ sender: 'n1' }, { deadline: Date.now() + 60_000 }, (error, response) => resolve({ error, response })));
}

/** `count` forgotten members with nothing in them: field 5, length 0. */
function emptyForgotten(count: number): Buffer {
  return Buffer.alloc(count * 2, Buffer.from([0x2a, 0x00]));
}

test('an answer above PROBE_ANSWER_BYTES_MAX is refused before it is decoded', async () => {
  answer = emptyForgotten(1024 * 1024); // 2 MiB, a million empty entries
  const { error, response } = await probe();
  assert.equal(response?.forgotten.length, undefined, 'decoded');
  assert.equal(error?.code, grpc.status.INTERNAL);
});

test('an answer within the bytes but with more forgotten members than FORGOTTEN_MEMBERS_MAX is refused by the scan', async () => {
  answer = emptyForgotten(FORGOTTEN_MEMBERS_MAX + 1);
  assert.ok(answer.length < PROBE_ANSWER_BYTES_MAX);
  const { error, response } = await probe();
  assert.equal(response?.forgotten.length, undefined, 'decoded');
  assert.equal(error?.code, grpc.status.INTERNAL);
});

test('an honest answer at the limits (128 signed forgotten members, every field at its longest) is taken', async () => {
  const replica = loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service;
  const forgotten = Array.from({ length: FORGOTTEN_MEMBERS_MAX }, (_, index) => ({
    nodeId: `${index}`.padEnd(NODE_ID_BYTES_MAX, 'x'),
    version: '9007199254740991',
    signerCertificate: Buffer.alloc(FORGET_SIGNER_CERTIFICATE_BYTES_MAX, 1),
    signature: Buffer.alloc(FORGET_SIGNATURE_BYTES_MAX, 2),
  }));
  answer = replica.Probe.responseSerialize({ ringState: 'NORMAL', ringStateVersion: '9007199254740991', ringDigest: 'a'.repeat(64), writeRingDigest: 'b'.repeat(64), forgotten });
  assert.ok(answer.length <= PROBE_ANSWER_BYTES_MAX, `${answer.length} bytes`);
  const { error, response } = await probe();
  assert.equal(error, null);
  assert.equal(response?.forgotten.length, FORGOTTEN_MEMBERS_MAX);
});
