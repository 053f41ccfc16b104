// The client port's certificate identity is worked out once per TLS connection
// (connection-identity.ts, docs/decisions/0210-certificate-identity-once-per-connection.md),
// and a caller cannot change it on a live connection by renegotiating TLS 1.2 with a
// certificate it made itself.
//
// A real grpc-js server with mutual TLS, the node's certificates and the client port's
// real guard; only the Put behind the guard is the test's (it records what reaches it).
// The attacker is a real TLS 1.2 client that renegotiates with a new certificate
// (test/security/python/renegotiate_then_put.py: Debian's python3-openssl and
// python3-h2; grpc-js, grpcio and Go offer no way to renegotiate with another
// certificate). It holds a reader's valid certificate and a self-made one, from a CA of
// its own with the same name as the cluster's, that names the built-in `admin` user.
//
// Node's HTTP/2 layer turns renegotiation off on every connection it serves, so a real
// node refuses the attack even without connection-identity.ts (the last test, against a
// real `qkv server`). The in-process tests take that layer away, to check the second
// one on its own: they fail against the per-call getAuthContext() of the code before.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { addCheckedService } from '../../src/protocol/checked-service.js';
import { kvServiceWithFastCodecs } from '../../src/protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { clientPortGuard } from '../../src/security/call-guards.js';
import { tlsSocketOf } from '../../src/security/connection-identity.js';
import { identityOfCertificate } from '../../src/security/certificate-identity.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';
import { createCa, createClientCertificate } from '../../src/security/certificate-authority.js';
import { clientChannelCredentials, clientPortCredentials } from '../../src/security/tls-credentials.js';
import { RawGrpcClient, encodeRequest } from '../support/raw-grpc.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const PUT = '/quorumkv.v1.KV/Put';
const users = new UserRoles([
  { name: 'reader', roles: ['read'] },
  { name: 'writer', roles: ['write'] },
]);

// The system interpreter on purpose, as in test/node/cluster.test.ts: a python3 earlier
// on PATH (pyenv, a venv) usually lacks Debian's packages.
const PYTHON = '/usr/bin/python3';
const ATTACKER = fileURLToPath(new URL('../../../test/security/python/renegotiate_then_put.py', import.meta.url));

/** Why the attacker cannot run here, or undefined; under QKV_TLS_ATTACKER_REQUIRED=1 (CI) a reason throws. */
function attackerMissing(): string | undefined {
  let reason: string | undefined;
  try {
    execFileSync(PYTHON, ['-c', 'import OpenSSL, h2'], { stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    reason = `the renegotiating attacker needs ${PYTHON} with Debian's python3-openssl and python3-h2 (${(error as Error).message.split('\n')[0]})`;
  }
  if (reason !== undefined && process.env.QKV_TLS_ATTACKER_REQUIRED === '1') throw new Error(`QKV_TLS_ATTACKER_REQUIRED=1 but ${reason}`);
  return reason;
}
const ATTACKER_MISSING = attackerMissing();

let server: grpc.Server;
let certificates: WatchedCertificates;
let address: string;
let serverPort: number;
let certsDir: string;
let forgedDir: string;
/** What reached the Put handler: the key of each Put. */
const served: string[] = [];
/** The TLS socket tlsSocketOf found for each call, by where it looked: the interceptor's call or the handler's. */
const found: Array<{ readonly where: 'interceptor' | 'handler'; readonly socket: TLSSocket | undefined }> = [];

/** An interceptor that only records what tlsSocketOf finds from the call it is given. */
const recordSocket: grpc.ServerInterceptor = (_descriptor, call) => {
  found.push({ where: 'interceptor', socket: tlsSocketOf(call) });
  return new grpc.ServerInterceptingCall(call);
};

before(async () => {
  const certs = await ensureLocalCertificates({ dir: await tempDir(undefined, 'qkv-connection-identity-'), nodeIds: ['n1'], users: ['reader', 'writer'] });
  certsDir = certs.dir;
  // The attacker's own CA, named like the cluster's, and a certificate of it naming `admin`.
  forgedDir = await tempDir(undefined, 'qkv-forged-');
  await createCa({ dir: forgedDir });
  await createClientCertificate({ caDir: forgedDir, outDir: forgedDir, user: 'admin' });
  certificates = await WatchedCertificates.open({ dir: certs.nodeDirs.get('n1')!, expected: { kind: 'node', name: 'n1' } });
  const definition = kvServiceWithFastCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service);
  server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: [recordSocket, clientPortGuard(() => users)] });
  addCheckedService(server, { Put: definition['Put']! }, {
    Put: (call: grpc.ServerUnaryCall<{ key: Buffer }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      found.push({ where: 'handler', socket: tlsSocketOf(call) });
      served.push(call.request.key.toString());
      callback(null, { version: { stamp: '1', nodeId: 'n1' }, acks: 1 });
    },
  });
  serverPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', clientPortCredentials(certificates), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${serverPort}`;
});

