// One user is one caller at the receive gate, however many certificates it holds
// (src/security/caller-key.ts, docs/decisions/0240-receive-turns-shared-by-caller.md):
// the share of turns is keyed by the identity a role is granted to (`user:NAME`), not
// by the certificate, so minting a second certificate for the same user (another
// serial, another key) buys no second share.
//
// A real grpc-js server with TLS and the node's certificate, the real gate with the
// node's own caller rule, and real TLS connections with certificates made by the
// project's CA code: two of user `app` (distinct serials and keys), one of user `other`.
// `app`'s first certificate stalls a call in its one turn; a call on a second connection
// with `app`'s second certificate must wait behind it, while `other` is served at once.
// Keyed by certificate (the serial, say), the second call would take a turn of its own
// and the gate would count two callers: checked by keying callerKeyOf by serial.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import * as http2 from 'node:http2';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ReceiveGate } from '../../src/security/receive-gate.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { createClientCertificate } from '../../src/security/certificate-authority.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';
import { clientChannelCredentials, clientPortCredentials } from '../../src/security/tls-credentials.js';
import { tempDir } from '../support/temp-dir.js';

const identity = (bytes: Buffer): Buffer => bytes;
const ECHO_PATH = '/test.PerUser/Echo';
const SERVICE = { Echo: { path: ECHO_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };

let server: grpc.Server;
let certificates: WatchedCertificates;
let gate: ReceiveGate;
let port: number;
let certsDir: string;
/** A second certificate of user `app`: its own serial and key, same CA. */
let secondAppDir: string;

before(async () => {
  const certs = await ensureLocalCertificates({ dir: await tempDir(undefined, 'qkv-caller-per-user-'), nodeIds: ['n1'], users: ['app', 'other'] });
  certsDir = certs.dir;
  secondAppDir = await tempDir(undefined, 'qkv-caller-per-user-second-');
  await createClientCertificate({ caDir: certsDir, outDir: secondAppDir, user: 'app' });
  certificates = await WatchedCertificates.open({ dir: certs.nodeDirs.get('n1')!, expected: { kind: 'node', name: 'n1' } });
  // The node's own caller rule (no callerOf): TLS identity, else the address.
  gate = new ReceiveGate({ receivingMax: 2, receivingPerCallerMax: 1, timeoutMs: 10_000 });
  server = new grpc.Server({ interceptors: [gate.interceptor()] });
  server.addService(SERVICE, { Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from('ok')) });
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', clientPortCredentials(certificates), (error, bound) => (error ? reject(error) : resolve(bound))));
});

after(() => {
  server?.forceShutdown();
  certificates?.close();
});

/** A raw HTTP/2 connection over TLS with `user`'s certificate in `dir`, for calls that never send their message. */
async function stallingSession(dir: string, user: string): Promise<http2.ClientHttp2Session> {
  const [ca, cert, key] = await Promise.all([readFile(join(certsDir, 'ca.crt')), readFile(join(dir, `client.${user}.crt`)), readFile(join(dir, `client.${user}.key`))]);
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca, cert, key, checkServerIdentity: () => undefined });
  session.on('error', () => {});
  return session;
}

/** Opens a call whose request message never comes: it holds a turn, or waits for one. */
function stall(session: http2.ClientHttp2Session): void {
  session.request({ ':method': 'POST', ':path': ECHO_PATH, 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false }).on('error', () => {});
}

async function settled(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
}

test('two certificates of one user are one caller: the second waits behind the first\'s turn, another user is served at once', async () => {
  const first = new X509Certificate(await readFile(join(certsDir, 'client.app.crt')));
  const second = new X509Certificate(await readFile(join(secondAppDir, 'client.app.crt')));
  assert.notEqual(first.serialNumber, second.serialNumber, 'the two certificates of app are distinct');
  assert.notEqual(first.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'), second.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'));

  const withFirst = await stallingSession(certsDir, 'app');
  const withSecond = await stallingSession(secondAppDir, 'app');
  const other = new grpc.Client(`127.0.0.1:${port}`, clientChannelCredentials(certsDir, 'other'));
  try {
    stall(withFirst);
    await settled();
    assert.deepEqual(gate.load, { receiving: 1, waiting: 0, callers: 1 }, 'app\'s first certificate holds app\'s one turn');
    stall(withSecond);
    await settled();
    assert.deepEqual(gate.load, { receiving: 1, waiting: 1, callers: 1 }, 'app\'s second certificate, on its own connection, is the same caller: it waits');
    const started = Date.now();
    const outcome = await new Promise<grpc.status>((resolve) => {
      other.makeUnaryRequest(ECHO_PATH, identity, identity, Buffer.from('x'), new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error) => resolve(error?.code ?? grpc.status.OK));
    });
    assert.equal(outcome, grpc.status.OK);
    assert.ok(Date.now() - started < 2_000, `user other waited ${Date.now() - started} ms`);
  } finally {
    other.close();
    withFirst.destroy();
    withSecond.destroy();
  }
  await settled();
  assert.deepEqual(gate.load, { receiving: 0, waiting: 0, callers: 0 });
});
