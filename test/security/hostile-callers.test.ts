// The attacks of the security issue, tried against a real three-node cluster with TLS:
// each once from a caller with no certificate and once from a caller with a valid
// client certificate of this cluster's CA that is not a member's (and, where it
// matters, from a member speaking for another). Every one must be refused with its
// stable code and change nothing: the values, the ring digest and ring-state.json stay
// as they were, the node's memory stays flat and it stays ready.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProcessCluster } from '../support/process-cluster.js';
import { RawGrpcClient, decodeResponse, encodeRequest, nodeChannelCredentials, type RawOutcome } from '../support/raw-grpc.js';
import type { KvStreamReply__Output } from '../../src/protocol/generated/quorumkv/v1/KvStreamReply.js';
import { PUT_REQUEST_BYTES_MAX } from '../../src/limits.js';
import { tempDir } from '../support/temp-dir.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import { createCa, createClientCertificate } from '../../src/security/certificate-authority.js';
import { clientChannelCredentials } from '../../src/security/tls-credentials.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';

let cluster: ProcessCluster;
let foreignCertsDir: string;
const VICTIM = Buffer.from('victim');
/** The largest stamp an HLC can hold: 48-bit wall time (the year 10889) and 16-bit counter. */
const FAR_FUTURE_STAMP = ((1n << 48n) - 1n) << 16n;

before(async () => {
  const dataRoot = await tempDir();
  const usersFile = join(dataRoot, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'reader', roles: ['read'] }, { name: 'writer', roles: ['write'] }] }));
  cluster = await ProcessCluster.start({ size: 3, dataRoot, users: ['reader', 'writer', 'mallory'], extraArgs: ['--users-file', usersFile] });
  const client = cluster.client(['qkv-1']);
  try {
    await client.put(VICTIM, Buffer.from('honest'), { w: 3 });
  } finally {
    client.close();
  }
  // A client certificate of another CA, with a name this cluster knows.
  foreignCertsDir = await tempDir();
  await createCa({ dir: foreignCertsDir });
  await createClientCertificate({ caDir: foreignCertsDir, outDir: foreignCertsDir, user: 'admin' });
});

after(async () => {
  await cluster?.stopAll();
});

/** Callers without a member's certificate: none at all, and a valid client certificate. */
function outsiders(port: 'client' | 'peer', sender = 'qkv-2'): Array<{ readonly who: string; readonly raw: RawGrpcClient }> {
  const address = port === 'client' ? cluster.address('qkv-1') : cluster.peerAddress('qkv-1');
  const anonymous = grpc.credentials.createSsl(readFileSync(join(cluster.certsDir!, 'ca.crt')), null, null, { checkServerIdentity: () => undefined });
  return [
    { who: 'no certificate', raw: new RawGrpcClient(address, { credentials: anonymous, sender }) },
    { who: 'a client certificate', raw: new RawGrpcClient(address, { credentials: clientChannelCredentials(cluster.certsDir!, 'writer'), sender }) },
  ];
}

async function tryEach(port: 'client' | 'peer', path: string, bytes: Buffer, check: (who: string, outcome: RawOutcome) => void): Promise<void> {
  for (const { who, raw } of outsiders(port)) {
    try {
      check(who, await raw.call(path, bytes, 10_000));
    } finally {
      raw.close();
    }
  }
}

