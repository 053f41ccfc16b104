// `qkv local-cluster --in-memory --nodes 6 --replication-factor 5` as a user runs it: a
// real process that prints its progress, makes the local certificates, serves every
// node's client port with TLS, and takes `qkv put --w 3` / `qkv get --r 3` through the
// CLI; Status lists the six members; SIGINT drains it with exit code 0. Flags that
// apply to the process cluster only are usage errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MAIN_SCRIPT, freePort, trackChild } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const NODES = 6;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function qkv(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_SCRIPT, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with the next NODES - 1 ports free as well. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    if (base > 65_000) continue;
    const free = await Promise.all(Array.from({ length: NODES - 1 }, (_, i) => isFree(base + i + 1)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${NODES} consecutive free ports`);
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

test('local-cluster --in-memory: six nodes, N=5, put --w 3 and get --r 3 through the CLI, SIGINT stops it with 0', async () => {
  const dataDir = await tempDir(undefined, 'qkv-in-memory-');
  const grpcBase = await freeBasePort();
  const httpBase = await freeBasePort();
  const child = spawn(
    process.execPath,
    [MAIN_SCRIPT, 'local-cluster', '--in-memory', '--nodes', String(NODES), '--replication-factor', '5', '--data-dir', dataDir, '--grpc-base-port', String(grpcBase), '--http-base-port', String(httpBase)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ctrl-C drains')) {
    if (child.exitCode !== null) throw new Error(`local-cluster --in-memory exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`local-cluster --in-memory not up in time:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.match(output, /starting 6 in-memory nodes \(N=5\) in this process/);
  assert.match(output, /quorumkv in-memory cluster: 6 nodes in one process, N=5 \(quorum 3\)/);
  assert.match(output, new RegExp(`qkv-6  gRPC 127\\.0\\.0\\.1:${grpcBase + 5}`));
  assert.match(output, /TLS on: certificates in /);

  // Two different nodes coordinate the write and the read.
  const tls = ['--certs-dir', join(dataDir, 'certs')];
  const put = await qkv(['put', 'hello', 'world', '--w', '3', '--addr', `127.0.0.1:${grpcBase}`, ...tls]);
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stdout, /^OK {2}acks=3 /);
  const get = await qkv(['get', 'hello', '--r', '3', '--addr', `127.0.0.1:${grpcBase + 4}`, ...tls]);
  assert.deepEqual([get.code, get.stdout, get.stderr], [0, 'world\n', '']);
  const status = await qkv(['status', '--json', '--addr', `127.0.0.1:${grpcBase + 2}`, ...tls]);
  assert.equal(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { replicationFactor: number; members: Array<{ id: string; address: string; ringState: string }> };
  assert.equal(parsed.replicationFactor, 5);
  assert.deepEqual(
    parsed.members.map((member) => [member.id, member.address, member.ringState]),
    Array.from({ length: NODES }, (_, i) => [`qkv-${i + 1}`, `127.0.0.1:${grpcBase + i}`, 'NORMAL']),
  );
  // Without a client certificate the client port refuses the call, as on a process node.
  const plaintext = await qkv(['get', 'hello', '--insecure', '--addr', `127.0.0.1:${grpcBase}`]);
  assert.notEqual(plaintext.code, 0);

  child.kill('SIGINT');
  assert.equal(await exited, 0, output);
  assert.match(output, /SIGINT: draining 6 nodes\.\.\.\nall nodes stopped; the in-memory data is gone\n/);
});

test('local-cluster: --nodes needs --in-memory, and --in-memory refuses the flags of processes', async () => {
  const nodes = await qkv(['local-cluster', '--nodes', '6']);
  assert.equal(nodes.code, 2);
  assert.match(nodes.stderr, /--nodes needs --in-memory/);
  const storage = await qkv(['local-cluster', '--in-memory', '--storage', 'durable']);
  assert.equal(storage.code, 2);
  assert.match(storage.stderr, /--storage does not apply to --in-memory/);
  const tooFew = await qkv(['local-cluster', '--in-memory', '--nodes', '3', '--replication-factor', '5']);
  assert.equal(tooFew.code, 2);
  assert.match(tooFew.stderr, /--replication-factor must be a whole number from 1 to 3, got "5"/);
});
