// Decoding bounded before allocation, against real `qkv server` processes
// (docs/decisions/0102-bounded-decoding.md). A 16 MiB KV.BatchPut of 8.4 million empty
// items used to be refused only after 34 s, once protobufjs had built every item: the
// node grew from 137 MB to 4.28 GB and its peers marked it down. Now a request's
// repeated fields are counted before anything is decoded and the count stops at the
// limit, each method's request has its own byte limit, and one connection may have at
// most GRPC_CONNECTION_STREAMS_MAX calls open. Every attack below must be refused with
// its code within seconds, while the node's resident memory (VmRSS in /proc/<pid>/status,
// Linux) stays flat, and the node must stay ready, up in its peers' eyes, and serving.
// The attackers are ones the guards let through: the client-port calls carry the admin
// client certificate, the Replica calls a member's certificate on the peer port
// (test/security/hostile-callers.test.ts has the callers the guards refuse).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { ProcessCluster, sampleValue } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { RawGrpcClient, bytesField, varint, varintField, type RawOutcome } from '../support/raw-grpc.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { BATCH_GET_REQUEST_BYTES_MAX, FORGOTTEN_MEMBERS_MAX, GRPC_CONNECTION_STREAMS_MAX, GRPC_MESSAGE_BYTES_MAX, PROBE_REQUEST_BYTES_MAX, SMALL_REQUEST_BYTES_MAX } from '../../src/limits.js';

const MIB = 1024 * 1024;
/** Loose: the refusals take milliseconds; this only catches a node that decodes first (34 s before). */
const REFUSAL_MS_MAX = 5_000;
/**
 * Resident memory the node may keep once the attacks are over (the unfixed node gained
 * 4 GB from the first one). Each attack's 16 MiB message stays resident until the
 * collector frees it, so memory is read once it has settled (SETTLE_MS_MAX). Resident
 * memory that the heap gave back need not leave the process, so what settles varies
 * from run to run: +37 to +65 MiB was seen over eight 16 MiB attacks.
 */
const RSS_GROWTH_BYTES_MAX = 96 * MIB;
/**
 * Peak resident memory the node may gain during the attacks: a few received 16 MiB
 * messages (grpc-js's chunks and their concatenation) not yet collected, nothing that
 * grows with the items in them.
 */
const PEAK_GROWTH_BYTES_MAX = 128 * MIB;
/** How long resident memory may take to settle after the attacks. */
const SETTLE_MS_MAX = 10_000;
const ATTACKED = 'qkv-1';

let cluster: ProcessCluster;
let client: QuorumKvClient;
let raw: RawGrpcClient;
/** Member qkv-2 calling the attacked node's peer port. */
let peerRaw: RawGrpcClient;
const dataRoot = await tempDir(undefined, 'qkv-bounded-decoding-');

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot });
  client = cluster.client([ATTACKED], 10_000);
  raw = cluster.rawClient(ATTACKED);
  peerRaw = cluster.rawPeerClient(ATTACKED, 'qkv-2');
});

after(async () => {
  raw?.close();
  peerRaw?.close();
  client?.close();
  await cluster?.stopAll();
});

/** `count` copies of `field` (already encoded, tag included) back to back. */
function repeated(field: Buffer, count: number): Buffer {
  const bytes = Buffer.allocUnsafe(field.length * count);
  for (let at = 0; at < bytes.length; at += field.length) field.copy(bytes, at);
  return bytes;
}

/** An empty length-delimited field 1, two bytes: an empty item, key, record, ... */
const EMPTY_FIELD_1 = bytesField(1, Buffer.alloc(0));
/** As many empty field-1 entries as fit the server's 16 MiB message ceiling: 8,388,608. */
const ATTACK_ITEMS = GRPC_MESSAGE_BYTES_MAX / EMPTY_FIELD_1.length;

/** A length-delimited field whose header says `length` bytes follow; the payload is appended by the caller. */
function delimitedHeader(field: number, length: number): Buffer {
  return Buffer.concat([varint(BigInt((field << 3) | 2)), varint(BigInt(length))]);
}

/** The payload of a message of `bytes` bytes with the header of field `field` in front. */
function wrapped(field: number, bytesTotal: number, payload: (bytes: number) => Buffer): Buffer {
  // The header is 1 byte of tag and 4 of length for every payload between 2 MiB and 256 MiB.
  const inner = payload(bytesTotal - 5);
  return Buffer.concat([delimitedHeader(field, inner.length), inner]);
}

const PEERS = ['qkv-2', 'qkv-3'];

/** How often each peer's failure detector has moved the attacked node to suspect or down. */
async function suspicions(): Promise<number[]> {
  return Promise.all(
    PEERS.map(async (peer) => {
      const metrics = await cluster.metrics(peer);
      return ['suspect', 'down'].reduce((sum, to) => sum + (sampleValue(metrics, 'qkv_peer_state_transitions_total', { peer: ATTACKED, to }) ?? 0), 0);
    }),
  );
}

