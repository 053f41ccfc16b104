// The `qkv` CLI as a user runs it: `qkv local-cluster` (what `npm start` runs) brings up
// three processes with TLS (certificates it makes under its data directory) and prints
// how to connect; put/get/delete/status/ring answer in human form and as JSON with the
// admin client certificate from there; failures are one line and a non-zero exit code;
// Ctrl-C (SIGINT) stops the cluster with exit code 0, and the next start finds the data
// and the certificates.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN_SCRIPT, freePort, trackChild } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function qkv(args: readonly string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN_SCRIPT, ...args], { timeout: 30_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** A base port whose next two ports are free as well. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base > 65_000) continue;
    const free = await Promise.all([base + 1, base + 2].map(isFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no three consecutive free ports');
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface LocalCluster {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output: string;
}

async function startLocalCluster(dataDir: string, grpcBase: number, peerBase: number, httpBase: number): Promise<LocalCluster> {
  const child = spawn(
    process.execPath,
    [MAIN_SCRIPT, 'local-cluster', '--data-dir', dataDir, '--grpc-base-port', String(grpcBase), '--peer-base-port', String(peerBase), '--http-base-port', String(httpBase)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  const cluster: LocalCluster = { child, exited: new Promise((resolve) => child.once('exit', resolve)), output: '' };
  const collect = (chunk: Buffer): void => {
    cluster.output += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // A start-up bound, not a speed check: every node must first see every member NORMAL.
  const deadline = Date.now() + 60_000;
  while (!cluster.output.includes('Ctrl-C drains')) {
    if (child.exitCode !== null) throw new Error(`local-cluster exited early:\n${cluster.output}`);
    if (Date.now() > deadline) throw new Error(`local-cluster not up in time:\n${cluster.output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return cluster;
}

const running: LocalCluster[] = [];
after(() => {
  for (const cluster of running) if (cluster.child.exitCode === null) cluster.child.kill('SIGKILL');
});

function assertOneLine(result: CliResult, pattern: RegExp): void {
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

test('local-cluster starts 3 nodes; the CLI reads and writes; Ctrl-C stops it cleanly and the data survives', async () => {
  const dataDir = await tempDir(undefined, 'qkv-local-');
  const grpcBase = await freeBasePort();
  const peerBase = await freeBasePort();
  const httpBase = await freeBasePort();
  const addr = [0, 1, 2].map((i) => `127.0.0.1:${grpcBase + i}`).join(',');
  const certsDir = join(dataDir, 'certs');
  const first = await startLocalCluster(dataDir, grpcBase, peerBase, httpBase);
  running.push(first);
  assert.match(first.output, /quorumkv local cluster: 3 nodes/);
  assert.match(first.output, /created \d+ certificate files in .* \(a new local CA\)/);
  assert.match(first.output, new RegExp(`qkv-1  gRPC 127\\.0\\.0\\.1:${grpcBase}  peer ${peerBase} `));
  // The connect line names the certificates, since they are not the CLI's default ones.
  assert.match(first.output, new RegExp(`put hello world --addr ${addr.replaceAll('.', '\\.')} --certs-dir ${certsDir.replaceAll('.', '\\.')}\n`));
  assert.match(first.output, /TLS on: certificates in /);
  for (const file of ['ca.crt', 'client.admin.crt', 'client.admin.key', 'qkv-1/node.crt', 'qkv-3/node.key']) assert.ok(existsSync(join(certsDir, file)), file);
  const tls = ['--certs-dir', certsDir];

  const put = await qkv(['put', 'hello', 'world', '--addr', addr, ...tls]);
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stdout, /^OK {2}acks=2 {2}version \d+ \(\d{4}-\d\d-\d\dT[^)]+\) by qkv-1\n$/);

  const fromStdin = await qkv(['put', 'piped', '-', '--w', '3', '--addr', addr, ...tls], 'from stdin');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.match(fromStdin.stdout, /acks=3/);

  const get = await qkv(['get', 'hello', '--addr', addr, ...tls]);
  assert.deepEqual([get.code, get.stdout], [0, 'world\n']);

  const replicas = await qkv(['get', 'hello', '--replicas', '--r', '3', '--addr', addr, ...tls]);
  assert.equal(replicas.code, 0, replicas.stderr);
  assert.match(replicas.stdout, /^value {4}world$/m);
  assert.match(replicas.stdout, /^REPLICA +ANSWERED +HAS KEY +VERSION$/m);
  for (const id of ['qkv-1', 'qkv-2', 'qkv-3']) assert.match(replicas.stdout, new RegExp(`^${id} +yes +yes +\\d+ `, 'm'));

  const json = await qkv(['get', 'piped', '--json', '--replicas', '--addr', addr, ...tls]);
  const parsed = JSON.parse(json.stdout) as { found: boolean; value: string; replicas: unknown[]; version: { nodeId: string } };
  assert.equal(parsed.found, true);
  assert.equal(parsed.value, 'from stdin');
  assert.equal(parsed.replicas.length, 3);
  assert.equal(parsed.version.nodeId, 'qkv-1');

  const deleted = await qkv(['delete', 'hello', '--addr', addr, ...tls]);
  assert.equal(deleted.code, 0, deleted.stderr);
  const missing = await qkv(['get', 'hello', '--addr', addr, ...tls]);
  assert.equal(missing.code, 3, 'a missing key exits 3');
  assertOneLine(missing, /^qkv: key "hello" not found$/);

  // The certs directory may come from the environment as well.
  const status = await qkv(['status', '--addr', addr], undefined, { QKV_CERTS_DIR: certsDir });
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^node {6}qkv-1 \(SERVING, NORMAL\)$/m);
  assert.match(status.stdout, /^MEMBER +ADDRESS +ZONE +READY +RING +LIVENESS +HINTS$/m);
  assert.match(status.stdout, /^qkv-3 +127\.0\.0\.1:\d+ +- +yes +NORMAL +(up|suspect|down) +\d+ B$/m);
  const ring = await qkv(['ring', '--key', 'piped', '--json', '--addr', addr, ...tls]);
  assert.equal((JSON.parse(ring.stdout) as { preferenceList: string[] }).preferenceList.length, 3);

  // Operating errors: one line with the stable code, exit 1.
  const badQuorum = await qkv(['put', 'k', 'v', '--w', '4', '--addr', addr, ...tls]);
  assert.equal(badQuorum.code, 1);
  assertOneLine(badQuorum, /^qkv: QUORUM_INVALID: w=4 is outside 1\.\.3/);
  const bigKey = await qkv(['get', 'k'.repeat(1025), '--addr', addr, ...tls]);
  assert.equal(bigKey.code, 1);
  assertOneLine(bigKey, /^qkv: KEY_TOO_LARGE: key is 1025 bytes; the limit is 1024$/);
  const nobody = await qkv(['get', 'k', '--addr', `127.0.0.1:${await freePort()}`, '--timeout-ms', '2000', ...tls]);
  assert.equal(nobody.code, 1);
  assertOneLine(nobody, /^qkv: PEER_UNREACHABLE: cannot reach 127\.0\.0\.1:\d+/);
  // No certificate where the CLI looks: one line saying which file and how to make it.
  const noCerts = await qkv(['get', 'k', '--addr', addr, '--certs-dir', join(dataDir, 'no-such-dir')]);
  assert.equal(noCerts.code, 1);
  assertOneLine(noCerts, /^qkv: CERTIFICATE_MISSING: .*no-such-dir[/\\]ca\.crt does not exist; create it with `qkv certs create-client/);
  // A user the cluster knows no roles of (the nodes have no --users-file): refused by name.
  const bob = await qkv(['certs', 'create-client', '--certs-dir', certsDir, '--user', 'bob']);
  assert.equal(bob.code, 0, bob.stderr);
  const denied = await qkv(['get', 'k', '--addr', addr, ...tls, '--user', 'bob']);
  assert.equal(denied.code, 1);
  // The CLI's Get goes on the KV.Multiplex stream, which a user without `read` may not open.
  assertOneLine(denied, /^qkv: PERMISSION_DENIED: user "bob" may not call \/quorumkv\.v1\.KV\/Multiplex: it needs the role read$/);

  // Ctrl-C: the parent drains every node and exits 0.
  first.child.kill('SIGINT');
  assert.equal(await first.exited, 0, first.output);
  assert.match(first.output, /all nodes stopped cleanly/);

  // The next start finds the data again.
  const second = await startLocalCluster(dataDir, grpcBase, peerBase, httpBase);
  running.push(second);
  assert.doesNotMatch(second.output, /created \d+ certificate files/, 'the certificates of the first start are kept');
  const again = await qkv(['get', 'piped', '--r', '3', '--addr', addr, ...tls]);
  assert.deepEqual([again.code, again.stdout], [0, 'from stdin\n']);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.output);
});

test('usage errors exit 2 with one line; help and version exit 0', async () => {
  const unknown = await qkv(['frobnicate']);
  assert.equal(unknown.code, 2);
  assertOneLine(unknown, /^qkv: unknown command "frobnicate"/);
  const badFlag = await qkv(['get', 'k', '--bogus']);
  assert.equal(badFlag.code, 2);
  assertOneLine(badFlag, /^qkv: Unknown option '--bogus'/);
  const noKey = await qkv(['get']);
  assert.equal(noKey.code, 2);
  assertOneLine(noKey, /^qkv: get needs a key/);
  const badTtl = await qkv(['put', 'k', 'v', '--ttl', 'soon']);
  assert.equal(badTtl.code, 2);
  assertOneLine(badTtl, /^qkv: --ttl must be a duration/);
  const decommissionAll = await qkv(['decommission', '--addr', '127.0.0.1:1,127.0.0.1:2']);
  assert.equal(decommissionAll.code, 2);
  assertOneLine(decommissionAll, /^qkv: decommission needs exactly one node: --addr host:port/);
  const badServer = await qkv(['server', '--grpc-port', 'x']);
  assert.equal(badServer.code, 2);
  assertOneLine(badServer, /^qkv server: CONFIG_INVALID: --grpc-port: must be an integer in 1\.\.65535, got "x"$/);

  const help = await qkv(['help']);
  assert.equal(help.code, 0);
  for (const command of ['put', 'get', 'delete', 'status', 'ring', 'repair', 'decommission', 'server', 'local-cluster', 'ring simulate', 'controller']) {
    assert.match(help.stdout, new RegExp(`qkv ${command}\\b`));
  }
  const serverHelp = await qkv(['server', '--help']);
  assert.match(serverHelp.stdout, /--peers name=host:peer-port/);
  assert.match(serverHelp.stdout, /--peer-port N/);
  assert.match(serverHelp.stdout, /--tls-dir /);
  assert.match(serverHelp.stdout, /--insecure/);
  assert.match((await qkv(['--version'])).stdout, /^qkv \d+\.\d+\.\d+\n$/);
  const simulate = await qkv(['ring', 'simulate', '--nodes', '3', '--keys', '1000', '--strategy', 'virtual', '--json']);
  assert.equal(simulate.code, 0, simulate.stderr);
});
