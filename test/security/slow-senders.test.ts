// Slow senders against a real node with TLS: a caller with the least privileged role
// (read) opens more calls than the receive gate has turns and trickles each message a
// byte at a time, the slowloris attack on gRPC. Before the gate shared its turns by
// caller, these calls held every turn for RECEIVE_TIMEOUT_MS and queued ahead of
// everyone else, so an admin's Get and another user's Get waited until their deadline
// and failed (measured in docs/decisions/0240-receive-turns-shared-by-caller.md). Now
// the reader holds at most RECEIVING_CALLS_PER_CALLER_MAX turns, the other callers are
// served while it trickles, and its own calls are still ended when they overstay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { ProcessCluster } from '../support/process-cluster.js';
import { encodeRequest, type RawOutcome } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { RECEIVE_TIMEOUT_MS, RECEIVING_CALLS_MAX, RECEIVING_CALLS_PER_CALLER_MAX } from '../../src/limits.js';

/** Twice the node's turns, so that the slow calls also fill the queue behind them. */
const SLOW_CALLS = 2 * RECEIVING_CALLS_MAX;
/** The length the slow calls' gRPC message prefix announces; they never get there. */
const ANNOUNCED_BYTES = 4096;
const TRICKLE_INTERVAL_MS = 250;
/** Long enough that the first slow calls are ended by the receive timeout and replaced. */
const ATTACK_MS = RECEIVE_TIMEOUT_MS + 3_000;
/** The honest callers' deadline; a Get on an idle node takes a few milliseconds. */
const HONEST_DEADLINE_MS = 3_000;
const HONEST_INTERVAL_MS = 500;
/** What a served honest Get may take at worst on a loaded 2-core machine. */
const HONEST_LATENCY_MS_MAX = 1_000;

let cluster: ProcessCluster;

before(async () => {
  const dataRoot = await tempDir();
  const usersFile = join(dataRoot, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'reader', roles: ['read'] }, { name: 'writer', roles: ['write'] }] }));
  cluster = await ProcessCluster.start({ size: 1, dataRoot, users: ['reader', 'writer'], extraArgs: ['--users-file', usersFile, '--replication-factor', '1'] });
});

after(async () => {
  await cluster?.stopAll();
});

/** How one slow call ended: its gRPC status (as a string, from headers or trailers), or 'closed'. */
type SlowEnd = string;

/**
 * A caller that keeps `SLOW_CALLS` Gets open on one TLS connection with the `user`'s
 * client certificate, each announcing ANNOUNCED_BYTES and sending one byte every
 * TRICKLE_INTERVAL_MS; a call that ends is replaced at once, until stop().
 */
function slowSender(user: string): { stop: () => Promise<SlowEnd[]> } {
  const read = (name: string): Buffer => readFileSync(join(cluster.certsDir!, name));
  const session = http2.connect(`https://${cluster.address('qkv-1')}`, {
    ca: read('ca.crt'),
    key: read(`client.${user}.key`),
    cert: read(`client.${user}.crt`),
    checkServerIdentity: () => undefined,
  });
  // The node resets streams it ends; not an error of this test.
  session.on('error', () => {});
  const ends: SlowEnd[] = [];
  const open = new Set<http2.ClientHttp2Stream>();
  let stopped = false;
  const startOne = (): void => {
    if (stopped) return;
    const stream = session.request({ ':method': 'POST', ':path': '/quorumkv.v1.KV/Get', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
    open.add(stream);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(ANNOUNCED_BYTES, 1);
    stream.write(prefix);
    const trickle = setInterval(() => {
      if (!stream.closed && !stream.destroyed) stream.write(Buffer.from([0x0a]));
    }, TRICKLE_INTERVAL_MS);
    // The node answers with its status but leaves the stream half open while this side
    // still writes; the call is over once the status came, and is replaced then.
    let ended = false;
    const endWith = (status: string): void => {
      if (ended) return;
      ended = true;
      clearInterval(trickle);
      open.delete(stream);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      if (stopped) return;
      ends.push(status);
      startOne();
    };
    stream.on('error', () => {});
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) endWith(String(headers['grpc-status']));
    });
    stream.on('trailers', (trailers) => endWith(String(trailers['grpc-status'])));
    stream.on('close', () => endWith('closed'));
  };
  for (let i = 0; i < SLOW_CALLS; i++) startOne();
  return {
    stop: async () => {
      stopped = true;
      for (const stream of open) stream.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise<void>((resolve) => session.close(resolve));
      return ends;
    },
  };
}

test('a reader trickling twice the node\'s turns does not keep an admin\'s or a writer\'s Get waiting', async (context) => {
  const key = Buffer.from('slow-senders');
  const attacker = slowSender('reader');
  const honest = { admin: cluster.rawClient('qkv-1', {}, 'admin'), writer: cluster.rawClient('qkv-1', {}, 'writer') };
  const outcomes: Array<{ who: string; outcome: RawOutcome }> = [];
  let attackEnds: SlowEnd[];
  try {
    // Let the slow calls take their turns first.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    while (Date.now() - started < ATTACK_MS) {
      for (const [who, raw] of Object.entries(honest)) {
        outcomes.push({ who, outcome: await raw.call('/quorumkv.v1.KV/Get', encodeRequest('KV', 'Get', { key }), HONEST_DEADLINE_MS) });
      }
      await new Promise((resolve) => setTimeout(resolve, HONEST_INTERVAL_MS));
    }
  } finally {
    attackEnds = await attacker.stop();
    for (const raw of Object.values(honest)) raw.close();
  }
  const latencies = outcomes.map(({ outcome }) => outcome.elapsedMs).sort((a, b) => a - b);
  const failed = outcomes.filter(({ outcome }) => outcome.status === 'DEADLINE_EXCEEDED' || outcome.code === 'OVERLOADED');
  context.diagnostic(
    `${outcomes.length} honest Gets during ${ATTACK_MS} ms of ${SLOW_CALLS} slow calls (per-caller turns ${RECEIVING_CALLS_PER_CALLER_MAX} of ${RECEIVING_CALLS_MAX}): ` +
      `${failed.length} failed, latency median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms; ` +
      `slow calls ended: ${JSON.stringify(tally(attackEnds))}`,
  );
  for (const { who, outcome } of outcomes) {
    assert.equal(outcome.status, 'OK', `${who}'s Get: ${JSON.stringify({ ...outcome, response: undefined })}`);
    assert.ok(outcome.elapsedMs <= HONEST_LATENCY_MS_MAX, `${who}'s Get took ${outcome.elapsedMs} ms`);
  }
  // The slow calls did hold turns, and were ended by the receive timeout (DEADLINE_EXCEEDED = 4).
  assert.ok(attackEnds.includes('4'), `no slow call was ended by the receive timeout: ${JSON.stringify(tally(attackEnds))}`);
  // The operator sees them: counted as refused, and logged naming the caller.
  assert.match(await cluster.metrics('qkv-1'), /qkv_calls_refused_total\{port="client",code="DEADLINE_EXCEEDED"[^}]*\} [1-9]/);
  assert.match(cluster.node('qkv-1').output, /"code":"DEADLINE_EXCEEDED","reason":"the request message of user:reader did not arrive within/);
});

function tally(ends: readonly SlowEnd[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const end of ends) counts[end] = (counts[end] ?? 0) + 1;
  return counts;
}
