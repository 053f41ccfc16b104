// What a member certificate can make a real node hold through Replica.Exchange's later
// messages (docs/decisions/0269-peer-stream-messages-take-receive-turns.md). Against a
// real `qkv server` of a three-node cluster with TLS, qkv-2's own node certificate and key
// (what a thief of that pod's volume holds) open STREAMS Exchange streams on qkv-1's peer
// port, one TLS connection each, have a small first request (a Read of one key) answered
// on each, then send on each a MESSAGE_BYTES request all but its last byte. The node's
// resident memory (its process's VmRSS) is watched meanwhile.
//
// With the peer port's gate bounding only first messages, the node read every message
// (STREAMS × MESSAGE_BYTES); now a stream partway through a message holds a receive turn,
// qkv-2 holds at most RECEIVING_CALLS_PER_CALLER_MAX of them, and its other streams
// wait with their HTTP/2 streams paused, so the node holds a few messages, not all.
// The turns are shared by member: while the attack holds qkv-2's, a write through qkv-3
// that needs qkv-1's acknowledgement (W = 3, over qkv-3's own Exchange stream to qkv-1)
// still completes at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { ProcessCluster } from '../support/process-cluster.js';
import { encodeRequest } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { SENDER_METADATA_KEY } from '../../src/protocol/sender-metadata.js';

const STREAMS = 120;
const MESSAGE_BYTES = 4 * 1024 * 1024;
const WATCH_MS = 3_000;
const MIB = 1024 * 1024;
/**
 * What the node may grow by: the attacker's share of turns (4) and the other turns (8 in
 * all) of 4 MiB messages, each held twice while grpc-js copies it, and slack for a busy
 * machine; a quarter of the 480 MiB all the messages are.
 */
const GROWTH_MIB_MAX = 120;

let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-peer-stream-memory-') });
  await cluster.awaitRingViews(['qkv-1', 'qkv-2', 'qkv-3']);
});

after(async () => {
  await cluster?.stopAll();
});

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  assert.ok(match !== null, 'no VmRSS in /proc/PID/status');
  return Number(match[1]) * 1024;
}

function framed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

/** A TLS connection to qkv-1's peer port with qkv-2's node certificate. */
function connectAsMember(): http2.ClientHttp2Session {
  const dir = cluster.node('qkv-2').tlsDir!;
  const read = (name: string): Buffer => readFileSync(join(dir, name));
  const session = http2.connect(`https://${cluster.peerAddress('qkv-1')}`, { ca: read('ca.crt'), key: read('node.key'), cert: read('node.crt'), checkServerIdentity: () => undefined });
  session.on('error', () => {});
  return session;
}

const FIRST_REQUEST = framed(encodeRequest('Replica', 'Exchange', { id: 1, read: { keys: [Buffer.from('k')] } }));

/** Opens an Exchange stream and resolves once its first request was answered. */
function exchangeWithFirstRequest(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  const request = session.request({ ':method': 'POST', ':path': '/quorumkv.v1.Replica/Exchange', 'content-type': 'application/grpc', te: 'trailers', [SENDER_METADATA_KEY]: 'qkv-2' });
  request.on('error', () => {});
  request.write(FIRST_REQUEST);
  return new Promise((resolve, reject) => {
    request.once('data', () => resolve(request));
    request.once('close', () => reject(new Error('an Exchange stream closed before its first request was answered')));
  });
}

/** The prefix of a MESSAGE_BYTES request and all of its body but the last byte, shared by every stream. */
const LARGE_PREFIX = (() => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(MESSAGE_BYTES, 1);
  return prefix;
})();
const LARGE_BODY_BUT_ONE = Buffer.alloc(MESSAGE_BYTES - 1, 7);

test(`a member's ${STREAMS} Exchange streams, each partway through a ${MESSAGE_BYTES / MIB} MiB request: the node holds a few of them, not all`, async (context) => {
  const pid = cluster.node('qkv-1').child!.pid!;
  const sessions = Array.from({ length: STREAMS }, () => connectAsMember());
  try {
    const streams = await Promise.all(sessions.map((session) => exchangeWithFirstRequest(session)));
    const beforeBytes = await rssBytes(pid);
    for (const stream of streams) {
      stream.write(LARGE_PREFIX);
      stream.write(LARGE_BODY_BUT_ONE);
    }
    let peakBytes = beforeBytes;
    const until = Date.now() + WATCH_MS;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peakBytes = Math.max(peakBytes, await rssBytes(pid));
    }
    // Another member's replication to qkv-1 is not held up by qkv-2's streams.
    const viaQkv3 = cluster.client(['qkv-3']);
    const started = Date.now();
    try {
      await viaQkv3.put(Buffer.from('during'), Buffer.from('v'), { w: 3 });
    } finally {
      viaQkv3.close();
    }
    const writeMs = Date.now() - started;
    const growthMiB = Math.round((peakBytes - beforeBytes) / MIB);
    context.diagnostic(`a W=3 put through qkv-3 during the attack took ${writeMs} ms`);
    assert.ok(writeMs < 2_000, `a W=3 put through qkv-3 took ${writeMs} ms during the attack`);
    context.diagnostic(`qkv-1: ${Math.round(beforeBytes / MIB)} MB before, peak ${Math.round(peakBytes / MIB)} MB (+${growthMiB} MiB) for ${STREAMS} × ${MESSAGE_BYTES / MIB} MiB partial requests`);
    assert.ok(growthMiB <= GROWTH_MIB_MAX, `qkv-1 grew by ${growthMiB} MiB, more than ${GROWTH_MIB_MAX} MiB`);
  } finally {
    for (const session of sessions) session.destroy();
  }
  // The node is still a working member afterwards.
  const client = cluster.client(['qkv-1']);
  try {
    await client.put(Buffer.from('after'), Buffer.from('v'), { w: 3 });
  } finally {
    client.close();
  }
});
