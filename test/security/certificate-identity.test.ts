// identityOfCertificate on real certificates: ours, and hand-made ones that try to
// claim an identity they should not get (two claims, a claim hidden inside another
// URI's text, a malformed or upper-case claim, an identity only in the CN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { createCa, createClientCertificate, createNodeCertificate, type CertificateAuthority } from '../../src/security/certificate-authority.js';
import { identityOfCertificate, identityOfUri, identityUri, parseSubjectAltNames } from '../../src/security/certificate-identity.js';
import { x509 } from '../../src/security/x509-library.js';
import { tempDir } from '../support/temp-dir.js';

/** A certificate signed by `ca` with exactly the given SANs and subject, for the negative cases. */
async function handMade(ca: CertificateAuthority, altNames: x509.JsonGeneralName[], subject = 'CN=qkv-1'): Promise<X509Certificate> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const extensions: x509.Extension[] = altNames.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(altNames)];
  const certificate = await x509.X509CertificateGenerator.create({
    subject,
    issuer: new x509.X509Certificate(ca.certificate.raw).subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return new X509Certificate(certificate.toString('pem'));
}

/** What a TLS socket's getPeerCertificate() carries for this certificate (the fields the function reads). */
function asPeerCertificate(certificate: X509Certificate): PeerCertificate {
  return { subjectaltname: certificate.subjectAltName, raw: certificate.raw } as unknown as PeerCertificate;
}

test('the identity of our node and client certificates, parsed and as a TLS peer certificate', async () => {
  const dir = await tempDir();
  const ca = await createCa({ dir });
  const node = await createNodeCertificate({ ca, outDir: dir, nodeId: 'quorumkv-2', hosts: ['10.1.2.3', 'db.example.com'] });
  const client = await createClientCertificate({ ca, outDir: dir, user: 'root' });
  const nodeCertificate = new X509Certificate(node.certificatePem);
  const clientCertificate = new X509Certificate(client.certificatePem);
  assert.deepEqual(identityOfCertificate(nodeCertificate), { kind: 'node', name: 'quorumkv-2' });
  assert.deepEqual(identityOfCertificate(clientCertificate), { kind: 'user', name: 'root' });
  assert.deepEqual(identityOfCertificate(asPeerCertificate(nodeCertificate)), { kind: 'node', name: 'quorumkv-2' });
  assert.deepEqual(identityOfCertificate(asPeerCertificate(clientCertificate)), { kind: 'user', name: 'root' });
  // The CA has no identity.
  assert.equal(identityOfCertificate(ca.certificate), undefined);
});

test('the string form a TLS socket reports', () => {
  const peer = (subjectaltname: string | undefined): PeerCertificate => ({ subjectaltname }) as unknown as PeerCertificate;
  assert.deepEqual(identityOfCertificate(peer('DNS:localhost, URI:quorumkv://node/qkv-1, IP Address:127.0.0.1')), { kind: 'node', name: 'qkv-1' });
  assert.deepEqual(identityOfCertificate(peer('URI:spiffe://cluster.local/ns/x, URI:quorumkv://user/app')), { kind: 'user', name: 'app' });
  assert.equal(identityOfCertificate(peer(undefined)), undefined);
  assert.equal(identityOfCertificate(peer('')), undefined);
  assert.equal(identityOfCertificate(peer('DNS:qkv-1')), undefined);
  assert.equal(identityOfCertificate(peer('URI:quorumkv://node/qkv-1, URI:quorumkv://node/qkv-2')), undefined);
  assert.equal(identityOfCertificate(peer('URI:quorumkv://node/qkv-1, URI:quorumkv://user/qkv-1')), undefined);
  // Node quotes a value with a comma as JSON: the inner text is one (malformed) claim, not a second entry.
  assert.equal(identityOfCertificate(peer('URI:"quorumkv://user/x, URI:quorumkv://node/qkv-1"')), undefined);
  assert.deepEqual(identityOfCertificate(peer('URI:"spiffe://a, URI:quorumkv://node/evil", URI:quorumkv://user/app')), { kind: 'user', name: 'app' });
  assert.equal(identityOfCertificate(peer('URI:"unterminated')), undefined);
  assert.equal(identityOfCertificate(peer('garbage')), undefined);
});

test('only exactly quorumkv://node/<name> or quorumkv://user/<name> with a valid name is an identity', () => {
  assert.deepEqual(identityOfUri('quorumkv://node/qkv-1'), { kind: 'node', name: 'qkv-1' });
  assert.deepEqual(identityOfUri('quorumkv://user/a.b_c-9'), { kind: 'user', name: 'a.b_c-9' });
  for (const uri of [
    'quorumkv://node/',
    'quorumkv://node/QKV-1',
    'quorumkv://node/qkv-1/',
    'quorumkv://node/qkv-1?x=1',
    'quorumkv://node/qkv-1#x',
    'quorumkv://node/qkv%2D1',
    'quorumkv://node/..',
    'quorumkv://admin/root',
    'quorumkv://Node/qkv-1',
    'QUORUMKV://node/qkv-1',
    'quorumkv:node/qkv-1',
    `quorumkv://user/${'a'.repeat(64)}`,
  ]) {
    assert.equal(identityOfUri(uri), undefined, uri);
  }
  assert.equal(identityUri({ kind: 'node', name: 'qkv-1' }), 'quorumkv://node/qkv-1');
  assert.throws(() => identityUri({ kind: 'user', name: 'Root' }), { code: 'CERTIFICATE_NAME_INVALID' });
});

test('hand-made certificates: no identity unless exactly one well-formed quorumkv URI SAN', async () => {
  const ca = await createCa({ dir: await tempDir() });
  const cases: Array<[string, x509.JsonGeneralName[], { kind: string; name: string } | undefined]> = [
    ['one claim among other SANs', [{ type: 'dns', value: 'x.example' }, { type: 'url', value: 'quorumkv://node/qkv-3' }, { type: 'ip', value: '10.0.0.1' }], { kind: 'node', name: 'qkv-3' }],
    ['no SAN extension at all (a CN is not an identity)', [], undefined],
    ['a DNS name equal to a node id', [{ type: 'dns', value: 'qkv-1' }], undefined],
    ['two claims', [{ type: 'url', value: 'quorumkv://node/qkv-1' }, { type: 'url', value: 'quorumkv://node/qkv-2' }], undefined],
    ['the same claim twice', [{ type: 'url', value: 'quorumkv://node/qkv-1' }, { type: 'url', value: 'quorumkv://node/qkv-1' }], undefined],
    ['a claim hidden after a comma', [{ type: 'url', value: 'spiffe://x, URI:quorumkv://node/qkv-1' }], undefined],
    ['a malformed claim beside a good one', [{ type: 'url', value: 'quorumkv://node/qkv-1' }, { type: 'url', value: 'QuorumKV://user/root' }], undefined],
    ['a claim with a path', [{ type: 'url', value: 'quorumkv://node/qkv-1/extra' }], undefined],
    ['a claim as a DNS name', [{ type: 'dns', value: 'quorumkv://node/qkv-1' }], undefined],
    ['another scheme only', [{ type: 'url', value: 'spiffe://cluster.local/ns/default/sa/qkv' }], undefined],
  ];
  for (const [name, altNames, expected] of cases) {
    const certificate = await handMade(ca, altNames);
    assert.ok(certificate.verify(ca.certificate.publicKey), name);
    assert.deepEqual(identityOfCertificate(certificate), expected, `${name}: ${certificate.subjectAltName ?? '(no SAN)'}`);
    assert.deepEqual(identityOfCertificate(asPeerCertificate(certificate)), expected, `${name} (peer form)`);
  }
});

test('parseSubjectAltNames splits Node\'s text form and honours its quoting', () => {
  assert.deepEqual(parseSubjectAltNames('DNS:a, IP Address:::1, URI:quorumkv://node/x'), [
    { type: 'DNS', value: 'a' },
    { type: 'IP Address', value: '::1' },
    { type: 'URI', value: 'quorumkv://node/x' },
  ]);
  assert.deepEqual(parseSubjectAltNames('URI:"a, b\\"c", DNS:d'), [
    { type: 'URI', value: 'a, b"c' },
    { type: 'DNS', value: 'd' },
  ]);
  assert.equal(parseSubjectAltNames('URI:"a", DNS'), undefined);
  assert.equal(parseSubjectAltNames('URI:"a"x'), undefined);
});