/** A peer port refuses a caller without a certificate in the handshake, and a client certificate with PEER_IDENTITY_MISMATCH. */
function refusedOnPeerPort(who: string, outcome: RawOutcome): void {
  if (who === 'no certificate') {
    assert.equal(outcome.status, 'UNAVAILABLE', `${who}: ${JSON.stringify(outcome)}`);
  } else {
    assert.equal(outcome.status, 'PERMISSION_DENIED', `${who}: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.code, 'PEER_IDENTITY_MISMATCH');
  }
}

async function state(): Promise<{ digests: string[]; ringFiles: string[]; victim: string }> {
  const client = cluster.client(['qkv-1']);
  try {
    const digests: string[] = [];
    for (const id of ['qkv-1', 'qkv-2', 'qkv-3']) {
      const one = cluster.client([id]);
      try {
        digests.push((await one.status()).ringDigest);
      } finally {
        one.close();
      }
    }
    const ringFiles = ['qkv-1', 'qkv-2', 'qkv-3'].map((id) => readFileSync(join(cluster.node(id).dataDir, 'ring-state.json'), 'utf8'));
    const got = await client.get(VICTIM, { r: 3 });
    return { digests, ringFiles, victim: got.value?.toString('utf8') ?? '(missing)' };
  } finally {
    client.close();
  }
}

function rssBytes(id: string): number {
  const pid = cluster.node(id).child?.pid;
  assert.ok(pid !== undefined);
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

test('a forged far-future record, a forged tombstone and a forged LEFT probe are refused and change nothing', async () => {
  const before = await state();
  assert.equal(before.victim, 'honest');
  const version = { stamp: FAR_FUTURE_STAMP, nodeId: 'qkv-2' };
  const forged = { key: VICTIM, value: Buffer.from('forged'), version, expiresAtMs: 0 };
  const tombstone = { key: VICTIM, value: null, version, expiresAtMs: 0 };
  for (const record of [forged, tombstone]) {
    await tryEach('peer', '/quorumkv.v1.Replica/Apply', encodeRequest('Replica', 'Apply', { batch: encodeBatch([record]) }), refusedOnPeerPort);
    // The client port does not serve the Replica service at all.
    await tryEach('client', '/quorumkv.v1.Replica/Apply', encodeRequest('Replica', 'Apply', { batch: encodeBatch([record]) }), (who, outcome) => {
      assert.equal(outcome.status, 'UNIMPLEMENTED', who);
    });
  }
  const leftForever = encodeRequest('Replica', 'Probe', { sender: 'qkv-2', ringState: 'LEFT', ringStateVersion: String(2 ** 53 - 1) });
  await tryEach('peer', '/quorumkv.v1.Replica/Probe', leftForever, refusedOnPeerPort);
  assert.deepEqual(await state(), before);
});

test('a member cannot speak for another: its certificate must name the sender, in the metadata and in the probe', async () => {
  const before = await state();
  const leftForever = encodeRequest('Replica', 'Probe', { sender: 'qkv-2', ringState: 'LEFT', ringStateVersion: String(2 ** 53 - 1) });
  // qkv-3's certificate, claiming to be qkv-2 in the metadata.
  const claimsOther = new RawGrpcClient(cluster.peerAddress('qkv-1'), { credentials: nodeChannelCredentials(cluster.node('qkv-3').tlsDir!), sender: 'qkv-2' });
  // qkv-3's certificate and metadata, but a probe body that speaks for qkv-2.
  const bodyClaimsOther = cluster.rawPeerClient('qkv-1', 'qkv-3');
  try {
    for (const raw of [claimsOther, bodyClaimsOther]) {
      const outcome = await raw.call('/quorumkv.v1.Replica/Probe', leftForever);
      assert.equal(outcome.status, 'PERMISSION_DENIED', JSON.stringify(outcome));
      assert.equal(outcome.code, 'PEER_IDENTITY_MISMATCH');
    }
  } finally {
    claimsOther.close();
    bodyClaimsOther.close();
  }
  assert.deepEqual(await state(), before);
});

test('a scan of every token is refused to anyone who is not a member', async () => {
  const everything = encodeRequest('Replica', 'Scan', { range: { start: '0', end: '0' }, limit: 1000 });
  await tryEach('peer', '/quorumkv.v1.Replica/Scan', everything, (who, outcome) => {
    refusedOnPeerPort(who, outcome);
    assert.equal(outcome.response, undefined);
  });
});

test('Admin calls that change the cluster need the admin role', async () => {
  const before = await state();
  for (const method of ['Cleanup', 'Repair', 'Decommission']) {
    const bytes = encodeRequest('Admin', method, {});
    await tryEach('client', `/quorumkv.v1.Admin/${method}`, bytes, (who, outcome) => {
      if (who === 'no certificate') {
        assert.equal(outcome.status, 'UNAUTHENTICATED', `${method}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.code, 'UNAUTHENTICATED');
      } else {
        assert.equal(outcome.status, 'PERMISSION_DENIED', `${method}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.code, 'PERMISSION_DENIED');
        assert.match(outcome.details, /needs the role admin/);
      }
    });
  }
  assert.deepEqual(await state(), before);
});

test('roles: a reader reads but cannot write, a writer writes, an unknown user and a foreign CA get nothing', async () => {
  const reader = cluster.client(['qkv-1'], 5_000, 'reader');
  const writer = cluster.client(['qkv-1'], 5_000, 'writer');
  const mallory = cluster.client(['qkv-1'], 5_000, 'mallory');
  // It trusts this cluster's CA, but shows a certificate for `admin` that another CA signed.
  const read = (dir: string, name: string): Buffer => readFileSync(join(dir, name));
  const foreign = new QuorumKvClient({
    addresses: [cluster.address('qkv-1')],
    timeoutMs: 5_000,
    credentials: grpc.credentials.createSsl(read(cluster.certsDir!, 'ca.crt'), read(foreignCertsDir, 'client.admin.key'), read(foreignCertsDir, 'client.admin.crt'), {
      checkServerIdentity: () => undefined,
    }),
  });
  try {
    assert.equal((await reader.get(VICTIM)).value?.toString(), 'honest');
    await assert.rejects(reader.put(Buffer.from('k'), Buffer.from('v')), { code: 'PERMISSION_DENIED' });
    await assert.rejects(reader.delete(VICTIM), { code: 'PERMISSION_DENIED' });
    await writer.put(Buffer.from('written-by-writer'), Buffer.from('v'));
    assert.equal((await writer.get(Buffer.from('written-by-writer'))).value?.toString(), 'v');
    await assert.rejects(writer.repair(), { code: 'PERMISSION_DENIED' });
    await assert.rejects(mallory.get(VICTIM), { code: 'PERMISSION_DENIED' });
    // The handshake succeeds (a client certificate is asked for, not required), but a
    // certificate of another CA is no identity: UNAUTHENTICATED.
    await assert.rejects(foreign.get(VICTIM), { code: 'UNAUTHENTICATED' });
  } finally {
    for (const client of [reader, writer, mallory, foreign]) client.close();
  }
});

test('a 16 MiB BatchPut of 8.4 million empty items from a caller without the write role is refused at once, memory flat', async () => {
  const items = 8_388_000;
  const bytes = Buffer.alloc(items * 2);
  for (let i = 0; i < items; i++) bytes[i * 2] = 0x0a; // field 1 (items), length 0
  const rssBefore = rssBytes('qkv-1');
  // The caller with the write role is test/node/hostile-input.test.ts's: its batch
  // passes the guard and is stopped by the decoder's bounds.
  const [anonymous] = outsiders('client');
  const reader = cluster.rawClient('qkv-1', {}, 'reader');
  try {
    const anonymousOutcome = await anonymous!.raw.call('/quorumkv.v1.KV/BatchPut', bytes, 10_000);
    const readerOutcome = await reader.call('/quorumkv.v1.KV/BatchPut', bytes, 10_000);
    assert.equal(anonymousOutcome.code, 'UNAUTHENTICATED', JSON.stringify(anonymousOutcome));
    assert.equal(readerOutcome.code, 'PERMISSION_DENIED', JSON.stringify(readerOutcome));
  } finally {
    anonymous!.raw.close();
    reader.close();
  }
  const grownBytes = rssBytes('qkv-1') - rssBefore;
  assert.ok(grownBytes < 96 * 1024 * 1024, `the node grew by ${Math.round(grownBytes / 1024 / 1024)} MiB`);
  const ready = await fetch(`http://127.0.0.1:${cluster.node('qkv-1').httpPort}/readyz`);
  assert.equal(ready.status, 200);
});

test('on the Multiplex stream a reader\'s 16 MiB BatchPut is refused PERMISSION_DENIED under its id, memory flat, and the stream goes on', async (t) => {
  // As a unary call, the role is checked before the body is decoded (src/api/kv-stream.ts;
  // test/security/multiplex-role-before-decoding.test.ts counts the decoders).
  const valueBytes = 16 * 1024;
  const items = Math.floor((16 * 1024 * 1024 - 64 * 1024) / (valueBytes + 16));
  const batch = encodeRequest('KV', 'Multiplex', {
    id: 1,
    timeoutMs: 10_000,
    batchPut: { items: Array.from({ length: Math.min(items, 1000) }, (_, i) => ({ key: Buffer.from(`hostile-${i}`), value: Buffer.alloc(valueBytes, 0x61) })) },
  });
  assert.ok(batch.length > 15 * 1024 * 1024, `${batch.length} bytes`);
  const rssBefore = rssBytes('qkv-1');
  const reader = cluster.rawClient('qkv-1', {}, 'reader');
  try {
    const outcome = await reader.stream('/quorumkv.v1.KV/Multiplex', [batch, batch, encodeRequest('KV', 'Multiplex', { id: 3, timeoutMs: 10_000, get: { key: VICTIM } })], 30_000);
    assert.equal(outcome.status, 'OK', outcome.details);
    const replies = new Map(outcome.replies.map((bytes) => decodeResponse<KvStreamReply__Output>('KV', 'Multiplex', bytes)).map((reply) => [reply.id, reply]));
    assert.equal(replies.get(1)?.error?.code, 'PERMISSION_DENIED', JSON.stringify(replies.get(1)?.error));
    assert.match(replies.get(1)?.error?.message ?? '', /needs the role write/);
    assert.equal(replies.get(3)?.get?.value.toString(), 'honest');
  } finally {
    reader.close();
  }
  const grownBytes = rssBytes('qkv-1') - rssBefore;
  t.diagnostic(`two ${(batch.length / 1024 / 1024).toFixed(1)} MiB BatchPuts refused on the stream: the node's RSS changed by ${Math.round(grownBytes / 1024 / 1024)} MiB`);
  assert.ok(grownBytes < 96 * 1024 * 1024, `the node grew by ${Math.round(grownBytes / 1024 / 1024)} MiB`);
  const client = cluster.client(['qkv-1']);
  try {
    assert.equal((await client.get(Buffer.from('hostile-0'), { r: 3 })).found, false, 'nothing of the refused batch was written');
  } finally {
    client.close();
  }
});

test('the Multiplex stream: no certificate or a certificate without a role cannot open it; an oversized Put gets the unary call\'s code', async () => {
  const get = encodeRequest('KV', 'Multiplex', { id: 1, timeoutMs: 10_000, get: { key: VICTIM } });
  const [anonymous] = outsiders('client');
  const mallory = cluster.rawClient('qkv-1', {}, 'mallory');
  try {
    const anonymousOutcome = await anonymous!.raw.stream('/quorumkv.v1.KV/Multiplex', [get], 10_000);
    assert.equal(anonymousOutcome.code, 'UNAUTHENTICATED', JSON.stringify(anonymousOutcome));
    assert.equal(anonymousOutcome.replies.length, 0);
    const malloryOutcome = await mallory.stream('/quorumkv.v1.KV/Multiplex', [get], 10_000);
    assert.equal(malloryOutcome.code, 'PERMISSION_DENIED', JSON.stringify(malloryOutcome));
    assert.equal(malloryOutcome.replies.length, 0);
  } finally {
    anonymous!.raw.close();
    mallory.close();
  }
  // A Put past the unary Put's byte limit, from a reader and from a writer: the same code
  // on the stream as in a unary call (role first, then size).
  const put = { key: Buffer.from('oversized'), value: Buffer.alloc(PUT_REQUEST_BYTES_MAX, 0x61) };
  for (const [user, code] of [['reader', 'PERMISSION_DENIED'], ['writer', 'INVALID_ARGUMENT']] as const) {
    const raw = cluster.rawClient('qkv-1', {}, user);
    try {
      const unary = await raw.call('/quorumkv.v1.KV/Put', encodeRequest('KV', 'Put', put), 10_000);
      const streamed = await raw.stream('/quorumkv.v1.KV/Multiplex', [encodeRequest('KV', 'Multiplex', { id: 5, timeoutMs: 10_000, put })], 10_000);
      const reply = decodeResponse<KvStreamReply__Output>('KV', 'Multiplex', streamed.replies[0]!);
      assert.equal(unary.code, code, `${user} unary: ${JSON.stringify({ ...unary, response: undefined })}`);
      assert.equal(reply.error?.code, code, `${user} on the stream: ${JSON.stringify(reply.error)}`);
      if (code === 'INVALID_ARGUMENT') assert.equal(reply.error?.message, unary.details);
    } finally {
      raw.close();
    }
  }
});

test('forty 15 MiB calls at once from a caller without a certificate, health included, leave memory flat', async () => {
  const body = Buffer.alloc(15 * 1024 * 1024, 0x0a);
  const rssBefore = rssBytes('qkv-1');
  const [anonymous] = outsiders('client');
  try {
    const methods = ['/grpc.health.v1.Health/Check', '/quorumkv.v1.KV/Get', '/quorumkv.v1.KV/BatchPut', '/quorumkv.v1.Admin/Status'];
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => anonymous!.raw.call(methods[i % methods.length]!, body, 30_000)));
    for (const outcome of outcomes) assert.equal(outcome.code, 'UNAUTHENTICATED', JSON.stringify({ ...outcome, response: undefined }));
  } finally {
    anonymous!.raw.close();
  }
  const grownBytes = rssBytes('qkv-1') - rssBefore;
  assert.ok(grownBytes < 96 * 1024 * 1024, `the node grew by ${Math.round(grownBytes / 1024 / 1024)} MiB`);
});

