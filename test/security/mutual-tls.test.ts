// The certificates do their job in a real TLS 1.3 handshake (node:tls, OpenSSL inside
// Node): a server with a node certificate that requires and verifies client
// certificates against the CA, clients with a client certificate or a node
// certificate, each side reading the other's identity from its URI SAN. Refused: a
// client certificate of another CA, no client certificate, a server certificate of
// another CA, and a client certificate posing as a server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { createCa, createClientCertificate, createNodeCertificate } from '../../src/security/certificate-authority.js';
import { identityOfCertificate, type CertificateIdentity } from '../../src/security/certificate-identity.js';
import { tempDir } from '../support/temp-dir.js';

interface Pair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

let dir: string;
let otherDir: string;

async function pair(certificatePath: string, keyPath: string): Promise<Pair> {
  return { cert: await readFile(certificatePath), key: await readFile(keyPath) };
}

before(async () => {
  dir = await tempDir();
  otherDir = await tempDir();
  await createCa({ dir });
  await createNodeCertificate({ caDir: dir, outDir: join(dir, 'qkv-1'), nodeId: 'qkv-1' });
  await createNodeCertificate({ caDir: dir, outDir: join(dir, 'qkv-2'), nodeId: 'qkv-2' });
  await createClientCertificate({ caDir: dir, outDir: dir, user: 'root' });
  // A second CA with certificates of the same names: only the signature tells them apart.
  await createCa({ dir: otherDir, commonName: 'quorumkv CA' });
  await createNodeCertificate({ caDir: otherDir, outDir: join(otherDir, 'qkv-1'), nodeId: 'qkv-1' });
  await createClientCertificate({ caDir: otherDir, outDir: otherDir, user: 'root' });
});

interface Accepted {
  readonly identity: CertificateIdentity | undefined;
  readonly authorized: boolean;
  readonly authorizationError?: string | undefined;
}

interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly accepted: Accepted[];
  /** The server's reason for each handshake it refused. */
  readonly refused: string[];
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

async function startServer(server: Pair, ca: Buffer, options: { rejectUnauthorized: boolean } = { rejectUnauthorized: true }): Promise<RunningServer> {
  const accepted: Accepted[] = [];
  const refused: string[] = [];
  const tlsServer = createServer({ ...server, ca, requestCert: true, rejectUnauthorized: options.rejectUnauthorized, minVersion: 'TLSv1.3' }, (socket) => {
    const identity = identityOfCertificate(socket.getPeerCertificate());
    if (options.rejectUnauthorized) accepted.push({ identity, authorized: socket.authorized });
    else accepted.push({ identity, authorized: socket.authorized, authorizationError: socket.authorizationError?.toString() });
    socket.end('hello\n');
  });
  tlsServer.on('tlsClientError', (error: Error & { code?: string }) => refused.push(`${error.code ?? ''} ${error.message}`));
  servers.push(tlsServer);
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  return { server: tlsServer, port: (tlsServer.address() as AddressInfo).port, accepted, refused };
}

interface Outcome {
  readonly ok: boolean;
  readonly serverIdentity?: CertificateIdentity | undefined;
  readonly received?: string;
  readonly error?: string;
}

/** Connects, reads the server's greeting; a refusal on either side is `ok: false` with the error. */
function dial(port: number, ca: Buffer, client: Pair | undefined, servername = 'localhost'): Promise<Outcome> {
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca, servername, ...(client ?? {}), rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => {
      if (received === '') finish({ ok: false, error: 'closed by the server without a reply' });
      else finish({ ok: true, serverIdentity: identityOfCertificate(socket.getPeerCertificate()), received });
    });
    socket.on('error', (error: Error & { code?: string }) => finish({ ok: false, error: `${error.code ?? ''} ${error.message}` }));
    socket.setTimeout(10_000, () => finish({ ok: false, error: 'timeout' }));
  });
}

