// Hostile input against real `qkv server` processes over real gRPC: every bytes field
// truncated or garbage, wrong lengths, huge counts, empty and oversized keys, ranges and
// cursors out of range, uint64 varints of 10 and 11 bytes, a wrong wire type, nesting
// too deep, an oversized and a decompression-bomb message, Merkle depths and scan limits
// out of bounds, and the inputs that used to end a node (a Read naming one 1 MiB value
// thousands of times) or stall it. Each must get one clear status — with its quorumkv
// code wherever our code answers — within a bounded time, while a writer keeps writing
// with W=2. Afterwards every node is still running and serves W=3 puts and R=3 gets, and
// every write that was acknowledged at any point reads back. Every Apply and Read case is
// sent once more inside a Replica.Exchange stream (the path peers use), where a bad body
// must get an error reply with the same code and a message that is no ExchangeRequest
// must end the stream with INVALID_ARGUMENT and its code. The nodes run with TLS, so
// the bytes are sent as callers that get past the guards (what the guards refuse is
// test/security's subject): KV and Admin bytes to the client port with the admin user's
// certificate, Replica bytes to the peer port as member qkv-2 with its node certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { RawGrpcClient, bytesField, decodeResponse, encodeRequest, varintField, type RawOutcome } from '../support/raw-grpc.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { BATCH_GET_RESPONSE_BYTES_MAX, GRPC_MESSAGE_BYTES_MAX, REPLICA_ANSWER_BYTES_MAX } from '../../src/limits.js';
import { ERROR_STATUS, isErrorCode } from '../../src/protocol/error-status.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import * as grpc from '@grpc/grpc-js';
import type { ExchangeReply__Output } from '../../src/protocol/generated/quorumkv/v1/ExchangeReply.js';
import type { ReadResponse__Output } from '../../src/protocol/generated/quorumkv/v1/ReadResponse.js';
import type { MerkleTreeResponse__Output } from '../../src/protocol/generated/quorumkv/v1/MerkleTreeResponse.js';
import type { ScanResponse__Output } from '../../src/protocol/generated/quorumkv/v1/ScanResponse.js';
import type { BatchGetResponse__Output } from '../../src/protocol/generated/quorumkv/v1/BatchGetResponse.js';

/** No hostile call may take longer than this (a stalled node would). */
const CALL_MS_MAX = 15_000;
const UINT64_MAX = (1n << 64n) - 1n;
const MIB = 1024 * 1024;
const HOT = Buffer.from('hot');

let cluster: ProcessCluster;
let client: QuorumKvClient;
/** KV and Admin bytes: qkv-1's client port, as the admin user. */
let raw: RawGrpcClient;
/** Replica bytes: qkv-1's peer port, as member qkv-2 with its node certificate. */
let rawPeer: RawGrpcClient;
const dataRoot = await tempDir(undefined, 'qkv-hostile-');

/** The sender of the peer-port calls: a member, so the bytes get past the guard. */
const SENDER = 'qkv-2';
const isReplicaPath = (path: string): boolean => path.startsWith('/quorumkv.v1.Replica/');

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot });
  client = cluster.client(['qkv-1', 'qkv-2', 'qkv-3'], 20_000);
  raw = cluster.rawClient('qkv-1');
  rawPeer = cluster.rawPeerClient('qkv-1', SENDER);
});

after(async () => {
  rawPeer?.close();
  raw?.close();
  client?.close();
  await cluster?.stopAll();
});

function record(key: Buffer, value: Buffer | null, nodeId = 'qkv-9', expiresAtMs = 0): KvRecord {
  return { key, value, version: { stamp: 1n, nodeId }, expiresAtMs };
}

/** A one-record batch in the storage codec, then `patch` applied to its bytes. */
function batch(one: KvRecord, patch: (bytes: Buffer) => Buffer = (bytes) => bytes): Buffer {
  return patch(encodeBatch([one]));
}

/** The byte offset of the record's flags in a one-record batch (count u32, key length u16, key). */
const flagsAt = (key: Buffer): number => 4 + 2 + key.length;

interface HostileCase {
  readonly name: string;
  readonly path: string;
  readonly bytes: Buffer | (() => Buffer);
  /** The status, and the quorumkv code the node must put beside it (undefined: grpc-js answers alone). */
  readonly status: string;
  readonly code?: string;
  /** Further checks of a successful answer. */
  readonly check?: (outcome: RawOutcome) => void;
  /** Channel options of a client of its own, e.g. compression. */
  readonly channel?: Record<string, number>;
}

