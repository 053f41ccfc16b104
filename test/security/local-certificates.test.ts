// ensureLocalCertificates, what `npm start` runs on every start: the first start makes
// the CA, a directory per member and the client certificates; later starts write
// nothing; what is missing, from another CA or near its end is issued again; the CA
// itself is never replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QkvError } from '../../src/errors/errors.js';
import { createCa, createNodeCertificate } from '../../src/security/certificate-authority.js';
import { identityOfCertificate } from '../../src/security/certificate-identity.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { tempDir } from '../support/temp-dir.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NODES = ['qkv-1', 'qkv-2', 'qkv-3'];

test('the first start makes the layout; the next writes nothing', async () => {
  const dir = join(await tempDir(), 'certs');
  const first = await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root'] });
  assert.ok(first.caCreated);
  assert.equal(first.written.length, 2 + 3 * 3 + 2);
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'client.root.crt', 'client.root.key', 'qkv-1', 'qkv-2', 'qkv-3']);
  const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
  for (const nodeId of NODES) {
    const nodeDir = join(dir, nodeId);
    assert.equal(first.nodeDirs.get(nodeId), nodeDir);
    assert.deepEqual((await readdir(nodeDir)).sort(), ['ca.crt', 'node.crt', 'node.key'], 'a member directory never holds ca.key');
    const certificate = new X509Certificate(await readFile(join(nodeDir, 'node.crt')));
    assert.deepEqual(identityOfCertificate(certificate), { kind: 'node', name: nodeId });
    assert.ok(certificate.verify(ca.publicKey));
    assert.equal((await stat(join(nodeDir, 'node.key'))).mode & 0o777, 0o600);
  }
  assert.deepEqual(identityOfCertificate(new X509Certificate(await readFile(join(dir, 'client.root.crt')))), { kind: 'user', name: 'root' });

  const before = await snapshot(dir);
  const second = await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root'] });
  assert.equal(second.caCreated, false);
  assert.deepEqual(second.written, []);
  assert.deepEqual(await snapshot(dir), before);
});

test('only what is missing, broken, from another CA or near its end is issued again', async () => {
  const dir = await tempDir();
  await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root'] });
  const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');

  await unlink(join(dir, 'qkv-1', 'node.key'));
  await writeFile(join(dir, 'qkv-2', 'node.crt'), 'damaged');
  await unlink(join(dir, 'qkv-3', 'ca.crt'));
  const again = await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root', 'reader'] });
  assert.deepEqual(again.written, [
    join(dir, 'qkv-1', 'node.key'),
    join(dir, 'qkv-1', 'node.crt'),
    join(dir, 'qkv-2', 'node.key'),
    join(dir, 'qkv-2', 'node.crt'),
    join(dir, 'qkv-3', 'ca.crt'),
    join(dir, 'client.reader.key'),
    join(dir, 'client.reader.crt'),
  ]);
  assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), caBefore);

  // A certificate of another CA, or for another name, is replaced.
  const otherDir = await tempDir();
  await createCa({ dir: otherDir });
  await createNodeCertificate({ caDir: otherDir, outDir: join(dir, 'qkv-1'), nodeId: 'qkv-1', overwrite: true });
  await createNodeCertificate({ caDir: dir, outDir: join(dir, 'qkv-2'), nodeId: 'qkv-3', overwrite: true });
  const replaced = await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root'] });
  assert.deepEqual(replaced.written, [join(dir, 'qkv-1', 'ca.crt'), join(dir, 'qkv-1', 'node.key'), join(dir, 'qkv-1', 'node.crt'), join(dir, 'qkv-2', 'node.key'), join(dir, 'qkv-2', 'node.crt')]);
  assert.equal(await readFile(join(dir, 'qkv-1', 'ca.crt'), 'utf8'), caBefore);

  // Eleven months on, every leaf has less than 30 days left and is renewed; the CA is kept.
  const later = await ensureLocalCertificates({ dir, nodeIds: NODES, users: ['root'], now: new Date(Date.now() + 340 * DAY_MS) });
  assert.equal(later.caCreated, false);
  assert.equal(later.written.length, 3 * 2 + 2);
  assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), caBefore);
});

test('half a CA is an error, never replaced', async () => {
  const dir = await tempDir();
  await ensureLocalCertificates({ dir, nodeIds: ['qkv-1'], users: [] });
  await unlink(join(dir, 'ca.key'));
  await assert.rejects(ensureLocalCertificates({ dir, nodeIds: ['qkv-1'], users: [] }), (error: unknown) => {
    assert.ok(error instanceof QkvError);
    assert.equal(error.code, 'CERTIFICATE_MISSING');
    assert.match(error.message, /ca\.key does not exist; .*ca\.crt is there without its key/);
    return true;
  });
  assert.ok((await readdir(dir)).includes('ca.crt'));
});

test('names are checked before anything is written', async () => {
  const dir = join(await tempDir(), 'certs');
  await assert.rejects(ensureLocalCertificates({ dir, nodeIds: ['..'], users: [] }), { code: 'CERTIFICATE_NAME_INVALID' });
  await assert.rejects(ensureLocalCertificates({ dir, nodeIds: ['qkv-1'], users: ['Admin'] }), { code: 'CERTIFICATE_NAME_INVALID' });
  await assert.rejects(stat(dir), { code: 'ENOENT' });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath ?? entry.path, entry.name);
      const info = await stat(path);
      files[path] = `${info.mtimeMs} ${info.ino} ${await readFile(path, 'utf8')}`;
    }
  }
  return files;
}