async function vmStatusBytes(id: string, key: 'VmRSS' | 'VmHWM'): Promise<number> {
  const pid = cluster.node(id).child?.pid;
  assert.ok(pid !== undefined, `${id} is running`);
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, `${key} in /proc/<pid>/status`);
  return Number(match[1]) * 1024;
}

interface Attack {
  readonly name: string;
  readonly send: () => Promise<RawOutcome>;
  readonly status: string;
  readonly code: string;
  readonly details: RegExp;
}

const EXCHANGE = '/quorumkv.v1.Replica/Exchange';
const PROBE = '/quorumkv.v1.Replica/Probe';
/** ProbeRequest.forgotten (field 6), an empty ForgottenMember. */
const EMPTY_FORGOTTEN = bytesField(6, Buffer.alloc(0));

const attacks: Attack[] = [
  {
    name: `KV.BatchPut of ${ATTACK_ITEMS} empty items (16 MiB)`,
    send: () => raw.call('/quorumkv.v1.KV/BatchPut', repeated(EMPTY_FIELD_1, ATTACK_ITEMS)),
    status: 'INVALID_ARGUMENT',
    code: 'BATCH_TOO_LARGE',
    details: /BatchPutRequest\.items has more than 1000 items/,
  },
  {
    // The fast decoder refuses `w` in the wrong wire type and used to hand the message to
    // protobufjs, which reads the length as w and then every item behind it.
    name: 'KV.BatchPut hiding 8.4 million empty items behind a length-delimited w',
    send: () => raw.call('/quorumkv.v1.KV/BatchPut', wrapped(2, GRPC_MESSAGE_BYTES_MAX, (bytes) => repeated(EMPTY_FIELD_1, Math.floor(bytes / 2)))),
    status: 'INVALID_ARGUMENT',
    code: 'INVALID_ARGUMENT',
    details: /BatchPutRequest\.w arrived in wire type 2/,
  },
  {
    name: `KV.BatchGet of ${ATTACK_ITEMS} empty keys (16 MiB, past its ${BATCH_GET_REQUEST_BYTES_MAX}-byte limit)`,
    send: () => raw.call('/quorumkv.v1.KV/BatchGet', repeated(EMPTY_FIELD_1, ATTACK_ITEMS)),
    status: 'INVALID_ARGUMENT',
    code: 'INVALID_ARGUMENT',
    details: /the limit of this method is/,
  },
  {
    name: 'KV.BatchGet of empty keys up to its byte limit',
    send: () => raw.call('/quorumkv.v1.KV/BatchGet', repeated(EMPTY_FIELD_1, Math.floor(BATCH_GET_REQUEST_BYTES_MAX / 2))),
    status: 'INVALID_ARGUMENT',
    code: 'BATCH_TOO_LARGE',
    details: /BatchGetRequest\.keys has more than 1000 items/,
  },
  {
    name: 'Replica.Exchange: a read of 8.4 million empty keys (16 MiB)',
    send: () => peerRaw.stream(EXCHANGE, [Buffer.concat([varintField(1, 1n), wrapped(3, GRPC_MESSAGE_BYTES_MAX - 2, (bytes) => repeated(EMPTY_FIELD_1, Math.floor(bytes / 2)))])]),
    status: 'INVALID_ARGUMENT',
    code: 'BATCH_TOO_LARGE',
    details: /ReadRequest\.keys has more than 4096 items/,
  },
  {
    // A probe may carry 128 signed forgotten members (ADR 0268), so it has a limit of its own.
    name: `Replica.Probe of 16 MiB (past its ${PROBE_REQUEST_BYTES_MAX}-byte limit)`,
    send: () => peerRaw.call(PROBE, repeated(EMPTY_FORGOTTEN, ATTACK_ITEMS)),
    status: 'INVALID_ARGUMENT',
    code: 'INVALID_ARGUMENT',
    details: new RegExp(`the request is ${GRPC_MESSAGE_BYTES_MAX} bytes; the limit of this method is ${PROBE_REQUEST_BYTES_MAX}`),
  },
  {
    name: 'Replica.Probe of empty forgotten members up to its byte limit',
    send: () => peerRaw.call(PROBE, repeated(EMPTY_FORGOTTEN, Math.floor(PROBE_REQUEST_BYTES_MAX / EMPTY_FORGOTTEN.length))),
    status: 'INVALID_ARGUMENT',
    code: 'BATCH_TOO_LARGE',
    details: new RegExp(`ProbeRequest\\.forgotten has more than ${FORGOTTEN_MEMBERS_MAX} items`),
  },
  {
    name: `KV.Get of 16 MiB (past its ${SMALL_REQUEST_BYTES_MAX}-byte limit)`,
    send: () => raw.call('/quorumkv.v1.KV/Get', wrapped(1, GRPC_MESSAGE_BYTES_MAX, (bytes) => Buffer.alloc(bytes, 0x6b))),
    status: 'INVALID_ARGUMENT',
    code: 'INVALID_ARGUMENT',
    details: /the request is 16777216 bytes; the limit of this method is 65536/,
  },
];