const EXCHANGE = '/quorumkv.v1.Replica/Exchange';
const READ = '/quorumkv.v1.Replica/Read';
const APPLY = '/quorumkv.v1.Replica/Apply';
const TREE = '/quorumkv.v1.Replica/MerkleTree';
const SCAN = '/quorumkv.v1.Replica/Scan';
const PUT = '/quorumkv.v1.KV/Put';
const GET = '/quorumkv.v1.KV/Get';
const BATCH_PUT = '/quorumkv.v1.KV/BatchPut';
const BATCH_GET = '/quorumkv.v1.KV/BatchGet';
const ring = (start: bigint, end: bigint): object => ({ start: start.toString(), end: end.toString() });
const bad = (name: string, path: string, bytes: Buffer | (() => Buffer), code = 'INVALID_ARGUMENT', status = 'INVALID_ARGUMENT'): HostileCase => ({ name, path, bytes, status, code });

const cases: HostileCase[] = [
  // Bytes that are no protobuf message at all: grpc-js's own answer would be a bare INTERNAL.
  bad('Read: garbage bytes', READ, Buffer.from([0xff, 0xff, 0xff, 0xff])),
  bad('Read: a length running past the end', READ, bytesField(1, Buffer.from('abc')).subarray(0, 3)),
  bad('Read: an 11-byte varint', READ, Buffer.concat([Buffer.from([0x08]), Buffer.alloc(10, 0xff), Buffer.from([0x01])])),
  bad('Read: 100k nested groups', READ, Buffer.alloc(100_000, 0x0b)),
  bad('Put: garbage bytes', PUT, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
  bad('Admin.Status: a truncated tag', '/quorumkv.v1.Admin/Status', Buffer.from([0x80])),
  // Keys and counts out of bounds.
  bad('Read: an empty key', READ, encodeRequest('Replica', 'Read', { keys: [Buffer.alloc(0)] })),
  bad('Read: a key over the 1900-byte ceiling', READ, encodeRequest('Replica', 'Read', { keys: [Buffer.alloc(1901, 1)] })),
  bad('Read: 4097 keys', READ, () => encodeRequest('Replica', 'Read', { keys: Array.from({ length: 4097 }, (_, i) => Buffer.from(`k${i}`)) }), 'BATCH_TOO_LARGE'),
  bad('Read: a varint where the key bytes belong', READ, varintField(1, 5n)),
  {
    // This one ended the node: 5,000 names of one 1 MiB value asked for a 5 GB buffer.
    name: 'Read: 4096 copies of one 1 MiB key',
    path: READ,
    bytes: () => encodeRequest('Replica', 'Read', { keys: Array.from({ length: 4096 }, () => HOT) }),
    status: 'OK',
    check: (outcome) => {
      const answer = decodeResponse<ReadResponse__Output>('Replica', 'Read', outcome.response!);
      assert.ok(answer.found.length >= 1 && answer.found.length < 4096, `a partial answer, got ${answer.found.length} keys`);
      assert.ok(answer.found.every(Boolean));
      assert.ok(outcome.response!.length <= REPLICA_ANSWER_BYTES_MAX + 64 * 1024, `${outcome.response!.length} bytes`);
    },
  },
  // Replica batches in the storage codec, broken in every field.
  bad('Apply: a batch of garbage', APPLY, encodeRequest('Replica', 'Apply', { batch: Buffer.from([0, 0, 0, 5, 1, 2, 3]) })),
  bad('Apply: a batch claiming 2^32-1 records', APPLY, encodeRequest('Replica', 'Apply', { batch: Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 1, 0x61]) })),
  bad('Apply: a batch claiming 4097 records', APPLY, () => encodeRequest('Replica', 'Apply', { batch: encodeBatch(Array.from({ length: 4097 }, (_, i) => record(Buffer.from(`k${i}`), Buffer.from('v')))) })),
  bad('Apply: a truncated batch', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('value')), (bytes) => bytes.subarray(0, bytes.length - 2)) })),
  bad('Apply: trailing bytes after a batch', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v')), (bytes) => Buffer.concat([bytes, Buffer.from([0])])) })),
  bad('Apply: unknown record flags', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v')), (bytes) => { bytes[flagsAt(Buffer.from('k'))] = 0x84; return bytes; }) })),
  bad('Apply: a value length past the end', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v')), (bytes) => { bytes.writeUInt32BE(0xffffffff, bytes.length - 5); return bytes; }) })),
  bad('Apply: an empty key in a batch', APPLY, encodeRequest('Replica', 'Apply', { batch: Buffer.from([0, 0, 0, 1, 0, 0, 1]) })),
  bad('Apply: a key over the ceiling in a batch', APPLY, () => encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.alloc(1901, 7), Buffer.from('v'))) })),
  bad('Apply: a value over the ceiling in a batch', APPLY, () => encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.alloc(3 * MIB + 1))) })),
  bad('Apply: an empty node id in a batch', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v'), '')) })),
  bad('Apply: invalid UTF-8 node id past 253 bytes', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v'), 'a'.repeat(200)), (bytes) => { bytes.fill(0xff, flagsAt(Buffer.from('k')) + 10, flagsAt(Buffer.from('k')) + 210); return bytes; }) })),
  bad('Apply: an expiry past 2^53', APPLY, encodeRequest('Replica', 'Apply', { batch: batch(record(Buffer.from('k'), Buffer.from('v'), 'n', 1), (bytes) => { bytes.writeBigUInt64BE(UINT64_MAX, flagsAt(Buffer.from('k')) + 1 + 8 + 1 + 1); return bytes; }) })),
  // Anti-entropy: ranges, depths, limits and cursors.
  bad('MerkleTree: no range', TREE, encodeRequest('Replica', 'MerkleTree', { depth: 3 })),
  bad('MerkleTree: depth 13', TREE, encodeRequest('Replica', 'MerkleTree', { range: ring(0n, 0n), depth: 13 })),
  bad('MerkleTree: depth 2^32-1', TREE, Buffer.concat([bytesField(1, Buffer.alloc(0)), varintField(2, 0xffffffffn)])),
  {
    name: 'MerkleTree: the whole ring at depth 12',
    path: TREE,
    bytes: encodeRequest('Replica', 'MerkleTree', { range: ring(0n, 0n), depth: 12 }),
    status: 'OK',
    check: (outcome) => assert.equal(decodeResponse<MerkleTreeResponse__Output>('Replica', 'MerkleTree', outcome.response!).leaves.length, 4096),
  },
  {
    // 10-byte varints: protobuf's encoding of an int64 -1, read as 2^64-1.
    name: 'MerkleTree: range bounds as 10-byte varints (2^64-1)',
    path: TREE,
    bytes: Buffer.concat([bytesField(1, Buffer.concat([varintField(1, UINT64_MAX), varintField(2, UINT64_MAX)])), varintField(2, 4n)]),
    status: 'OK',
  },
  {
    name: 'MerkleTree: a one-token range at depth 12',
    path: TREE,
    bytes: encodeRequest('Replica', 'MerkleTree', { range: ring(5n, 6n), depth: 12 }),
    status: 'OK',
    check: (outcome) => assert.equal(decodeResponse<MerkleTreeResponse__Output>('Replica', 'MerkleTree', outcome.response!).leaves.length, 1),
  },
  bad('Scan: limit 0', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 0 })),
  bad('Scan: limit 4097', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 4097 })),
  bad('Scan: limit 2^32-1', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 0xffffffff })),
  bad('Scan: no range', SCAN, encodeRequest('Replica', 'Scan', { limit: 10 })),
  bad('Scan: a cursor with an empty key', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 10, resumeAfter: { token: '5', key: Buffer.alloc(0) } })),
  // This one reached LMDB and came back INTERNAL; the Scan request's 64 KiB limit now
  // refuses it before decoding, and a key above the ceiling below that limit is the handler's.
  bad('Scan: a cursor key of 100 kB', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 10, resumeAfter: { token: '5', key: Buffer.alloc(100_000, 1) } })),
  bad('Scan: a cursor key of 1901 bytes', SCAN, encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 10, resumeAfter: { token: '5', key: Buffer.alloc(1901, 1) } })),
  bad('Scan: a cursor outside the range', SCAN, encodeRequest('Replica', 'Scan', { range: ring(10n, 20n), limit: 10, resumeAfter: { token: '50', key: Buffer.from('k') } })),
  {
    name: 'Scan: the whole ring, 4096 records of large values',
    path: SCAN,
    bytes: encodeRequest('Replica', 'Scan', { range: ring(0n, 0n), limit: 4096 }),
    status: 'OK',
    check: (outcome) => {
      const page = decodeResponse<ScanResponse__Output>('Replica', 'Scan', outcome.response!);
      assert.ok(page.records.length >= 1);
      assert.ok(outcome.response!.length <= REPLICA_ANSWER_BYTES_MAX + 2 * MIB, `${outcome.response!.length} bytes`);
    },
  },
  // The public API.
  bad('Put: an empty key', PUT, encodeRequest('KV', 'Put', { key: Buffer.alloc(0), value: Buffer.from('v') }), 'KEY_EMPTY'),
  bad('Put: a key of 1025 bytes', PUT, encodeRequest('KV', 'Put', { key: Buffer.alloc(1025, 1), value: Buffer.from('v') }), 'KEY_TOO_LARGE'),
  bad('Put: a value of 1 MiB + 1', PUT, () => encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.alloc(MIB + 1) }), 'VALUE_TOO_LARGE'),
  bad('Put: w = 2^32-1', PUT, encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), w: 0xffffffff }), 'QUORUM_INVALID'),
  bad('Put: ttl_ms as a 10-byte varint (2^64-1)', PUT, Buffer.concat([bytesField(1, Buffer.from('k')), bytesField(2, Buffer.from('v')), varintField(4, UINT64_MAX)])),
  bad('Put: ttl_ms of 2^53', PUT, encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), ttlMs: String(2 ** 53) })),
  bad('Get: r = 4', GET, encodeRequest('KV', 'Get', { key: Buffer.from('k'), r: 4 }), 'QUORUM_INVALID'),
  bad('Delete: an empty key', '/quorumkv.v1.KV/Delete', encodeRequest('KV', 'Delete', { key: Buffer.alloc(0) }), 'KEY_EMPTY'),
  bad('BatchPut: 1001 items', BATCH_PUT, () => encodeRequest('KV', 'BatchPut', { items: Array.from({ length: 1001 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from('v') })) }), 'BATCH_TOO_LARGE'),
  bad('BatchPut: one empty key among good ones', BATCH_PUT, encodeRequest('KV', 'BatchPut', { items: [{ key: Buffer.from('a'), value: Buffer.from('v') }, { key: Buffer.alloc(0), value: Buffer.from('v') }] }), 'KEY_EMPTY'),
  bad('BatchGet: 1001 keys', BATCH_GET, () => encodeRequest('KV', 'BatchGet', { keys: Array.from({ length: 1001 }, (_, i) => Buffer.from(`k${i}`)) }), 'BATCH_TOO_LARGE'),
  // Bounded before decoding (docs/decisions/0102-bounded-decoding.md; the 16 MiB forms are
  // in test/node/bounded-decoding.test.ts).
  bad('BatchPut: 100,000 empty items', BATCH_PUT, () => Buffer.concat(Array.from({ length: 100_000 }, () => bytesField(1, Buffer.alloc(0)))), 'BATCH_TOO_LARGE'),
  bad('BatchPut: w sent length-delimited around 2000 items', BATCH_PUT, () => bytesField(2, Buffer.concat(Array.from({ length: 2000 }, () => bytesField(1, Buffer.alloc(0)))))),
  bad('Get: a request of 64 KiB + 1', GET, () => bytesField(1, Buffer.alloc(64 * 1024 + 1 - 4, 1))),
  {
    name: 'BatchGet: 40 copies of one 1 MiB key',
    path: BATCH_GET,
    bytes: () => encodeRequest('KV', 'BatchGet', { keys: Array.from({ length: 40 }, () => HOT) }),
    status: 'OK',
    check: (outcome) => {
      const { results } = decodeResponse<BatchGetResponse__Output>('KV', 'BatchGet', outcome.response!);
      assert.equal(results.length, 40);
      const left = results.filter((result) => !result.ok);
      assert.ok(results[0]!.ok && results[0]!.value.length === MIB);
      assert.ok(left.length > 0 && left.every((result) => result.error?.code === 'RESPONSE_TOO_LARGE'), 'the rest are RESPONSE_TOO_LARGE');
      assert.ok(outcome.response!.length <= BATCH_GET_RESPONSE_BYTES_MAX + 64 * 1024, `${outcome.response!.length} bytes`);
    },
  },
  bad('Admin.Ring: a key of 5000 bytes', '/quorumkv.v1.Admin/Ring', encodeRequest('Admin', 'Ring', { key: Buffer.alloc(5000, 1) })),
  // Answered by grpc-js before any quorumkv code runs: one status, no quorumkv code.
  { name: 'an unknown method', path: '/quorumkv.v1.Replica/Drop', bytes: Buffer.alloc(0), status: 'UNIMPLEMENTED' },
  { name: 'a message over the 16 MiB ceiling', path: PUT, bytes: () => Buffer.concat([bytesField(1, Buffer.from('k')), bytesField(2, Buffer.alloc(GRPC_MESSAGE_BYTES_MAX))]), status: 'RESOURCE_EXHAUSTED' },
  {
    name: 'a gzip message that inflates to 64 MiB',
    path: PUT,
    bytes: () => Buffer.concat([bytesField(1, Buffer.from('k')), bytesField(2, Buffer.alloc(64 * MIB))]),
    status: 'RESOURCE_EXHAUSTED',
    channel: { 'grpc.default_compression_algorithm': 2 },
  },
];

