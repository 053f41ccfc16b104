// Independent clients over TLS, and certificate rotation on a running node:
// - grpcurl (Go's grpc, the client the README shows) with the admin client
//   certificate puts and gets; without a certificate it is refused UNAUTHENTICATED;
// - a node's certificate files replaced while it runs: new connections get the new
//   certificate within the refresh interval, with no restart, and the cluster keeps
//   serving writes at W=3 (the peers' mutual TLS uses it too).
// grpcurl is built by scripts/grpcurl-env.sh (QKV_GRPCURL); CI sets it and requires it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { createClientCertificate, createNodeCertificate } from '../../src/security/certificate-authority.js';
import { watchedClientCredentials } from '../../src/security/tls-credentials.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { CERTIFICATE_REFRESH_INTERVAL_MS } from '../../src/limits.js';

const PROTO_ROOT = new URL('../../../proto', import.meta.url).pathname;

function grpcurlPath(): string | undefined {
  const fromEnv = process.env.QKV_GRPCURL;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const cached = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'quorumkv', 'grpcurl-v1.9.4', 'bin', 'grpcurl');
  return existsSync(cached) ? cached : undefined;
}

const grpcurl = grpcurlPath();
const grpcurlSkip = grpcurl === undefined ? 'grpcurl is not built (bash scripts/grpcurl-env.sh)' : false;
if (grpcurl === undefined && process.env.QKV_GRPCURL_REQUIRED === '1') throw new Error('QKV_GRPCURL_REQUIRED=1 but grpcurl was not found; run scripts/grpcurl-env.sh');

let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir() });
});

after(async () => {
  await cluster?.stopAll();
});

function run(file: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function grpcurlArgs(withCertificate: boolean, data: object, method: string): string[] {
  const certs = cluster.certsDir!;
  return [
    '-cacert', join(certs, 'ca.crt'),
    ...(withCertificate ? ['-cert', join(certs, 'client.admin.crt'), '-key', join(certs, 'client.admin.key')] : []),
    // The node certificates name localhost; grpcurl checks the host name as TLS clients do.
    '-servername', 'localhost',
    '-import-path', PROTO_ROOT, '-proto', 'quorumkv/v1/kv.proto',
    '-d', JSON.stringify(data),
    cluster.address('qkv-1'),
    method,
  ];
}

test('grpcurl over TLS with the admin client certificate puts and gets; without one it is UNAUTHENTICATED', { skip: grpcurlSkip }, async () => {
  const value = Buffer.from('from grpcurl').toString('base64');
  const key = Buffer.from('grpcurl-key').toString('base64');
  const put = await run(grpcurl!, grpcurlArgs(true, { key, value, w: 3 }, 'quorumkv.v1.KV/Put'));
  assert.equal(put.code, 0, put.stderr);
  const got = await run(grpcurl!, grpcurlArgs(true, { key, r: 3 }, 'quorumkv.v1.KV/Get'));
  assert.equal(got.code, 0, got.stderr);
  assert.equal((JSON.parse(got.stdout) as { value?: string }).value, value);
  const anonymous = await run(grpcurl!, grpcurlArgs(false, { key }, 'quorumkv.v1.KV/Get'));
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /Unauthenticated/);
});

/** The certificate a fresh TLS connection to `port` is shown. */
function certificateOf(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'quorumkv', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}

test('a node certificate replaced on disk is used for new connections without a restart', async () => {
  const node = cluster.node('qkv-2');
  const before = await certificateOf(node.grpcPort);
  const beforePeer = await certificateOf(node.peerPort);
  assert.equal(before.fingerprint256, beforePeer.fingerprint256);
  const pid = node.child?.pid;

  // What an operator (or cert-manager) does: a new certificate and key for the same node.
  await createNodeCertificate({ caDir: cluster.certsDir!, outDir: node.tlsDir!, nodeId: 'qkv-2', overwrite: true });
  const issued = await readFile(join(node.tlsDir!, 'node.crt'), 'utf8');
  const deadline = Date.now() + CERTIFICATE_REFRESH_INTERVAL_MS * 4;
  let after = before;
  while (after.fingerprint256 === before.fingerprint256 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    after = await certificateOf(node.grpcPort);
  }
  assert.notEqual(after.fingerprint256, before.fingerprint256, 'the client port still shows the old certificate');
  assert.ok(issued.includes(after.raw.toString('base64').slice(0, 60)), 'the client port shows the certificate just written');
  assert.equal((await certificateOf(node.peerPort)).fingerprint256, after.fingerprint256, 'the peer port shows it too');
  assert.equal(node.child?.pid, pid, 'no restart');
  assert.match(await cluster.metrics('qkv-2'), /qkv_certificate_reloads_total\{[^}]*outcome="rotated"[^}]*\} 1/);

  // Peers reach the rotated node over mutual TLS (new connections after a restart of theirs too).
  await cluster.terminate('qkv-1');
  await cluster.restart('qkv-1');
  const client = cluster.client(['qkv-1']);
  try {
    const put = await client.put(Buffer.from('after-rotation'), Buffer.from('v'), { w: 3 });
    assert.equal(put.acks, 3);
  } finally {
    client.close();
  }
});

test('a long-running client (the scale controller) takes a renewed client certificate for its new connections', async () => {
  const { credentials, certificates } = await watchedClientCredentials(cluster.certsDir!, 'admin');
  try {
    const before = certificates.set.certificate;
    const first = new QuorumKvClient({ addresses: [cluster.address('qkv-3')], timeoutMs: 5_000, credentials });
    assert.equal((await first.status()).nodeId, 'qkv-3');
    first.close();
    await createClientCertificate({ caDir: cluster.certsDir!, outDir: cluster.certsDir!, user: 'admin', overwrite: true });
    await certificates.refresh();
    assert.ok(!certificates.set.certificate.equals(before), 'the renewed certificate is in use');
    const second = new QuorumKvClient({ addresses: [cluster.address('qkv-3')], timeoutMs: 5_000, credentials });
    try {
      assert.equal((await second.status()).nodeId, 'qkv-3');
    } finally {
      second.close();
    }
  } finally {
    certificates.close();
  }
});
