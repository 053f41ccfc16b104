// The raw HTTP/2 floor of `npm run bench:ghz-floor` (bench/compare/raw-http2-kv-server.ts)
// speaks correct gRPC, so that what it measures is a real unary call:
// - grpc-js (the project's client library's transport) with a client certificate gets
//   KV.Put's and KV.Get's replies, decoded by protobufjs; without a certificate, with a
//   node's certificate, with garbage bytes or an unknown method it gets the status a
//   node would answer;
// - a length prefix past the method's limit is refused as soon as it arrives, before
//   the message does (a raw HTTP/2 client that sends the prefix and nothing more);
// - the answer is HEADERS, one length-prefixed message and trailers with grpc-status 0;
// - grpcurl (Go's grpc) and ghz drive the server in its own process, as the bench does.
// grpcurl and ghz skip when missing unless QKV_GRPCURL_REQUIRED / QKV_GHZ_REQUIRED.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ghzBinary } from '../../bench/compare/ghz-run.js';
import { measureWithGhz } from '../../bench/compare/ghz-measure.js';
import { ProcessGroup } from '../../bench/compare/managed-process.js';
import { startRawHttp2Server } from '../../bench/compare/raw-http2-server.js';
import { startRawHttp2KvServer, type RawHttp2KvServer } from '../../bench/compare/raw-http2-kv-server.js';
import { SMALL_REQUEST_BYTES_MAX } from '../../src/limits.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';
import type { GetResponse__Output } from '../../src/protocol/generated/quorumkv/v1/GetResponse.js';
import type { PutResponse__Output } from '../../src/protocol/generated/quorumkv/v1/PutResponse.js';
import { decodeResponse, encodeRequest, nodeChannelCredentials, RawGrpcClient } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';

const NODE_ID = 'raw-http2';
const VALUE_BYTES = 100;
const PROTO_ROOT = new URL('../../../proto', import.meta.url).pathname;

function grpcurlPath(): string | undefined {
  const fromEnv = process.env['QKV_GRPCURL'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const cached = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'quorumkv', 'grpcurl-v1.9.4', 'bin', 'grpcurl');
  return existsSync(cached) ? cached : undefined;
}
const grpcurl = grpcurlPath();
if (grpcurl === undefined && process.env['QKV_GRPCURL_REQUIRED'] === '1') throw new Error('QKV_GRPCURL_REQUIRED=1 but grpcurl was not found; run scripts/grpcurl-env.sh');
const ghz = ghzBinary();
if (ghz === undefined && process.env['QKV_GHZ_REQUIRED'] === '1') throw new Error('QKV_GHZ_REQUIRED=1 but ghz was not found; run scripts/ghz-env.sh');

let certsDir: string;
let nodeDir: string;
let server: RawHttp2KvServer;
let address: string;

before(async () => {
  certsDir = join(await tempDir(), 'certs');
  const certificates = await ensureLocalCertificates({ dir: certsDir, nodeIds: [NODE_ID], users: [BUILT_IN_ADMIN] });
  nodeDir = certificates.nodeDirs.get(NODE_ID)!;
  server = await startRawHttp2KvServer({ host: '127.0.0.1', port: 0, valueBytes: VALUE_BYTES, tls: { dir: nodeDir, nodeId: NODE_ID } });
  address = `127.0.0.1:${server.port}`;
});

after(async () => {
  await server?.close();
});

function adminClient(): RawGrpcClient {
  return new RawGrpcClient(address, { credentials: clientChannelCredentials(certsDir, BUILT_IN_ADMIN) });
}

test('grpc-js with the admin certificate gets the no-op replies of KV.Put and KV.Get', async () => {
  const client = adminClient();
  try {
    const put = await client.call('/quorumkv.v1.KV/Put', encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), w: 2 }));
    assert.equal(put.status, 'OK', put.details);
    assert.deepEqual(decodeResponse<PutResponse__Output>('KV', 'Put', put.response!).version, { stamp: '1', nodeId: 'noop' });
    const get = await client.call('/quorumkv.v1.KV/Get', encodeRequest('KV', 'Get', { key: Buffer.from('k'), r: 2 }));
    assert.equal(get.status, 'OK', get.details);
    const reply = decodeResponse<GetResponse__Output>('KV', 'Get', get.response!);
    assert.equal(reply.found, true);
    assert.equal(reply.value.length, VALUE_BYTES);
  } finally {
    client.close();
  }
});