/**
 * What one Exchange request got, in the terms of a unary call: the reply's error code and
 * its status, or OK with the reply's ReadResponse re-encoded as `response`; a stream that
 * ended without a reply gives the stream's own status.
 */
function exchangeOutcome(outcome: RawOutcome & { readonly replies: Buffer[] }): RawOutcome {
  if (outcome.replies.length === 0) return outcome;
  assert.equal(outcome.replies.length, 1, 'one reply for one request');
  const exchange = loadQuorumKvProtocol().packageDefinition['quorumkv.v1.Replica'] as Record<string, grpc.MethodDefinition<object, ExchangeReply__Output>>;
  const reply = exchange['Exchange']!.responseDeserialize(outcome.replies[0]!);
  if (reply.body === 'error') {
    const code = reply.error!.code;
    assert.ok(isErrorCode(code), `a quorumkv code, got ${code}`);
    return { status: grpc.status[ERROR_STATUS[code]], code, details: reply.error!.message, response: undefined, elapsedMs: outcome.elapsedMs };
  }
  const read = !reply.read ? undefined : (loadQuorumKvProtocol().packageDefinition['quorumkv.v1.Replica'] as Record<string, grpc.MethodDefinition<object, object>>)['Read']!.responseSerialize(reply.read);
  return { status: 'OK', code: undefined, details: '', response: read, elapsedMs: outcome.elapsedMs };
}

