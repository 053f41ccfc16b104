// `qkv certs` as an operator runs it (the built CLI in a child process): create a CA,
// node and client certificates, list them; each file written is named on stdout; the
// refusals are one `qkv: CODE: message` line with exit code 1, usage mistakes exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { identityOfCertificate } from '../../src/security/certificate-identity.js';
import { MAIN_SCRIPT } from '../support/process-cluster.js';
import { openssl, skipWithoutOpenssl } from '../support/openssl.js';
import { tempDir } from '../support/temp-dir.js';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function qkv(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_SCRIPT, ...args], { timeout: 30_000, env: { ...process.env, QKV_CERTS_DIR: '', ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

test('create-ca, create-node, create-client and list, end to end', async (context) => {
  const root = await tempDir();
  const caDir = join(root, 'ca');
  const nodeDir = join(root, 'node-1');

  const ca = await qkv(['certs', 'create-ca', '--certs-dir', caDir]);
  assert.equal(ca.code, 0, ca.stderr);
  assert.equal(ca.stderr, '');
  assert.match(ca.stdout, new RegExp(`^wrote ${join(caDir, 'ca.key')}  \\(CA private key, mode 0600`, 'm'));
  assert.match(ca.stdout, new RegExp(`^wrote ${join(caDir, 'ca.crt')}  \\(CA certificate, CN=quorumkv CA, valid until 20`, 'm'));

  const again = await qkv(['certs', 'create-ca', '--certs-dir', caDir]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /^qkv: CERTIFICATE_EXISTS: .*ca\.key already exists; refusing to replace the CA.*--overwrite/);

  const node = await qkv(['certs', 'create-node', '--certs-dir', nodeDir, '--ca-dir', caDir, '--node-id', 'qkv-1', '--host', 'qkv-1.example.com', '--host', '10.9.8.7,db.example.com']);
  assert.equal(node.code, 0, node.stderr);
  assert.deepEqual(
    node.stdout.trim().split('\n').map((line) => line.split('  ')[0]),
    [`wrote ${join(nodeDir, 'ca.crt')}`, `wrote ${join(nodeDir, 'node.key')}`, `wrote ${join(nodeDir, 'node.crt')}`],
  );
  assert.match(node.stdout, /node certificate for node\/qkv-1, valid until .*; SANs URI:quorumkv:\/\/node\/qkv-1, DNS:localhost, DNS:qkv-1\.example\.com, DNS:db\.example\.com, IP:127\.0\.0\.1, IP:::1, IP:10\.9\.8\.7\)/);
  assert.deepEqual((await readdir(nodeDir)).sort(), ['ca.crt', 'node.crt', 'node.key']);

  // --ca-dir defaults to --certs-dir.
  const client = await qkv(['certs', 'create-client', '--certs-dir', caDir, '--user', 'root']);
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, new RegExp(`^wrote ${join(caDir, 'client.root.key')}  \\(client private key, mode 0600\\)$`, 'm'));
  assert.match(client.stdout, /client certificate for user\/root/);
  assert.doesNotMatch(client.stdout, /copied/);
  assert.equal((await stat(join(caDir, 'client.root.key'))).mode & 0o777, 0o600);
  assert.deepEqual(identityOfCertificate(new X509Certificate(await readFile(join(caDir, 'client.root.crt')))), { kind: 'user', name: 'root' });

  const skipOpenssl = skipWithoutOpenssl();
  if (skipOpenssl === false) {
    const verified = await openssl(['verify', '-CAfile', join(nodeDir, 'ca.crt'), join(nodeDir, 'node.crt'), join(caDir, 'client.root.crt')]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } else {
    context.diagnostic(`openssl verify left out: ${skipOpenssl}`);
  }

  const list = await qkv(['certs', 'list', '--certs-dir', caDir]);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.match(lines[0]!, /^FILE +IDENTITY +NOT AFTER +SANS$/);
  assert.match(lines[1]!, /^ca\.crt +CA +20\d\d-\d\d-\d\dT[0-9:.]+Z +-$/);
  assert.match(lines[2]!, /^client\.root\.crt +user\/root +20\d\d-.* +URI:quorumkv:\/\/user\/root$/);
  assert.equal(lines.length, 3);

  const json = await qkv(['certs', 'list', '--json'], { QKV_CERTS_DIR: nodeDir });
  assert.equal(json.code, 0, json.stderr);
  const listed = JSON.parse(json.stdout) as { certsDir: string; certificates: Array<{ file: string; identity: string; subjectAltNames: string[]; expired: boolean }> };
  assert.equal(listed.certsDir, nodeDir);
  assert.deepEqual(listed.certificates.map((entry) => [entry.file, entry.identity, entry.expired]), [['ca.crt', 'CA', false], ['node.crt', 'node/qkv-1', false]]);
  assert.ok(listed.certificates[1]!.subjectAltNames.includes('IP:10.9.8.7'));

  // The local layout: per-node subdirectories are listed too.
  const nested = await qkv(['certs', 'list', '--certs-dir', root]);
  assert.match(nested.stdout, /^node-1\/node\.crt +node\/qkv-1 /m);
});

test('operating errors exit 1 with a code, usage errors exit 2', async () => {
  const dir = await tempDir();
  const noCa = await qkv(['certs', 'create-node', '--certs-dir', dir, '--node-id', 'qkv-1']);
  assert.equal(noCa.code, 1);
  assert.match(noCa.stderr, /^qkv: CERTIFICATE_MISSING: .*ca\.crt does not exist; create a CA with `qkv certs create-ca`/);
  assert.deepEqual(await readdir(dir), []);

  assert.equal((await qkv(['certs', 'create-ca', '--certs-dir', dir])).code, 0);
  const badName = await qkv(['certs', 'create-client', '--certs-dir', dir, '--user', 'Root']);
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /^qkv: CERTIFICATE_NAME_INVALID: user name "Root" must hold only a-z/);
  const badHost = await qkv(['certs', 'create-node', '--certs-dir', dir, '--node-id', 'qkv-1', '--host', 'bad_host']);
  assert.match(badHost.stderr, /^qkv: CERTIFICATE_NAME_INVALID: host "bad_host" is neither an IP address nor a DNS name/);

  for (const args of [
    ['certs'],
    ['certs', 'frobnicate'],
    ['certs', 'create-ca'],
    ['certs', 'create-node', '--certs-dir', dir],
    ['certs', 'create-client', '--certs-dir', dir],
    ['certs', 'create-ca', '--certs-dir', dir, '--validity-days', '0'],
    ['certs', 'create-ca', '--certs-dir', dir, '--bogus'],
    ['certs', 'list', '--certs-dir', join(dir, 'missing')],
  ]) {
    const result = await qkv(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  }
  const help = await qkv(['certs', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /qkv certs create-node --certs-dir D \[--ca-dir C\] --node-id ID \[--host H \.\.\.\]/);
});