test('refusals carry the status and code a node answers with', async () => {
  const admin = adminClient();
  const noCertificate = new RawGrpcClient(address, {
    // The CA only: a TLS connection without a client certificate.
    credentials: grpc.credentials.createSsl(readFileSync(join(certsDir, 'ca.crt')), null, null, { checkServerIdentity: () => undefined }),
  });
  const asNode = new RawGrpcClient(address, { credentials: nodeChannelCredentials(nodeDir) });
  try {
    const get = encodeRequest('KV', 'Get', { key: Buffer.from('k') });
    const unauthenticated = await noCertificate.call('/quorumkv.v1.KV/Get', get);
    assert.deepEqual([unauthenticated.status, unauthenticated.code], ['UNAUTHENTICATED', 'UNAUTHENTICATED'], unauthenticated.details);
    const node = await asNode.call('/quorumkv.v1.KV/Put', encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v') }));
    assert.deepEqual([node.status, node.code], ['PERMISSION_DENIED', 'PERMISSION_DENIED'], node.details);
    const garbage = await admin.call('/quorumkv.v1.KV/Put', Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    assert.deepEqual([garbage.status, garbage.code], ['INVALID_ARGUMENT', 'INVALID_ARGUMENT'], garbage.details);
    const tooLarge = await admin.call('/quorumkv.v1.KV/Get', Buffer.alloc(SMALL_REQUEST_BYTES_MAX + 1));
    assert.deepEqual([tooLarge.status, tooLarge.code], ['INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    assert.match(tooLarge.details, /the limit of this method is 65536/);
    const unknown = await admin.call('/quorumkv.v1.KV/Delete', encodeRequest('KV', 'Delete', { key: Buffer.from('k') }));
    assert.equal(unknown.status, 'UNIMPLEMENTED');
  } finally {
    for (const client of [admin, noCertificate, asNode]) client.close();
  }
});

/** A raw HTTP/2 connection with the admin certificate. */
function rawSession(): http2.ClientHttp2Session {
  return http2.connect(`https://${address}`, {
    ca: readFileSync(join(certsDir, 'ca.crt')),
    cert: readFileSync(join(certsDir, `client.${BUILT_IN_ADMIN}.crt`)),
    key: readFileSync(join(certsDir, `client.${BUILT_IN_ADMIN}.key`)),
    checkServerIdentity: () => undefined,
  });
}

test('a length prefix past the limit is refused before the message arrives', { timeout: 10_000 }, async () => {
  const session = rawSession();
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/quorumkv.v1.KV/Get', 'content-type': 'application/grpc', te: 'trailers' });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(512 * 1024 * 1024, 1);
    // The prefix and nothing more, the stream left open: a server that waited for the
    // message before checking its size would never answer.
    stream.write(prefix);
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
    assert.equal(headers['grpc-status'], '3');
    assert.equal(headers['qkv-error-code'], 'INVALID_ARGUMENT');
    assert.match(decodeURIComponent(String(headers['grpc-message'])), /536870912 bytes; the limit of this method is 65536/);
  } finally {
    // Not close(): it would wait for a stream the server failed to answer.
    session.destroy();
  }
});

test('the answer is headers, one length-prefixed message and trailers with grpc-status 0', async () => {
  const session = rawSession();
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/quorumkv.v1.KV/Put', 'content-type': 'application/grpc', te: 'trailers' });
    const message = encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v') });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([prefix, message]));
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const [headers, trailers] = await Promise.all([
      new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve)),
      new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve)),
      new Promise<void>((resolve) => stream.once('end', resolve)),
    ]);
    assert.equal(headers[':status'], 200);
    assert.equal(headers['content-type'], 'application/grpc');
    assert.equal(trailers['grpc-status'], '0');
    const body = Buffer.concat(chunks);
    assert.equal(body[0], 0, 'not compressed');
    assert.equal(body.readUInt32BE(1), body.length - 5, 'one message, as long as its prefix says');
    assert.equal(decodeResponse<PutResponse__Output>('KV', 'Put', body.subarray(5)).acks, 1);
  } finally {
    // Not close(): it would wait for a stream the server failed to answer.
    session.destroy();
  }
});

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

test('grpcurl puts and gets with the admin certificate and is refused without one', { skip: grpcurl === undefined ? 'grpcurl is not built (bash scripts/grpcurl-env.sh)' : false }, async () => {
  const args = (withCertificate: boolean, data: object, method: string): string[] => [
    '-cacert', join(certsDir, 'ca.crt'),
    ...(withCertificate ? ['-cert', join(certsDir, `client.${BUILT_IN_ADMIN}.crt`), '-key', join(certsDir, `client.${BUILT_IN_ADMIN}.key`)] : []),
    '-servername', 'localhost',
    '-import-path', PROTO_ROOT, '-proto', 'quorumkv/v1/kv.proto',
    '-d', JSON.stringify(data),
    address,
    method,
  ];
  const key = Buffer.from('grpcurl-key').toString('base64');
  const put = await run(grpcurl!, args(true, { key, value: Buffer.from('v').toString('base64') }, 'quorumkv.v1.KV/Put'));
  assert.equal(put.code, 0, put.stderr);
  assert.equal((JSON.parse(put.stdout) as { acks?: number }).acks, 1);
  const get = await run(grpcurl!, args(true, { key }, 'quorumkv.v1.KV/Get'));
  assert.equal(get.code, 0, get.stderr);
  assert.equal(Buffer.from((JSON.parse(get.stdout) as { value: string }).value, 'base64').length, VALUE_BYTES);
  const anonymous = await run(grpcurl!, args(false, { key }, 'quorumkv.v1.KV/Get'));
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /Unauthenticated/);
});

test('ghz drives the server in its own process with no failed calls', { timeout: 120_000, skip: ghz === undefined ? 'ghz is not built (bash scripts/ghz-env.sh)' : false }, async () => {
  const group = new ProcessGroup();
  const dir = await tempDir();
  try {
    const running = await startRawHttp2Server(group, { dir, readyTimeoutMs: 60_000, valueBytes: VALUE_BYTES });
    for (const operation of ['put', 'get'] as const) {
      const measured = await measureWithGhz(running, { ghz: ghz!, protocol: 'quorumkv', operation, concurrency: 4, durationSeconds: 1, valueBytes: VALUE_BYTES, dir });
      assert.deepEqual(measured.errors, {}, `${operation}: no failed calls`);
      assert.ok(measured.count > 0, `${operation}: calls were made`);
      assert.ok(measured.serverCpuSeconds !== undefined && measured.serverCpuSeconds > 0, `${operation}: the server's CPU was read`);
    }
  } finally {
    await group.stopAll();
  }
});
