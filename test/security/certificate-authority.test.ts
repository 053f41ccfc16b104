// The certificate authority library: what the certificates hold (read back by Node's
// X509Certificate and by openssl, a second implementation), the files it writes and
// their modes, and the refusals an operator can meet: an existing CA, a missing or
// damaged one, a bad name, a ca.crt of another CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QkvError } from '../../src/errors/errors.js';
import { createCa, createClientCertificate, createNodeCertificate, loadCa } from '../../src/security/certificate-authority.js';
import { tempDir } from '../support/temp-dir.js';
import { openssl, skipWithoutOpenssl } from '../support/openssl.js';

const DAY_MS = 24 * 60 * 60 * 1000;

async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof QkvError, `expected a QkvError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test('createCa writes a self-signed P-256 CA that loadCa reads back', async () => {
  const dir = join(await tempDir(), 'certs');
  const ca = await createCa({ dir });
  assert.equal(ca.certificatePath, join(dir, 'ca.crt'));
  assert.equal(ca.keyPath, join(dir, 'ca.key'));
  const certificate = new X509Certificate(await readFile(ca.certificatePath));
  assert.equal(certificate.subject, 'CN=quorumkv CA');
  assert.equal(certificate.issuer, 'CN=quorumkv CA');
  assert.ok(certificate.ca);
  assert.ok(certificate.checkIssued(certificate));
  assert.ok(certificate.verify(certificate.publicKey));
  assert.equal(certificate.publicKey.asymmetricKeyType, 'ec');
  assert.equal(certificate.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const lifetimeDays = (new Date(certificate.validTo).getTime() - Date.now()) / DAY_MS;
  assert.ok(lifetimeDays > 3649 && lifetimeDays <= 3650, `CA lifetime ${lifetimeDays} days`);
  assert.match(await readFile(ca.keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);

  const loaded = await loadCa(dir);
  assert.ok(loaded.certificate.raw.equals(certificate.raw));
  // No temporary file is left behind.
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key']);
});

test('keys are written 0600 and certificates 0644; a created directory is 0700', async () => {
  const dir = join(await tempDir(), 'certs');
  await createCa({ dir });
  await createNodeCertificate({ caDir: dir, outDir: join(dir, 'qkv-1'), nodeId: 'qkv-1' });
  await createClientCertificate({ caDir: dir, outDir: dir, user: 'root' });
  assert.equal(await modeOf(dir), 0o700);
  assert.equal(await modeOf(join(dir, 'qkv-1')), 0o700);
  for (const key of ['ca.key', 'qkv-1/node.key', 'client.root.key']) assert.equal(await modeOf(join(dir, key)), 0o600, key);
  for (const certificate of ['ca.crt', 'qkv-1/node.crt', 'qkv-1/ca.crt', 'client.root.crt']) {
    assert.equal(await modeOf(join(dir, certificate)), 0o644, certificate);
  }
});

test('an existing CA is never replaced without overwrite; with it, it is', async () => {
  const dir = await tempDir();
  const first = await createCa({ dir });
  await rejectsWithCode(createCa({ dir }), 'CERTIFICATE_EXISTS', /ca\.key already exists; refusing to replace the CA/);
  assert.equal(await readFile(first.certificatePath, 'utf8'), first.certificatePem);

  // Half a CA (the key lost, the certificate still there) is refused as well.
  const halfDir = await tempDir();
  await createCa({ dir: halfDir });
  await writeFile(join(halfDir, 'ca.key.bak'), await readFile(join(halfDir, 'ca.key')));
  const { unlink } = await import('node:fs/promises');
  await unlink(join(halfDir, 'ca.key'));
  await rejectsWithCode(createCa({ dir: halfDir }), 'CERTIFICATE_EXISTS', /ca\.crt already exists/);

  const second = await createCa({ dir, overwrite: true, commonName: 'second CA' });
  assert.notEqual(second.certificatePem, first.certificatePem);
  assert.equal(new X509Certificate(await readFile(join(dir, 'ca.crt'))).subject, 'CN=second CA');
});

test('a node certificate names its member in a URI SAN and is valid for the local hosts and the given ones', async () => {
  const dir = await tempDir();
  await createCa({ dir });
  const issued = await createNodeCertificate({
    caDir: dir,
    outDir: join(dir, 'qkv-1'),
    nodeId: 'qkv-1',
    hosts: ['quorumkv-1.quorumkv.default.svc.cluster.local', '10.0.0.7', '[fd00::7]', 'LocalHost'],
  });
  const certificate = new X509Certificate(await readFile(issued.certificatePath));
  const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
  assert.equal(certificate.subject, 'O=quorumkv\nOU=node\nCN=qkv-1');
  assert.equal(certificate.issuer, 'CN=quorumkv CA');
  assert.ok(!certificate.ca);
  assert.ok(certificate.checkIssued(ca));
  assert.ok(certificate.verify(ca.publicKey));
  assert.equal(certificate.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(
    certificate.subjectAltName,
    'URI:quorumkv://node/qkv-1, DNS:localhost, DNS:quorumkv-1.quorumkv.default.svc.cluster.local, ' +
      'IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.7, IP Address:FD00:0:0:0:0:0:0:7',
  );
  assert.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // Node names the extKeyUsage keyUsage
  assert.equal(certificate.checkHost('localhost'), 'localhost');
  assert.equal(certificate.checkIP('10.0.0.7'), '10.0.0.7');
  assert.equal(certificate.checkHost('qkv-2'), undefined);
  const lifetimeDays = (new Date(certificate.validTo).getTime() - Date.now()) / DAY_MS;
  assert.ok(lifetimeDays > 364 && lifetimeDays <= 365, `node lifetime ${lifetimeDays} days`);
  assert.equal(issued.caCertificateWrittenPath, join(dir, 'qkv-1', 'ca.crt'));
  assert.equal(await readFile(join(dir, 'qkv-1', 'ca.crt'), 'utf8'), await readFile(join(dir, 'ca.crt'), 'utf8'));
  assert.deepEqual((await readdir(join(dir, 'qkv-1'))).sort(), ['ca.crt', 'node.crt', 'node.key']);
});

test('a client certificate is for client authentication only', async () => {
  const dir = await tempDir();
  const ca = await createCa({ dir });
  const issued = await createClientCertificate({ ca, outDir: dir, user: 'app_1.reader' });
  assert.equal(issued.certificatePath, join(dir, 'client.app_1.reader.crt'));
  assert.equal(issued.keyPath, join(dir, 'client.app_1.reader.key'));
  assert.equal(issued.caCertificateWrittenPath, undefined); // dir/ca.crt is the CA itself
  const certificate = new X509Certificate(await readFile(issued.certificatePath));
  assert.equal(certificate.subject, 'O=quorumkv\nOU=client\nCN=app_1.reader');
  assert.equal(certificate.subjectAltName, 'URI:quorumkv://user/app_1.reader');
  assert.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(certificate.verify(ca.certificate.publicKey));
});

test('openssl verifies the chain and reads the contract from the certificates', { skip: skipWithoutOpenssl() }, async () => {
  const dir = await tempDir();
  await createCa({ dir, commonName: 'test CA' });
  await createNodeCertificate({ caDir: dir, outDir: join(dir, 'qkv-1'), nodeId: 'qkv-1', hosts: ['db.example.com', '192.0.2.1'] });
  await createClientCertificate({ caDir: dir, outDir: dir, user: 'root' });
  const caFile = join(dir, 'ca.crt');

  const verified = await openssl(['verify', '-CAfile', caFile, join(dir, 'qkv-1', 'node.crt'), join(dir, 'client.root.crt')]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /node\.crt: OK/);
  assert.match(verified.stdout, /client\.root\.crt: OK/);
  // Purposes: a node serves and connects; a client only connects.
  const asServer = await openssl(['verify', '-purpose', 'sslserver', '-CAfile', caFile, join(dir, 'qkv-1', 'node.crt')]);
  assert.equal(asServer.code, 0, asServer.stdout + asServer.stderr);
  const nodeAsClient = await openssl(['verify', '-purpose', 'sslclient', '-CAfile', caFile, join(dir, 'qkv-1', 'node.crt')]);
  assert.equal(nodeAsClient.code, 0, nodeAsClient.stdout + nodeAsClient.stderr);
  const clientAsServer = await openssl(['verify', '-purpose', 'sslserver', '-CAfile', caFile, join(dir, 'client.root.crt')]);
  assert.notEqual(clientAsServer.code, 0, 'a client certificate must not pass as a server certificate');

  const caText = (await openssl(['x509', '-in', caFile, '-noout', '-text'])).stdout;
  assert.match(caText, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(caText, /Subject: CN ?= ?test CA/);
  assert.match(caText, /NIST CURVE: P-256|ASN1 OID: prime256v1/);
  assert.match(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
  assert.match(caText, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);

  const nodeText = (await openssl(['x509', '-in', join(dir, 'qkv-1', 'node.crt'), '-noout', '-text'])).stdout;
  assert.match(nodeText, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(nodeText, /Subject: O ?= ?quorumkv, OU ?= ?node, CN ?= ?qkv-1/);
  assert.match(nodeText, /X509v3 Key Usage: critical\s+Digital Signature\n/);
  assert.match(nodeText, /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication\n/);
  assert.match(nodeText, /URI:quorumkv:\/\/node\/qkv-1, DNS:localhost, DNS:db\.example\.com, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192\.0\.2\.1/);

  const clientText = (await openssl(['x509', '-in', join(dir, 'client.root.crt'), '-noout', '-text'])).stdout;
  assert.match(clientText, /Subject: O ?= ?quorumkv, OU ?= ?client, CN ?= ?root/);
  assert.match(clientText, /X509v3 Extended Key Usage: \s*TLS Web Client Authentication\n/);
  assert.match(clientText, /X509v3 Subject Alternative Name: \s*URI:quorumkv:\/\/user\/root\n/);

  // The key files are plain PKCS#8 EC keys that openssl reads.
  const key = await openssl(['pkey', '-in', join(dir, 'qkv-1', 'node.key'), '-noout', '-text']);
  assert.equal(key.code, 0, key.stderr);
  assert.match(key.stdout, /prime256v1|P-256/);
});

test('node and client certificates are refused without a CA, and name the missing file', async () => {
  const dir = await tempDir();
  await rejectsWithCode(createNodeCertificate({ caDir: dir, outDir: dir, nodeId: 'qkv-1' }), 'CERTIFICATE_MISSING', /ca\.crt does not exist; create a CA/);
  await createCa({ dir });
  const { unlink } = await import('node:fs/promises');
  await unlink(join(dir, 'ca.key'));
  await rejectsWithCode(createClientCertificate({ caDir: dir, outDir: dir, user: 'root' }), 'CERTIFICATE_MISSING', /ca\.key does not exist/);
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt']);
});

test('a damaged or mismatched CA is CERTIFICATE_INVALID', async () => {
  const dir = await tempDir();
  const other = await tempDir();
  await createCa({ dir });
  await createCa({ dir: other });
  // The key of another CA.
  await writeFile(join(dir, 'ca.key'), await readFile(join(other, 'ca.key')));
  await rejectsWithCode(loadCa(dir), 'CERTIFICATE_INVALID', /is not the key of/);
  // An RSA key.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  await writeFile(join(dir, 'ca.key'), rsa);
  await rejectsWithCode(loadCa(dir), 'CERTIFICATE_INVALID', /is a rsa key; quorumkv CAs use ECDSA P-256/);
  // Not PEM at all.
  await writeFile(join(dir, 'ca.crt'), 'not a certificate\n');
  await rejectsWithCode(loadCa(dir), 'CERTIFICATE_INVALID', /ca\.crt: is not a PEM certificate/);
  // A leaf certificate is not a CA.
  const leafDir = await tempDir();
  await createCa({ dir: leafDir });
  await createNodeCertificate({ caDir: leafDir, outDir: leafDir, nodeId: 'qkv-1' });
  await writeFile(join(leafDir, 'ca.crt'), await readFile(join(leafDir, 'node.crt')));
  await writeFile(join(leafDir, 'ca.key'), await readFile(join(leafDir, 'node.key')));
  await rejectsWithCode(loadCa(leafDir), 'CERTIFICATE_INVALID', /is not a CA certificate/);
  // A directory where the certificate should be, and a file far too large to be one.
  const oddDir = await tempDir();
  await mkdir(join(oddDir, 'ca.crt'));
  await rejectsWithCode(loadCa(oddDir), 'CERTIFICATE_INVALID', /ca\.crt: cannot be read \(EISDIR\)/);
  const largeDir = await tempDir();
  await writeFile(join(largeDir, 'ca.crt'), Buffer.alloc(1024 * 1024 + 1));
  await rejectsWithCode(loadCa(largeDir), 'CERTIFICATE_INVALID', /is 1048577 bytes, more than the 1048576/);
});

test('an expired CA issues nothing; no certificate outlives its CA', async () => {
  const expiredDir = await tempDir();
  await createCa({ dir: expiredDir, validityDays: 1, now: new Date(Date.now() - 3 * DAY_MS) });
  await rejectsWithCode(createNodeCertificate({ caDir: expiredDir, outDir: expiredDir, nodeId: 'qkv-1' }), 'CERTIFICATE_INVALID', /the CA expired on/);

  const dir = await tempDir();
  const ca = await createCa({ dir, validityDays: 30 });
  const issued = await createClientCertificate({ ca, outDir: dir, user: 'root' });
  assert.ok(issued.limitedByCa);
  assert.equal(issued.notAfter.getTime(), ca.notAfter.getTime());
  const short = await createNodeCertificate({ ca, outDir: join(dir, 'n'), nodeId: 'n', validityDays: 7 });
  assert.ok(!short.limitedByCa);
});

test('bad node ids, user names, hosts and CA names are CERTIFICATE_NAME_INVALID and write nothing', async () => {
  const dir = await tempDir();
  const ca = await createCa({ dir });
  const before = (await readdir(dir)).sort();
  for (const nodeId of ['', 'QKV-1', '-qkv', '.', '..', 'a/b', 'qkv 1', 'x'.repeat(64), 'é']) {
    await rejectsWithCode(createNodeCertificate({ ca, outDir: join(dir, 'n'), nodeId }), 'CERTIFICATE_NAME_INVALID', /^node id /);
  }
  for (const user of ['', 'Root', '../root', 'root:admin', 'a'.repeat(64)]) {
    await rejectsWithCode(createClientCertificate({ ca, outDir: dir, user }), 'CERTIFICATE_NAME_INVALID', /^user name /);
  }
  for (const host of ['-bad.example', 'under_score.example', 'a..b', 'x'.repeat(64) + '.example', 'http://x', '*']) {
    await rejectsWithCode(createNodeCertificate({ ca, outDir: join(dir, 'n'), nodeId: 'qkv-1', hosts: [host] }), 'CERTIFICATE_NAME_INVALID', /^host /);
  }
  const manyHosts = Array.from({ length: 100 }, (_, index) => `h${index}.example`);
  await rejectsWithCode(createNodeCertificate({ ca, outDir: join(dir, 'n'), nodeId: 'qkv-1', hosts: manyHosts }), 'CERTIFICATE_NAME_INVALID', /longer than the 100 hosts/);
  await rejectsWithCode(createCa({ dir: join(dir, 'ca2'), commonName: '' }), 'CERTIFICATE_NAME_INVALID');
  await rejectsWithCode(createCa({ dir: join(dir, 'ca2'), commonName: 'bad\nname' }), 'CERTIFICATE_NAME_INVALID', /control characters/);
  assert.deepEqual((await readdir(dir)).sort(), before);
  // The longest names and a wildcard DNS name do fit.
  const longest = 'a'.repeat(63);
  await createNodeCertificate({ ca, outDir: join(dir, 'n'), nodeId: longest, hosts: ['*.quorumkv.svc.cluster.local'] });
  await createClientCertificate({ ca, outDir: dir, user: longest });
});

test('node and client certificates are not replaced without overwrite', async () => {
  const dir = await tempDir();
  const ca = await createCa({ dir });
  const first = await createNodeCertificate({ ca, outDir: dir, nodeId: 'qkv-1' });
  await rejectsWithCode(createNodeCertificate({ ca, outDir: dir, nodeId: 'qkv-1' }), 'CERTIFICATE_EXISTS', /node\.key already exists; pass --overwrite/);
  assert.equal(await readFile(first.certificatePath, 'utf8'), first.certificatePem);
  const second = await createNodeCertificate({ ca, outDir: dir, nodeId: 'qkv-1', overwrite: true });
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.equal(await readFile(second.certificatePath, 'utf8'), second.certificatePem);
});

test('a ca.crt of another CA in the output directory is not silently replaced', async () => {
  const caDir = await tempDir();
  const otherDir = await tempDir();
  const outDir = await tempDir();
  await createCa({ dir: caDir });
  await createCa({ dir: otherDir });
  await writeFile(join(outDir, 'ca.crt'), await readFile(join(otherDir, 'ca.crt')));
  await rejectsWithCode(createNodeCertificate({ caDir, outDir, nodeId: 'qkv-1' }), 'CERTIFICATE_EXISTS', /does not hold the CA/);
  assert.deepEqual(await readdir(outDir), ['ca.crt']);
  // A bundle holding both CAs (a CA rotation in progress) is kept as it is.
  const bundle = (await readFile(join(otherDir, 'ca.crt'), 'utf8')) + (await readFile(join(caDir, 'ca.crt'), 'utf8'));
  await writeFile(join(outDir, 'ca.crt'), bundle);
  const issued = await createNodeCertificate({ caDir, outDir, nodeId: 'qkv-1' });
  assert.equal(issued.caCertificateWrittenPath, undefined);
  assert.equal(await readFile(join(outDir, 'ca.crt'), 'utf8'), bundle);
});

test('a reader never sees half a certificate or key while they are replaced', async () => {
  const dir = await tempDir();
  const ca = await createCa({ dir });
  await createNodeCertificate({ ca, outDir: dir, nodeId: 'qkv-1' });
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const [certificate, key] = await Promise.all([readFile(join(dir, 'node.crt'), 'utf8'), readFile(join(dir, 'node.key'), 'utf8')]);
      assert.match(certificate, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n+$/);
      assert.match(key, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
      new X509Certificate(certificate);
      reads++;
    }
  })();
  try {
    for (let round = 0; round < 30; round++) await createNodeCertificate({ ca, outDir: dir, nodeId: 'qkv-1', overwrite: true });
  } finally {
    writing = false;
    await reader;
  }
  assert.ok(reads > 0);
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'node.crt', 'node.key'], 'no temporary file is left');
});