test('a client certificate and a node certificate of the CA are accepted, each side learning the other\'s identity', async () => {
  const ca = await readFile(join(dir, 'ca.crt'));
  const running = await startServer(await pair(join(dir, 'qkv-1', 'node.crt'), join(dir, 'qkv-1', 'node.key')), await readFile(join(dir, 'qkv-1', 'ca.crt')));

  const asUser = await dial(running.port, ca, await pair(join(dir, 'client.root.crt'), join(dir, 'client.root.key')));
  assert.deepEqual(asUser, { ok: true, serverIdentity: { kind: 'node', name: 'qkv-1' }, received: 'hello\n' });

  const asPeer = await dial(running.port, ca, await pair(join(dir, 'qkv-2', 'node.crt'), join(dir, 'qkv-2', 'node.key')));
  assert.ok(asPeer.ok, asPeer.error);

  // Dialled by IP address the node certificate is valid too (IP SAN 127.0.0.1).
  const byAddress = await dial(running.port, ca, await pair(join(dir, 'client.root.crt'), join(dir, 'client.root.key')), '');
  assert.ok(byAddress.ok, byAddress.error);

  assert.deepEqual(running.accepted, [
    { identity: { kind: 'user', name: 'root' }, authorized: true },
    { identity: { kind: 'node', name: 'qkv-2' }, authorized: true },
    { identity: { kind: 'user', name: 'root' }, authorized: true },
  ]);
});

test('a client certificate of another CA, or none, is refused by the server', async () => {
  const ca = await readFile(join(dir, 'ca.crt'));
  const running = await startServer(await pair(join(dir, 'qkv-1', 'node.crt'), join(dir, 'qkv-1', 'node.key')), ca);

  const foreign = await dial(running.port, ca, await pair(join(otherDir, 'client.root.crt'), join(otherDir, 'client.root.key')));
  assert.equal(foreign.ok, false);
  const foreignPeer = await dial(running.port, ca, await pair(join(otherDir, 'qkv-1', 'node.crt'), join(otherDir, 'qkv-1', 'node.key')));
  assert.equal(foreignPeer.ok, false);
  const anonymous = await dial(running.port, ca, undefined);
  assert.equal(anonymous.ok, false);
  assert.deepEqual(running.accepted, [], 'the server accepted no connection');
  // Node drops a handshake with a bad client certificate without saying why; a server
  // that lets it through (rejectUnauthorized: false) shows the verification error.
  await waitFor(() => running.refused.length === 3);
  const lenient = await startServer(await pair(join(dir, 'qkv-1', 'node.crt'), join(dir, 'qkv-1', 'node.key')), ca, { rejectUnauthorized: false });
  await dial(lenient.port, ca, await pair(join(otherDir, 'client.root.crt'), join(otherDir, 'client.root.key')));
  await dial(lenient.port, ca, await pair(join(dir, 'client.root.crt'), join(dir, 'client.root.key')));
  assert.deepEqual(lenient.accepted, [
    { identity: { kind: 'user', name: 'root' }, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    { identity: { kind: 'user', name: 'root' }, authorized: true, authorizationError: undefined },
  ]);
});

test('the client refuses a server certificate of another CA, and a client certificate posing as a server', async () => {
  const ca = await readFile(join(dir, 'ca.crt'));
  const clientPair = await pair(join(dir, 'client.root.crt'), join(dir, 'client.root.key'));

  const foreignServer = await startServer(await pair(join(otherDir, 'qkv-1', 'node.crt'), join(otherDir, 'qkv-1', 'node.key')), ca);
  const foreign = await dial(foreignServer.port, ca, clientPair);
  assert.equal(foreign.ok, false);
  assert.match(foreign.error ?? '', /signature|verify|self.signed|issuer/i);

  // extKeyUsage clientAuth only: OpenSSL will not take it as a server's certificate.
  const posing = await startServer(clientPair, ca);
  const outcome = await dial(posing.port, ca, await pair(join(dir, 'qkv-2', 'node.crt'), join(dir, 'qkv-2', 'node.key')), '');
  assert.equal(outcome.ok, false);
  assert.match(outcome.error ?? '', /purpose|UNSUITABLE/i);
  assert.deepEqual(foreignServer.accepted.length + posing.accepted.length, 0);
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