after(() => {
  server?.forceShutdown();
  certificates?.close();
});

const putRequest = (key: string): Buffer => encodeRequest('KV', 'Put', { key: Buffer.from(key), value: Buffer.from('v') });

test('the TLS socket is found from real grpc-js calls, in the interceptor and in the handler, and it is the caller\'s', async () => {
  found.length = 0;
  const writer = new RawGrpcClient(address, { credentials: clientChannelCredentials(certsDir, 'writer') });
  try {
    assert.equal((await writer.call(PUT, putRequest('found'))).status, 'OK');
  } finally {
    writer.close();
  }
  // grpc-js keeps the HTTP/2 stream in fields that are not its public API; when an
  // upgrade moves them this fails instead of every call quietly taking the slow path.
  assert.deepEqual(found.map(({ where }) => where), ['interceptor', 'handler']);
  const [fromInterceptor, fromHandler] = found.map(({ socket }) => socket);
  assert.ok(fromInterceptor instanceof TLSSocket, 'tlsSocketOf found no TLS socket from the interceptor\'s call');
  assert.equal(fromHandler, fromInterceptor, 'the handler\'s call led to another socket');
  assert.equal(fromInterceptor.localPort, serverPort);
  assert.deepEqual(identityOfCertificate(fromInterceptor.getPeerCertificate()), { kind: 'user', name: 'writer' });
});

test('the peer certificate is read once per connection, not once per call', async () => {
  const original = TLSSocket.prototype.getPeerCertificate;
  /** Calls on the server's side of each connection (the client side reads the server's once, too). */
  const serverSideCalls = new Map<TLSSocket, number>();
  TLSSocket.prototype.getPeerCertificate = function counted(this: TLSSocket, ...args: Parameters<TLSSocket['getPeerCertificate']>) {
    if (this.localPort === serverPort) serverSideCalls.set(this, (serverSideCalls.get(this) ?? 0) + 1);
    return original.apply(this, args);
  } as TLSSocket['getPeerCertificate'];
  const callsPerConnection = 20;
  const clients = [new RawGrpcClient(address, { credentials: clientChannelCredentials(certsDir, 'writer') }), new RawGrpcClient(address, { credentials: clientChannelCredentials(certsDir, 'reader') })];
  try {
    for (const client of clients) {
      for (let call = 0; call < callsPerConnection; call++) await client.call(PUT, putRequest(`once-${call}`));
    }
  } finally {
    TLSSocket.prototype.getPeerCertificate = original;
    for (const client of clients) client.close();
  }
  // Two connections (one per client), 20 calls each: one read on each.
  assert.deepEqual([...serverSideCalls.values()], [1, 1], `getPeerCertificate calls per server-side connection for ${callsPerConnection} calls each`);
});

interface AttackOutcome {
  readonly tls_version: string;
  readonly first_put?: { readonly grpc_status?: number; readonly qkv_error_code?: string | null; readonly ended?: string };
  readonly renegotiation: string;
  readonly put: { readonly grpc_status?: number; readonly qkv_error_code?: string | null; readonly ended?: string };
}

/** The attacker against `target`: the reader's certificate first, then the forged admin one, then a Put of `key`. */
function attack(target: string, when: 'before-first-call' | 'after-first-call', key: string, caPath: string, readerDir: string): Promise<AttackOutcome> {
  const [host, port] = target.split(':') as [string, string];
  const args = [
    ATTACKER, host, port, caPath,
    join(readerDir, 'client.reader.crt'), join(readerDir, 'client.reader.key'),
    join(forgedDir, 'client.admin.crt'), join(forgedDir, 'client.admin.key'),
    when, key, 'written-by-the-attacker',
  ];
  return new Promise((resolve, reject) =>
    execFile(PYTHON, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      error === null ? resolve(JSON.parse(stdout) as AttackOutcome) : reject(new Error(`the attacker failed: ${error.message}\n${stderr}`)),
    ),
  );
}

