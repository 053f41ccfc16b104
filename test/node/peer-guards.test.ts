// The two attacks of issue 13 that any caller reaching the Replica service could make,
// against real `qkv server` processes over real gRPC, and the guards that close them
// (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md):
//
// - a Replica.Apply (unary, and on an Exchange stream) of a record or a tombstone
//   stamped in the year 10889 is refused with STAMP_FROM_FUTURE and stores nothing; the
//   key keeps its value and later writes win;
// - a Replica.Probe claiming `sender=qkv-2, state LEFT, version 2^53-1` (or saying it
//   heard the receiver at 2^53-1) is refused with RING_STATE_VERSION_FROM_FUTURE: the
//   receiver's ring digest and its ring-state.json stay as they were;
// - a node whose ring-state.json holds the poison such a probe left before the guard
//   (its own state at version 2^53, a peer LEFT at 2^53-1) starts, announces its state
//   again from the current time, hears the peer again, and the cluster serves W=3.
//
// The nodes run with TLS, and the forged calls come from where these guards matter: a
// member with its own valid node certificate on the peer port (a compromised or buggy
// peer), each claiming to be the member whose certificate it holds. What a caller
// without a member's certificate gets is test/security's subject.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { bytesField, decodeResponse, encodeRequest, varintField, type RawGrpcClient, type RawOutcome } from '../support/raw-grpc.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { HLC_FORWARD_DRIFT_MS_MAX, RING_STATE_VERSION_AHEAD_MS_MAX } from '../../src/limits.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import type { ExchangeReply__Output } from '../../src/protocol/generated/quorumkv/v1/ExchangeReply.js';
import type { ProbeResponse__Output } from '../../src/protocol/generated/quorumkv/v1/ProbeResponse.js';

const APPLY = '/quorumkv.v1.Replica/Apply';
const EXCHANGE = '/quorumkv.v1.Replica/Exchange';
const PROBE = '/quorumkv.v1.Replica/Probe';
const victim = Buffer.from('victim');
/** The largest wall time a 48-bit stamp holds: 2^48-1 ms after the epoch, in the year 10889. */
const YEAR_10889 = stampOf((1n << 48n) - 1n, 0n);
const FORGED_VERSION = String(2 ** 53 - 1);

let cluster: ProcessCluster;
let client: QuorumKvClient;
/** qkv-1's peer port, as member qkv-2 with its node certificate. */
let raw: RawGrpcClient;
/** qkv-1's peer port, as member qkv-3. */
let rawAsThird: RawGrpcClient;
const dataRoot = await tempDir(undefined, 'qkv-peer-guards-');

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot });
  client = cluster.client(['qkv-1', 'qkv-2', 'qkv-3'], 10_000);
  raw = cluster.rawPeerClient('qkv-1', 'qkv-2');
  rawAsThird = cluster.rawPeerClient('qkv-1', 'qkv-3');
});

after(async () => {
  rawAsThird?.close();
  raw?.close();
  client?.close();
  await cluster?.stopAll();
});

function forged(value: string | null): KvRecord {
  return { key: victim, value: value === null ? null : Buffer.from(value), version: { stamp: YEAR_10889, nodeId: 'qkv-2' }, expiresAtMs: 0 };
}

/** The error reply to one Apply sent on an Exchange stream, as a peer sends it. */
async function applyOnExchange(records: readonly KvRecord[]): Promise<{ code: string; message: string }> {
  const apply = encodeRequest('Replica', 'Apply', { batch: encodeBatch(records) });
  const outcome = await raw.stream(EXCHANGE, [Buffer.concat([varintField(1, 7n), bytesField(2, apply)])]);
  assert.equal(outcome.replies.length, 1, `one reply (stream ended ${outcome.status} ${outcome.details})`);
  const replica = loadQuorumKvProtocol().packageDefinition['quorumkv.v1.Replica'] as Record<string, grpc.MethodDefinition<object, ExchangeReply__Output>>;
  const reply = replica['Exchange']!.responseDeserialize(outcome.replies[0]!);
  assert.equal(reply.body, 'error', 'an error reply');
  return { code: reply.error!.code, message: reply.error!.message };
}

/** A probe of qkv-1 sent by the member its body names (qkv-2 for an anonymous one). */
async function probe(request: { sender: string }): Promise<RawOutcome> {
  const sender = request.sender === 'qkv-3' ? rawAsThird : raw;
  return sender.call(PROBE, encodeRequest('Replica', 'Probe', request));
}

/** qkv-1's read ring digest, from an anonymous probe's answer. */
async function ringDigest(): Promise<string> {
  const outcome = await probe({ sender: '' });
  assert.equal(outcome.status, 'OK', outcome.details);
  return decodeResponse<ProbeResponse__Output>('Replica', 'Probe', outcome.response!).ringDigest;
}