test('16 MiB requests with millions of items are refused in milliseconds, memory flat, the node ready and up', async (t) => {
  // Warm the paths up (a value written and read), so that what is measured is the attacks.
  await client.put(Buffer.from('before'), Buffer.from('v'), { w: 3 });
  const suspicionsBefore = await suspicions();
  const rssBefore = await vmStatusBytes(ATTACKED, 'VmRSS');
  const peakBefore = await vmStatusBytes(ATTACKED, 'VmHWM');
  t.diagnostic(`${ATTACKED} before: VmRSS ${(rssBefore / MIB).toFixed(1)} MiB, VmHWM ${(peakBefore / MIB).toFixed(1)} MiB`);

  for (const attack of attacks) {
    const outcome = await attack.send();
    t.diagnostic(`${attack.name}: ${outcome.status} ${outcome.code ?? ''} in ${outcome.elapsedMs} ms; ${outcome.details.slice(0, 120)}`);
    // A node that died of it (heap out of memory) drops the connection: UNAVAILABLE.
    assert.equal(outcome.status, attack.status, `${attack.name}: ${outcome.details}; the node's last output:\n${cluster.node(ATTACKED).output.slice(-1000)}`);
    assert.equal(outcome.code, attack.code, attack.name);
    assert.equal(cluster.node(ATTACKED).child?.exitCode, null, `${ATTACKED} still runs after "${attack.name}"`);
    t.diagnostic(`  VmRSS ${((await vmStatusBytes(ATTACKED, 'VmRSS')) / MIB).toFixed(1)} MiB`);
    assert.match(outcome.details, attack.details, attack.name);
    assert.ok(outcome.elapsedMs < REFUSAL_MS_MAX, `${attack.name} took ${outcome.elapsedMs} ms`);
  }

  const peakAfter = await vmStatusBytes(ATTACKED, 'VmHWM');
  const rssRightAfter = await vmStatusBytes(ATTACKED, 'VmRSS');
  // Small calls make the node allocate, and so collect the attacks' messages.
  let rssAfter = rssRightAfter;
  const settleBy = Date.now() + SETTLE_MS_MAX;
  while (rssAfter - rssBefore >= RSS_GROWTH_BYTES_MAX && Date.now() < settleBy) {
    await client.get(Buffer.from('before'), { r: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    rssAfter = await vmStatusBytes(ATTACKED, 'VmRSS');
  }
  const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
  t.diagnostic(
    `${ATTACKED} after ${attacks.length} attacks: VmHWM ${mib(peakAfter)} MiB (+${mib(peakAfter - peakBefore)}), ` +
      `VmRSS right after ${mib(rssRightAfter)} MiB (+${mib(rssRightAfter - rssBefore)}), settled ${mib(rssAfter)} MiB (+${mib(rssAfter - rssBefore)})`,
  );
  assert.ok(peakAfter - peakBefore < PEAK_GROWTH_BYTES_MAX, `VmHWM grew by ${mib(peakAfter - peakBefore)} MiB`);
  assert.ok(rssAfter - rssBefore < RSS_GROWTH_BYTES_MAX, `VmRSS stayed ${mib(rssAfter - rssBefore)} MiB above where it was after ${SETTLE_MS_MAX} ms`);

  // Still ready, still serving W=3/R=3, and its peers never marked it down.
  for (const node of cluster.nodes) assert.equal((await fetch(`http://127.0.0.1:${node.httpPort}/readyz`)).status, 200, `${node.id} ready`);
  assert.equal((await client.put(Buffer.from('after'), Buffer.from('x'), { w: 3 })).acks, 3);
  assert.equal((await client.get(Buffer.from('after'), { r: 3 })).value.toString(), 'x');
  for (const peer of PEERS) {
    const peerClient = cluster.client([peer]);
    try {
      const member = (await peerClient.status()).members.find((candidate) => candidate.id === ATTACKED);
      assert.equal(member?.liveness, 'up', `${peer} sees ${ATTACKED} ${member?.liveness}`);
    } finally {
      peerClient.close();
    }
  }
  assert.deepEqual(await suspicions(), suspicionsBefore, `${PEERS.join(' and ')} never suspected ${ATTACKED} during the attacks`);
});

test(`the node announces at most ${GRPC_CONNECTION_STREAMS_MAX} concurrent calls per connection`, async () => {
  // Both ports speak TLS; the setting is the server's, whoever connects.
  const session = http2.connect(`https://${cluster.address(ATTACKED)}`, { rejectUnauthorized: false });
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('remoteSettings', resolve);
      session.once('error', reject);
    });
    assert.equal(settings.maxConcurrentStreams, GRPC_CONNECTION_STREAMS_MAX);
  } finally {
    session.close();
  }
});