/**
 * Runs `body` with Node's HTTP/2 layer no longer turning renegotiation off (it calls
 * disableRenegotiation() on every socket it serves); calls from anywhere else, ours
 * among them, still work.
 */
async function withoutHttp2RenegotiationBlock<T>(body: () => Promise<T>): Promise<T> {
  const original = TLSSocket.prototype.disableRenegotiation;
  TLSSocket.prototype.disableRenegotiation = function unlessFromHttp2(this: TLSSocket) {
    if (new Error().stack?.includes('node:internal/http2/') === true) return;
    original.call(this);
  };
  try {
    return await body();
  } finally {
    TLSSocket.prototype.disableRenegotiation = original;
  }
}

const UNAUTHENTICATED = grpc.status.UNAUTHENTICATED;
const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

test('renegotiating with a self-made admin certificate before the first call: the renegotiation completes, the Put is refused UNAUTHENTICATED', { skip: ATTACKER_MISSING }, async () => {
  served.length = 0;
  const outcome = await withoutHttp2RenegotiationBlock(() => attack(address, 'before-first-call', 'forged-before', join(certsDir, 'ca.crt'), certsDir));
  assert.equal(outcome.tls_version, 'TLSv1.2');
  // The attacker really did renegotiate: what refuses it is the identity check, which
  // counts a connection whose later certificate failed verification as having none.
  assert.equal(outcome.renegotiation, 'renegotiated', JSON.stringify(outcome));
  assert.equal(outcome.put.grpc_status, UNAUTHENTICATED, JSON.stringify(outcome));
  assert.equal(outcome.put.qkv_error_code, 'UNAUTHENTICATED');
  assert.deepEqual(served, []);
});

test('renegotiating with a self-made admin certificate after a first call: the node ends the connection, nothing is written', { skip: ATTACKER_MISSING }, async () => {
  served.length = 0;
  const outcome = await withoutHttp2RenegotiationBlock(() => attack(address, 'after-first-call', 'forged-after', join(certsDir, 'ca.crt'), certsDir));
  assert.equal(outcome.tls_version, 'TLSv1.2');
  // The first Put is the reader's own, refused for want of the write role.
  assert.equal(outcome.first_put?.grpc_status, PERMISSION_DENIED, JSON.stringify(outcome));
  // Renegotiation was turned off when the connection was first seen.
  assert.match(outcome.renegotiation, /^refused/, JSON.stringify(outcome));
  assert.ok(outcome.put.ended !== undefined, `the Put after a refused renegotiation got an answer: ${JSON.stringify(outcome)}`);
  assert.deepEqual(served, []);
});

test('a real node refuses both renegotiations, and the key stays unwritten', { skip: ATTACKER_MISSING }, async () => {
  const dataRoot = await tempDir();
  const usersFile = join(dataRoot, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'reader', roles: ['read'] }] }));
  const cluster = await ProcessCluster.start({ size: 1, dataRoot, users: ['reader'], extraArgs: ['--users-file', usersFile, '--replication-factor', '1'] });
  try {
    for (const when of ['before-first-call', 'after-first-call'] as const) {
      const outcome = await attack(cluster.address('qkv-1'), when, `forged-${when}`, join(cluster.certsDir!, 'ca.crt'), cluster.certsDir!);
      assert.match(outcome.renegotiation, /^refused/, `${when}: ${JSON.stringify(outcome)}`);
      assert.ok(outcome.put.ended !== undefined, `${when}: ${JSON.stringify(outcome)}`);
      if (when === 'after-first-call') assert.equal(outcome.first_put?.grpc_status, PERMISSION_DENIED, JSON.stringify(outcome));
      const admin = cluster.client(['qkv-1']);
      try {
        assert.equal((await admin.get(Buffer.from(`forged-${when}`))).found, false, when);
      } finally {
        admin.close();
      }
    }
  } finally {
    await cluster.stopAll();
  }
});
