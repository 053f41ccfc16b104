// The memory attack on a stream's later messages, against a real grpc-js server with
// the client port's TLS, options and receive gate, alone in a child process
// (test/fixtures/gated-stream-server.ts) so its resident memory is the server's. A
// caller with a client certificate opens STREAMS streams, one TLS connection each, has a
// small first message answered on each, then sends on each a MESSAGE_BYTES message all
// but its last byte. Before the gate bounded later messages the server read all of them
// (the reviewer measured 553 MB for 120 streams of 4 MiB, with the gate showing nothing
// receiving); now RECEIVING_CALLS_PER_CALLER_MAX streams read theirs and the rest wait
// with their HTTP/2 streams paused. The same attack with unary calls is the yardstick.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { RECEIVING_CALLS_PER_CALLER_MAX } from '../../src/limits.js';
import { trackChild } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const SERVER_SCRIPT = fileURLToPath(new URL('../fixtures/gated-stream-server.js', import.meta.url));
const STREAMS = 120;
const MESSAGE_BYTES = 4 * 1024 * 1024;
/** How long the server's memory is watched once every large message is on its way. */
const WATCH_MS = 3_000;
const MIB = 1024 * 1024;

let certsDir: string;
let nodeDir: string;

before(async () => {
  const certs = await ensureLocalCertificates({ dir: await tempDir(undefined, 'qkv-stream-memory-'), nodeIds: ['n1'], users: ['reader'] });
  certsDir = certs.dir;
  nodeDir = certs.nodeDirs.get('n1')!;
});

interface Sample {
  readonly rssBytes: number;
  readonly load: { readonly receiving: number; readonly waiting: number; readonly callers: number };
}

class GatedServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<GatedServer> {
    const child = fork(SERVER_SCRIPT, [nodeDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    trackChild(child);
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
    });
    return new GatedServer(child, port);
  }

  sample(): Promise<Sample> {
    return new Promise((resolve) => {
      this.child.once('message', (message) => resolve(message as Sample));
      this.child.send('sample');
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
    this.child.kill('SIGKILL');
  }
}

function framed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

function connect(port: number): http2.ClientHttp2Session {
  const read = (name: string): Buffer => readFileSync(join(certsDir, name));
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: read('ca.crt'), key: read('client.reader.key'), cert: read('client.reader.crt'), checkServerIdentity: () => undefined });
  session.on('error', () => {});
  return session;
}

/** The large message's prefix, and all of its body but the last byte: one buffer shared by every sender, so the attacker itself stays small. */
const LARGE_PREFIX = (() => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(MESSAGE_BYTES, 1);
  return prefix;
})();
const LARGE_BODY_BUT_ONE = Buffer.alloc(MESSAGE_BYTES - 1, 7);

/** Opens a stream on `session` and resolves once its small first message was answered. */
function streamWithFirstMessage(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  const request = session.request({ ':method': 'POST', ':path': '/test.Gated/Stream', 'content-type': 'application/grpc', te: 'trailers' });
  request.on('error', () => {});
  request.write(framed(Buffer.from('first')));
  return new Promise((resolve, reject) => {
    request.once('data', () => resolve(request));
    request.once('close', () => reject(new Error('a stream closed before its first message was answered')));
  });
}

/** The server's peak resident memory and the gate's load at that moment, over WATCH_MS. */
async function watch(server: GatedServer): Promise<Sample> {
  let peak = await server.sample();
  const until = Date.now() + WATCH_MS;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sample = await server.sample();
    if (sample.rssBytes > peak.rssBytes) peak = sample;
  }
  return peak;
}

interface AttackResult {
  readonly before: Sample;
  readonly peak: Sample;
  readonly last: Sample;
}

async function attack(kind: 'stream' | 'unary'): Promise<AttackResult> {
  const server = await GatedServer.start();
  const sessions = Array.from({ length: STREAMS }, () => connect(server.port));
  try {
    const requests =
      kind === 'stream'
        ? await Promise.all(sessions.map((session) => streamWithFirstMessage(session)))
        : sessions.map((session) => {
            const request = session.request({ ':method': 'POST', ':path': '/test.Gated/Unary', 'content-type': 'application/grpc', te: 'trailers' });
            request.on('error', () => {});
            return request;
          });
    // Every connection is up (and every stream past its first message): what follows is the messages' cost.
    const before = await server.sample();
    for (const request of requests) {
      request.write(LARGE_PREFIX);
      request.write(LARGE_BODY_BUT_ONE);
    }
    const peak = await watch(server);
    const last = await server.sample();
    return { before, peak, last };
  } finally {
    for (const session of sessions) session.destroy();
    await server.stop();
  }
}



test(`one caller's ${STREAMS} streams, each partway through a ${MESSAGE_BYTES / MIB} MiB later message: the server holds about what the same unary calls make it hold`, async (context) => {
  const unary = await attack('unary');
  const streams = await attack('stream');
  const growthMiB = (result: AttackResult): number => Math.round((result.peak.rssBytes - result.before.rssBytes) / MIB);
  context.diagnostic(`unary: ${Math.round(unary.before.rssBytes / MIB)} MB before, peak ${Math.round(unary.peak.rssBytes / MIB)} MB (+${growthMiB(unary)}), gate at the end ${JSON.stringify(unary.last.load)}`);
  context.diagnostic(`streams: ${Math.round(streams.before.rssBytes / MIB)} MB before, peak ${Math.round(streams.peak.rssBytes / MIB)} MB (+${growthMiB(streams)}), gate at the end ${JSON.stringify(streams.last.load)}`);
  // Every stream is either reading its message (this caller's share of turns) or waiting.
  assert.deepEqual(streams.last.load, { receiving: RECEIVING_CALLS_PER_CALLER_MAX, waiting: STREAMS - RECEIVING_CALLS_PER_CALLER_MAX, callers: 1 });
  // All the messages would be STREAMS × MESSAGE_BYTES (480 MiB); the streams may cost
  // what the unary calls do, plus slack for a busy machine, and far less than that.
  const allowedMiB = growthMiB(unary) + 48;
  assert.ok(growthMiB(streams) <= allowedMiB, `the server grew by ${growthMiB(streams)} MiB under the stream attack, more than the ${allowedMiB} MiB allowed (unary: ${growthMiB(unary)} MiB)`);
});