test('an Apply of a record or a tombstone stamped in the year 10889 is refused with STAMP_FROM_FUTURE, unary and on Exchange; the value stays and later writes win', async () => {
  assert.equal((await client.put(victim, Buffer.from('honest'), { w: 3 })).acks, 3);
  for (const record of [forged('forged'), forged(null)]) {
    const outcome = await raw.call(APPLY, encodeRequest('Replica', 'Apply', { batch: encodeBatch([record]) }));
    assert.equal(outcome.status, 'FAILED_PRECONDITION', outcome.details);
    assert.equal(outcome.code, 'STAMP_FROM_FUTURE');
    assert.match(outcome.details, new RegExp(`stamp ${YEAR_10889} `), 'names the stamp');
    assert.match(outcome.details, new RegExp(`more than ${HLC_FORWARD_DRIFT_MS_MAX} ms ahead`), 'names the bound');
    const streamed = await applyOnExchange([record]);
    assert.equal(streamed.code, 'STAMP_FROM_FUTURE', streamed.message);
  }

  const read = await client.get(victim, { r: 3 });
  assert.equal(read.value.toString(), 'honest');
  assert.equal((await client.put(victim, Buffer.from('new'), { w: 3 })).acks, 3);
  for (const node of cluster.nodes) {
    const one = cluster.client([node.id]);
    try {
      assert.equal((await one.get(victim, { r: 3 })).value.toString(), 'new', `read through ${node.id}`);
    } finally {
      one.close();
    }
  }
});

test('a probe claiming qkv-2 LEFT at version 2^53-1, or having heard qkv-1 at it, is refused with RING_STATE_VERSION_FROM_FUTURE; the ring digest and ring-state.json stay', async () => {
  const file = join(cluster.node('qkv-1').dataDir, 'ring-state.json');
  const digestBefore = await ringDigest();
  const fileBefore = await readFile(file, 'utf8');
  const attacks = [
    { sender: 'qkv-2', ringState: 'LEFT', ringStateVersion: FORGED_VERSION },
    { sender: 'qkv-2', ringState: 'NORMAL', ringStateVersion: '1', heardRingState: 'NORMAL', heardRingStateVersion: FORGED_VERSION },
    { sender: 'qkv-3', ringState: 'LEFT', ringStateVersion: String(Date.now() + 10 * RING_STATE_VERSION_AHEAD_MS_MAX) },
  ];
  for (const attack of attacks) {
    const outcome = await probe(attack);
    assert.equal(outcome.status, 'FAILED_PRECONDITION', outcome.details);
    assert.equal(outcome.code, 'RING_STATE_VERSION_FROM_FUTURE');
    assert.match(outcome.details, new RegExp(`at most ${RING_STATE_VERSION_AHEAD_MS_MAX} ms ahead`));
  }
  // Long enough for a save in the background and for the peers' next probes.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(await ringDigest(), digestBefore);
  assert.equal(await readFile(file, 'utf8'), fileBefore);
  const one = cluster.client(['qkv-1']);
  try {
    const status = await one.status();
    assert.deepEqual(status.members.map((member) => [member.id, member.ringState]).sort(), [['qkv-1', 'NORMAL'], ['qkv-2', 'NORMAL'], ['qkv-3', 'NORMAL']]);
  } finally {
    one.close();
  }
  assert.equal((await client.put(Buffer.from('after-probe'), Buffer.from('x'), { w: 3 })).acks, 3);
});

test('a node restarted with the poison in its ring-state.json (own version 2^53, a peer LEFT at 2^53-1) announces again from the current time and the cluster serves W=3', async () => {
  const node = cluster.node('qkv-3');
  const file = join(node.dataDir, 'ring-state.json');
  await cluster.terminate('qkv-3');
  const saved = JSON.parse(await readFile(file, 'utf8')) as { self: { state: string; version: number }; peers: Record<string, { state: string; version: number }> };
  assert.equal(saved.self.state, 'NORMAL');
  // 2^53 is what qkv-3 itself would have announced to outrun the forged 2^53-1.
  await writeFile(file, JSON.stringify({ format: 1, self: { state: 'NORMAL', version: 2 ** 53 }, peers: { ...saved.peers, 'qkv-2': { state: 'LEFT', version: 2 ** 53 - 1 } } }, null, 1));
  const startedMs = Date.now();
  await cluster.restart('qkv-3');
  await cluster.awaitRingViews(['qkv-1', 'qkv-2', 'qkv-3']);
  // The dropped peer state is saved again once heard, in the background.
  let healed = JSON.parse(await readFile(file, 'utf8')) as typeof saved;
  for (let waitedMs = 0; healed.peers['qkv-2']?.state !== 'NORMAL' && waitedMs < 5_000; waitedMs += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    healed = JSON.parse(await readFile(file, 'utf8')) as typeof saved;
  }
  assert.equal(healed.self.state, 'NORMAL');
  assert.ok(healed.self.version >= startedMs && healed.self.version <= Date.now() + RING_STATE_VERSION_AHEAD_MS_MAX, `own version ${healed.self.version}`);
  assert.equal(healed.peers['qkv-2']?.state, 'NORMAL', 'qkv-2 heard again');
  assert.ok(healed.peers['qkv-2']!.version <= Date.now() + RING_STATE_VERSION_AHEAD_MS_MAX);
  const through = cluster.client(['qkv-3']);
  try {
    assert.equal((await through.put(Buffer.from('after-restart'), Buffer.from('y'), { w: 3 })).acks, 3);
    assert.equal((await through.get(Buffer.from('after-restart'), { r: 3 })).value.toString(), 'y');
  } finally {
    through.close();
  }
});
