// KV.Multiplex against three real node processes with TLS, sent byte for byte by a raw
// client (no per-request timers of its own), so what is checked is the node's doing:
// roles per request on one stream, each request's own deadline, the per-stream bound on
// running requests, each body held to its unary call's byte limit, and draining. What
// the stream shares with the unary calls (quorums, validation codes, last writer wins)
// is the KvClient contract's, which runs over the stream client
// (kv-client-contract.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProcessCluster } from '../support/process-cluster.js';
import { decodeResponse, encodeRequest } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { KV_STREAM_REQUESTS_MAX, SMALL_REQUEST_BYTES_MAX } from '../../src/limits.js';
import { TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';
import type { KvStreamRequest } from '../../src/protocol/generated/quorumkv/v1/KvStreamRequest.js';
import type { KvStreamReply__Output } from '../../src/protocol/generated/quorumkv/v1/KvStreamReply.js';

const MULTIPLEX = '/quorumkv.v1.KV/Multiplex';
let cluster: ProcessCluster;

before(async () => {
  const dataRoot = await tempDir(undefined, 'qkv-kv-stream-');
  const usersFile = join(dataRoot, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'reader', roles: ['read'] }] }));
  cluster = await ProcessCluster.start({ size: 3, dataRoot, users: ['reader'], extraArgs: ['--users-file', usersFile] });
});

after(async () => {
  for (const id of ['qkv-2', 'qkv-3']) cluster.node(id).child?.kill('SIGCONT');
  await cluster.stopAll();
});

const request = (message: KvStreamRequest): Buffer => encodeRequest('KV', 'Multiplex', message);
const decode = (bytes: Buffer): KvStreamReply__Output => decodeResponse<KvStreamReply__Output>('KV', 'Multiplex', bytes);
const byId = (replies: readonly Buffer[]): Map<number, KvStreamReply__Output> => new Map(replies.map(decode).map((reply) => [reply.id, reply]));

/**
 * Waits until a write with W=3 succeeds: every replica answers and qkv-1's failure
 * detector no longer holds one down from an earlier test (a replica it holds down would
 * make a write fail QUORUM_NOT_MET at once instead of waiting).
 */