test('hostile input gets one clear status and changes nothing; every node keeps serving and no acknowledged write is lost', async (t) => {
  // A value every node holds, for the Reads, Scans and BatchGets that name it.
  assert.equal((await client.put(HOT, Buffer.alloc(MIB, 0x68), { w: 3 })).acks, 3);
  const acked = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    await client.put(Buffer.from(`before-${i}`), Buffer.from(`v${i}`), { w: 2 });
    acked.set(`before-${i}`, `v${i}`);
  }

  // A writer keeps writing with W=2 through every node in turn while the hostile calls arrive.
  const perNode = cluster.nodes.map((node) => cluster.client([node.id], 20_000));
  let writing = true;
  let failedWrites = 0;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = `during-${i}`;
      try {
        await perNode[i % perNode.length]!.put(Buffer.from(key), Buffer.from(`w${i}`), { w: 2 });
        acked.set(key, `w${i}`);
      } catch {
        failedWrites++;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  for (const hostile of cases) {
    const shared = isReplicaPath(hostile.path) ? rawPeer : raw;
    const sender =
      hostile.channel === undefined ? shared : isReplicaPath(hostile.path) ? cluster.rawPeerClient('qkv-1', SENDER, hostile.channel) : cluster.rawClient('qkv-1', hostile.channel);
    try {
      const bytes = typeof hostile.bytes === 'function' ? hostile.bytes() : hostile.bytes;
      const outcome = await sender.call(hostile.path, bytes, CALL_MS_MAX + 5_000);
      t.diagnostic(`${hostile.name}: ${outcome.status}${outcome.code ? ` ${outcome.code}` : ''} in ${outcome.elapsedMs} ms ${outcome.details.slice(0, 100)}`);
      assert.equal(outcome.status, hostile.status, `${hostile.name}: ${outcome.details}`);
      assert.equal(outcome.code, hostile.code, `${hostile.name}: the quorumkv code`);
      assert.ok(outcome.elapsedMs < CALL_MS_MAX, `${hostile.name} took ${outcome.elapsedMs} ms`);
      hostile.check?.(outcome);
      for (const node of cluster.nodes) assert.equal(node.child?.exitCode, null, `${node.id} still runs after "${hostile.name}":\n${node.output.slice(-2000)}`);
    } finally {
      if (sender !== shared) sender.close();
    }
  }

  // The same Apply and Read bodies on an Exchange stream, as a peer sends them: field 1
  // the id, field 2 an ApplyRequest or field 3 a ReadRequest, given as the bytes above.
  for (const hostile of cases.filter((one) => one.path === APPLY || one.path === READ)) {
    const body = typeof hostile.bytes === 'function' ? hostile.bytes() : hostile.bytes;
    const message = Buffer.concat([varintField(1, 7n), bytesField(hostile.path === APPLY ? 2 : 3, body)]);
    const outcome = await rawPeer.stream(EXCHANGE, [message], CALL_MS_MAX + 5_000);
    const seen = exchangeOutcome(outcome);
    t.diagnostic(`Exchange ${hostile.name}: ${seen.status}${seen.code ? ` ${seen.code}` : ''} in ${outcome.elapsedMs} ms ${seen.details.slice(0, 100)}`);
    assert.equal(seen.status, hostile.status, `Exchange ${hostile.name}: ${seen.details}`);
    assert.equal(seen.code, hostile.code, `Exchange ${hostile.name}: the quorumkv code`);
    assert.ok(outcome.elapsedMs < CALL_MS_MAX, `Exchange ${hostile.name} took ${outcome.elapsedMs} ms`);
    hostile.check?.(seen);
    for (const node of cluster.nodes) assert.equal(node.child?.exitCode, null, `${node.id} still runs after Exchange "${hostile.name}"`);
  }
  {
    // A stream message that is no ExchangeRequest at all has no id to answer: the stream ends.
    const outcome = await rawPeer.stream(EXCHANGE, [Buffer.from([0xff, 0xff, 0xff, 0xff])], CALL_MS_MAX);
    assert.equal(outcome.status, 'INVALID_ARGUMENT', outcome.details);
    assert.equal(outcome.code, 'INVALID_ARGUMENT');
    assert.equal(outcome.replies.length, 0);
    // A request with neither body is answered by id.
    const empty = exchangeOutcome(await rawPeer.stream(EXCHANGE, [varintField(1, 9n)], CALL_MS_MAX));
    assert.equal(empty.code, 'INVALID_ARGUMENT', empty.details);
  }

  writing = false;
  await writer;
  for (const one of perNode) one.close();
  t.diagnostic(`${acked.size} writes acknowledged, ${failedWrites} refused while under attack`);
  assert.ok(acked.size > 30, 'the writer got writes through during the attack');

  for (const node of cluster.nodes) {
    assert.equal(node.child?.exitCode, null, `${node.id} still runs`);
    assert.equal((await fetch(`http://127.0.0.1:${node.httpPort}/readyz`)).status, 200, `${node.id} ready`);
    const one = cluster.client([node.id]);
    try {
      assert.equal((await one.put(Buffer.from(`after-${node.id}`), Buffer.from('x'), { w: 3 })).acks, 3);
      const got = await one.get(Buffer.from(`after-${node.id}`), { r: 3 });
      assert.equal(got.value.toString(), 'x');
      // Nothing a hostile Apply sent was stored: every key it named is still absent.
      assert.equal((await one.get(Buffer.from('k'), { r: 3 })).found, false);
      const keys = [...acked.keys()];
      for (let at = 0; at < keys.length; at += 500) {
        const chunk = keys.slice(at, at + 500);
        const reads = await one.batchGet(chunk.map((key) => Buffer.from(key)), { r: 3 });
        reads.results.forEach((result, index) => {
          const key = chunk[index]!;
          assert.ok(result.ok, `${key} via ${node.id}: ${result.error?.code}`);
          assert.equal(result.value.toString(), acked.get(key), `${key} via ${node.id}`);
        });
      }
    } finally {
      one.close();
    }
  }
});