test('forty 15 MiB Gets at once from a user with the read role: memory stays within the receive gate\'s bound', async (context) => {
  // grpc-js holds a call's whole message before any size check; the receive gate lets
  // RECEIVING_CALLS_MAX (8) calls be read at a time. Without it the node grew by ~700 MB.
  const body = Buffer.alloc(15 * 1024 * 1024, 0x0a);
  const rssBefore = rssBytes('qkv-1');
  let peakBytes = rssBefore;
  const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, rssBytes('qkv-1'))), 20);
  const reader = cluster.rawClient('qkv-1', {}, 'reader');
  try {
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => reader.call('/quorumkv.v1.KV/Get', body, 60_000)));
    for (const outcome of outcomes) assert.equal(outcome.code, 'INVALID_ARGUMENT', JSON.stringify({ ...outcome, response: undefined }));
  } finally {
    clearInterval(sampler);
    reader.close();
  }
  const peakGrowthMiB = Math.round((peakBytes - rssBefore) / 1024 / 1024);
  context.diagnostic(`peak RSS growth ${peakGrowthMiB} MiB`);
  assert.ok(peakGrowthMiB < 320, `the node grew by ${peakGrowthMiB} MiB at its peak`);
});

test('reflection is off on the client port unless enabled; health answers any certificate of the CA, and no caller without one', async () => {
  const admin = cluster.rawClient('qkv-1');
  try {
    const outcome = await admin.call('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', Buffer.alloc(0));
    assert.equal(outcome.status, 'UNIMPLEMENTED');
  } finally {
    admin.close();
  }
  await tryEach('client', '/grpc.health.v1.Health/Check', Buffer.alloc(0), (who, outcome) => assert.equal(outcome.status, who === 'no certificate' ? 'UNAUTHENTICATED' : 'OK', who));
});

test('after every attack the nodes are ready and agree', async () => {
  for (const id of ['qkv-1', 'qkv-2', 'qkv-3']) {
    const ready = await fetch(`http://127.0.0.1:${cluster.node(id).httpPort}/readyz`);
    assert.equal(ready.status, 200, id);
  }
  const { digests, victim } = await state();
  assert.equal(new Set(digests).size, 1);
  assert.equal(victim, 'honest');
  const refused = await cluster.metrics('qkv-1');
  assert.match(refused, /qkv_calls_refused_total\{[^}]*code="PEER_IDENTITY_MISMATCH"[^}]*\} [1-9]/);
  assert.match(refused, /qkv_calls_refused_total\{[^}]*code="UNAUTHENTICATED"[^}]*\} [1-9]/);
});
