// Certificate files: checked as a whole set at start, and a changed set is taken only
// when whole and naming the expected identity (rotation without a restart;
// src/security/watched-certificates.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createClientCertificate, createNodeCertificate } from '../../src/security/certificate-authority.js';
import { WatchedCertificates, readCertificateSet } from '../../src/security/watched-certificates.js';
import { isQkvError } from '../../src/errors/errors.js';
import { tempDir } from '../support/temp-dir.js';

async function nodeDir(caDir: string, nodeId: string): Promise<string> {
  const dir = join(await tempDir(), nodeId);
  await createNodeCertificate({ caDir, outDir: dir, nodeId });
  return dir;
}

const QKV_1 = { kind: 'node', name: 'qkv-1' } as const;

const withCode = (code: string) => (error: unknown) => isQkvError(error) && error.code === code;

test('a whole set is read with the node it names; a missing, foreign or mismatched file is refused with its code', async () => {
  const caDir = await tempDir();
  await createCa({ dir: caDir });
  const dir = await nodeDir(caDir, 'qkv-1');
  const set = await readCertificateSet({ dir, expected: QKV_1 });
  assert.ok(set.certificate.equals(await readFile(join(dir, 'node.crt'))));
  // Another member's certificate is not this node's.
  await assert.rejects(readCertificateSet({ dir, expected: { kind: 'node', name: 'qkv-2' } }), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /names node qkv-1, not node qkv-2/.test(String(error)));
  // Not valid yet, or no longer.
  await assert.rejects(readCertificateSet({ dir, expected: QKV_1 }, new Date(Date.now() - 86_400_000)), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /not valid before/.test(String(error)));
  await assert.rejects(readCertificateSet({ dir, expected: QKV_1 }, new Date(Date.now() + 400 * 86_400_000)), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /expired/.test(String(error)));

  await assert.rejects(readCertificateSet({ dir: await tempDir(), expected: QKV_1 }), withCode('CERTIFICATE_MISSING'));

  // A node certificate of another CA beside this CA's ca.crt.
  const otherCa = await tempDir();
  await createCa({ dir: otherCa });
  const foreign = await nodeDir(otherCa, 'qkv-1');
  await copyFile(join(caDir, 'ca.crt'), join(foreign, 'ca.crt'));
  await assert.rejects(readCertificateSet({ dir: foreign, expected: QKV_1 }), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /not signed by the CA/.test(String(error)));

  // A key of another certificate.
  const second = await nodeDir(caDir, 'qkv-2');
  await copyFile(join(second, 'node.key'), join(dir, 'node.key'));
  await assert.rejects(readCertificateSet({ dir: dir, expected: QKV_1 }), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /does not belong/.test(String(error)));

  // A client certificate where a node certificate belongs.
  const clientDir = await tempDir();
  await createClientCertificate({ caDir, outDir: clientDir, user: 'alice' });
  const posing = await tempDir();
  await copyFile(join(clientDir, 'client.alice.crt'), join(posing, 'node.crt'));
  await copyFile(join(clientDir, 'client.alice.key'), join(posing, 'node.key'));
  await copyFile(join(caDir, 'ca.crt'), join(posing, 'ca.crt'));
  await assert.rejects(readCertificateSet({ dir: posing, expected: QKV_1 }), (error: unknown) => withCode('CERTIFICATE_INVALID')(error) && /names user alice, not node qkv-1/.test(String(error)));
});

test('a rotated set is published to the listeners; a half-written one is refused and the old one stays', async () => {
  const caDir = await tempDir();
  await createCa({ dir: caDir });
  const dir = await nodeDir(caDir, 'qkv-1');
  const rotated: string[] = [];
  const refused: string[] = [];
  const certificates = await WatchedCertificates.open({ dir, expected: QKV_1, refreshIntervalMs: 3_600_000, onRotated: (set) => rotated.push(set.notAfter), onRefused: (error) => refused.push(error.message) });
  try {
    const published: Buffer[] = [];
    certificates.addIdentityCertificateListener((update) => {
      if (update !== null) published.push(update.certificate);
    });
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(published.length, 1, 'a new listener hears the set in use at once');
    const first = published[0]!;

    await certificates.refresh();
    assert.equal(published.length, 1, 'unchanged files publish nothing');

    // Half a rotation: a new certificate whose key is not written yet.
    const next = await nodeDir(caDir, 'qkv-1');
    await copyFile(join(next, 'node.crt'), join(dir, 'node.crt'));
    await certificates.refresh();
    assert.equal(published.length, 1);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /does not belong/);
    assert.ok(certificates.set.certificate.equals(first), 'the previous set stays in use');

    // Another member's whole set (an operator's slip): refused, the old set stays.
    const other = await nodeDir(caDir, 'qkv-2');
    const saved = { certificate: await readFile(join(dir, 'node.crt')), key: await readFile(join(dir, 'node.key')) };
    await copyFile(join(other, 'node.crt'), join(dir, 'node.crt'));
    await copyFile(join(other, 'node.key'), join(dir, 'node.key'));
    await certificates.refresh();
    assert.equal(published.length, 1);
    assert.match(refused.at(-1)!, /names node qkv-2, not node qkv-1/);
    await writeFile(join(dir, 'node.crt'), saved.certificate);
    await writeFile(join(dir, 'node.key'), saved.key);

    // The key arrives: the whole new set is taken.
    await writeFile(join(dir, 'node.key'), await readFile(join(next, 'node.key')));
    await certificates.refresh();
    assert.equal(published.length, 2);
    assert.ok(published[1]!.equals(await readFile(join(next, 'node.crt'))));
    assert.equal(rotated.length, 1);
  } finally {
    certificates.close();
  }
});

test('ca.crt may hold the old and the new CA while a CA is rotated', async () => {
  const oldCa = await tempDir();
  await createCa({ dir: oldCa });
  const newCa = await tempDir();
  await createCa({ dir: newCa });
  const dir = await nodeDir(newCa, 'qkv-1');
  await writeFile(join(dir, 'ca.crt'), (await readFile(join(oldCa, 'ca.crt'), 'utf8')) + (await readFile(join(newCa, 'ca.crt'), 'utf8')));
  assert.ok((await readCertificateSet({ dir, expected: QKV_1 })).ca.length > 0);
  await writeFile(join(dir, 'ca.crt'), await readFile(join(oldCa, 'ca.crt')));
  await assert.rejects(readCertificateSet({ dir: dir, expected: QKV_1 }), withCode('CERTIFICATE_INVALID'));
});