async function awaitEveryReplica(): Promise<void> {
  const client = cluster.client(['qkv-1'], 2_000);
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      try {
        await client.put(Buffer.from('stream-every-replica'), Buffer.from('v'), { w: 3 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    client.close();
  }
}

/** Stops both other replicas (SIGSTOP): qkv-1's writes then wait for a quorum that never answers. */
async function withQuorumSilent<T>(run: () => Promise<T>): Promise<T> {
  await awaitEveryReplica();
  const others = ['qkv-2', 'qkv-3'].map((id) => cluster.node(id).child!);
  for (const child of others) child.kill('SIGSTOP');
  try {
    return await run();
  } finally {
    for (const child of others) child.kill('SIGCONT');
  }
}

test('a reader gets its Get answered and PERMISSION_DENIED for its Put on the same stream, which goes on', async () => {
  const admin = cluster.client(['qkv-1'], 10_000);
  await admin.put(Buffer.from('stream-roles'), Buffer.from('visible'));
  admin.close();
  const reader = cluster.rawClient('qkv-1', {}, 'reader');
  try {
    const outcome = await reader.stream(MULTIPLEX, [
      request({ id: 1, timeoutMs: 10_000, put: { key: Buffer.from('stream-roles'), value: Buffer.from('overwritten') } }),
      request({ id: 2, timeoutMs: 10_000, get: { key: Buffer.from('stream-roles') } }),
      request({ id: 3, timeoutMs: 10_000, batchPut: { items: [{ key: Buffer.from('stream-roles'), value: Buffer.from('overwritten') }] } }),
    ]);
    assert.equal(outcome.status, 'OK', outcome.details);
    const replies = byId(outcome.replies);
    assert.equal(replies.size, 3);
    assert.equal(replies.get(1)?.error?.code, 'PERMISSION_DENIED');
    assert.equal(replies.get(3)?.error?.code, 'PERMISSION_DENIED');
    assert.equal(replies.get(2)?.get?.value.toString(), 'visible', 'the refused Put wrote nothing and the Get was answered');
  } finally {
    reader.close();
  }
});

test('each request keeps its own deadline, enforced by the node: DEADLINE_EXCEEDED at it, in the order they pass', async () => {
  const client = cluster.rawClient('qkv-1');
  try {
    const outcome = await withQuorumSilent(() =>
      client.stream(MULTIPLEX, [
        request({ id: 7, timeoutMs: 2_500, put: { key: Buffer.from('stream-deadline-late'), value: Buffer.from('v') } }),
        request({ id: 8, timeoutMs: 400, put: { key: Buffer.from('stream-deadline-early'), value: Buffer.from('v') } }),
      ]),
    );
    assert.equal(outcome.status, 'OK', outcome.details);
    const replies = outcome.replies.map(decode);
    assert.deepEqual(replies.map((reply) => reply.id), [8, 7], 'the shorter deadline answered first');
    for (const reply of replies) assert.equal(reply.error?.code, 'DEADLINE_EXCEEDED', JSON.stringify(reply));
    // The raw client has no timer of its own: the stream ended because the node answered.
    assert.ok(outcome.elapsedMs < 10_000, `the node answered within ${outcome.elapsedMs} ms`);
    assert.ok(outcome.elapsedMs >= 2_400, `not before the later deadline (${outcome.elapsedMs} ms)`);
  } finally {
    client.close();
  }
});

test(`past ${KV_STREAM_REQUESTS_MAX} running requests on one stream the rest are answered OVERLOADED at once`, async () => {
  const client = cluster.rawClient('qkv-1');
  const extra = 5;
  try {
    const outcome = await withQuorumSilent(() =>
      client.stream(
        MULTIPLEX,
        Array.from({ length: KV_STREAM_REQUESTS_MAX + extra }, (_, index) =>
          request({ id: index + 1, timeoutMs: 8_000, put: { key: Buffer.from(`stream-bound-${index}`), value: Buffer.from('v') } }),
        ),
      ),
    );
    assert.equal(outcome.status, 'OK', outcome.details);
    const replies = outcome.replies.map(decode);
    assert.equal(new Set(replies.map((reply) => reply.id)).size, KV_STREAM_REQUESTS_MAX + extra, 'every request answered once');
    // The stream's own refusals (the coordinator has an in-flight bound of its own, and the
    // running writes end as its failure detector and their deadlines say).
    const refusedByStream = (reply: KvStreamReply__Output): boolean => reply.error?.code === 'OVERLOADED' && /one Multiplex stream/.test(reply.error.message);
    assert.equal(replies.filter(refusedByStream).length, extra, JSON.stringify(replies.slice(0, extra + 2)));
    // The refusals went out at once, before any running request had answered.
    assert.ok(replies.slice(0, extra).every(refusedByStream));
  } finally {
    client.close();
  }
});

test('a Get past the unary Get limit is refused INVALID_ARGUMENT under its id before decoding; the stream goes on', async () => {
  const client = cluster.rawClient('qkv-1');
  try {
    const outcome = await client.stream(MULTIPLEX, [
      request({ id: 21, timeoutMs: 10_000, get: { key: Buffer.alloc(SMALL_REQUEST_BYTES_MAX + 1, 0x6b) } }),
      request({ id: 22, timeoutMs: 10_000, get: { key: Buffer.from('stream-bounds-after'), r: 1 } }),
    ]);
    assert.equal(outcome.status, 'OK', outcome.details);
    const replies = byId(outcome.replies);
    assert.equal(replies.get(21)?.error?.code, 'INVALID_ARGUMENT', JSON.stringify(replies.get(21)?.error));
    // The unary Get's own refusal, word for word (src/api/kv-stream.ts decodes each body
    // with its unary method's checked deserializer).
    assert.match(replies.get(21)?.error?.message ?? '', /^\/quorumkv\.v1\.KV\/Get: the request is \d+ bytes; the limit of this method is 65536$/);
    assert.equal(replies.get(22)?.body, 'get');
    assert.equal(replies.get(22)?.get?.found, false);
  } finally {
    client.close();
  }
});

test('a draining node answers the running request, refuses new ones SHUTTING_DOWN and ends the stream', async () => {
  const client = new grpc.Client(cluster.address('qkv-1'), cluster.credentials()!, TLS_CHANNEL_OPTIONS);
  const identity = (bytes: Buffer): Buffer => bytes;
  const call = client.makeBidiStreamRequest(MULTIPLEX, identity, identity, new grpc.Metadata(), {});
  const replies: KvStreamReply__Output[] = [];
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => {});
  const replied = (count: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (replies.length >= count) resolve();
        else setTimeout(check, 20);
      };
      check();
    });
  call.on('data', (bytes: Buffer) => replies.push(decode(bytes)));
  try {
    call.write(request({ id: 31, timeoutMs: 10_000, get: { key: Buffer.from('stream-drain-warm') } }));
    await replied(1);
    await awaitEveryReplica();
    const others = ['qkv-2', 'qkv-3'].map((id) => cluster.node(id).child!);
    for (const child of others) child.kill('SIGSTOP');
    // A write that waits for its silent quorum until its deadline, while the node drains.
    call.write(request({ id: 32, timeoutMs: 1_500, put: { key: Buffer.from('stream-drain-running'), value: Buffer.from('v') } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const terminated = cluster.terminate('qkv-1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    call.write(request({ id: 33, timeoutMs: 10_000, get: { key: Buffer.from('stream-drain-late') } }));
    const status = await ended;
    for (const child of others) child.kill('SIGCONT');
    await terminated;
    const byIds = new Map(replies.map((reply) => [reply.id, reply]));
    assert.equal(byIds.get(33)?.error?.code, 'SHUTTING_DOWN', JSON.stringify(byIds.get(33)));
    assert.equal(byIds.get(32)?.error?.code, 'DEADLINE_EXCEEDED', 'the running request was answered before the stream ended');
    assert.equal(status.code, grpc.status.OK, status.details);
  } finally {
    client.close();
    await cluster.restart('qkv-1');
  }
});
