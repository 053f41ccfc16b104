// Fuzzing the decoders that parse peer bytes by hand, and the Replica service that sits
// on top of them. The storage codec's batch decoder reads lengths and counts from the
// wire; whatever it is given, it must either return records that pass every bound and
// encode again (the property a Read answer once broke: a record it had accepted could
// not be encoded back) or throw InvalidArgumentError, never anything else. The service
// must answer every byte string with OK or one status carrying its quorumkv code, and
// keep serving. It is served as a node serves it, on a peer port behind mutual TLS and
// the peer guard, and the bytes come from a member with its own node certificate.
//
// Every request of every method passes the bounds scan and its byte limit before it is
// decoded (docs/decisions/0102-bounded-decoding.md). For every valid message under the
// limits the bounded decoding must give exactly what protobufjs gives; at a repeated
// field's limit too, one item past it is BATCH_TOO_LARGE; and whatever it accepts of
// damaged bytes, protobufjs reads the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { decodeRecordBatch, type RecordBounds } from '../../src/protocol/wire-codec.js';
import { ERROR_STATUS, isErrorCode } from '../../src/protocol/error-status.js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { InvalidArgumentError } from '../../src/errors/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import { NODE_ID_BYTES_MAX } from '../../src/limits.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { addReplicaService } from '../../src/transport/grpc/replica-service.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';
import { peerPortCredentials } from '../../src/security/tls-credentials.js';
import { peerPortGuard } from '../../src/security/call-guards.js';
import { RawGrpcClient, encodeRequest, nodeChannelCredentials } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';
import { damaged } from '../support/damaged-bytes.js';
import { messageArbitrary, unknownFieldArbitrary } from '../support/proto-arbitrary.js';
import { checkedDeserializer, MalformedMessage } from '../../src/protocol/checked-service.js';
import { kvServiceWithFastCodecs, replicaServiceWithFastCodecs } from '../../src/protocol/message-codecs.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { requestLimits } from '../../src/protocol/request-limits.js';
import { BATCH_ITEMS_MAX, FORGOTTEN_MEMBERS_MAX, REPLICA_BATCH_ITEMS_MAX } from '../../src/limits.js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { kvStreamBodyDecoders } from '../../src/api/kv-stream.js';
import type { KvStreamEnvelope } from '../../src/protocol/kv-stream-envelope.js';

const bounds: RecordBounds = { keyBytesMax: 64, valueBytesMax: 256, recordsMax: 16 };

const recordArbitrary: fc.Arbitrary<KvRecord> = fc.record({
  key: fc.uint8Array({ minLength: 1, maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
  version: fc.record({ stamp: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), nodeId: fc.string({ maxLength: 80 }) }),
  expiresAtMs: fc.oneof(fc.constant(0), fc.nat()),
});

/** A valid batch with bytes overwritten, inserted, removed or cut. */
// encodeBatch asserts node ids of at most 255 bytes; the arbitrary stays below that.
const damagedBatch: fc.Arbitrary<Buffer> = damaged(fc.array(recordArbitrary, { maxLength: 20 }).map((records) => encodeBatch(records)), 4);

function checkDecoded(bytes: Buffer): void {
  let records: KvRecord[];
  try {
    records = decodeRecordBatch(bytes, bounds, 'batch');
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, `only INVALID_ARGUMENT, got ${String(error)}`);
    return;
  }
  assert.ok(records.length <= bounds.recordsMax!);
  for (const record of records) {
    assert.ok(record.key.length >= 1 && record.key.length <= bounds.keyBytesMax);
    assert.ok(record.value === null || record.value.length <= bounds.valueBytesMax);
    const nodeIdBytes = Buffer.byteLength(record.version.nodeId);
    assert.ok(nodeIdBytes >= 1 && nodeIdBytes <= NODE_ID_BYTES_MAX);
    assert.ok(Number.isSafeInteger(record.expiresAtMs) && record.expiresAtMs >= 0);
  }
  // What was accepted can be written to the WAL and sent on: it encodes, and decodes the same.
  assert.deepEqual(decodeRecordBatch(encodeBatch(records), bounds, 'again'), records);
}

test('the batch decoder takes any bytes to bounded records or INVALID_ARGUMENT', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)), checkDecoded), { numRuns: 3000 });
  fc.assert(fc.property(damagedBatch, checkDecoded), { numRuns: 3000 });
});

test('the Replica service answers any bytes with OK or one status and its code, and keeps serving', async () => {
  const engine = new MemoryStorageEngine(testTokenOf);
  const replica = new LocalReplica(engine, new HybridLogicalClock(), { tokenOf: testTokenOf });
  await engine.apply([{ key: Buffer.from('kept'), value: Buffer.from('value'), version: { stamp: 1n, nodeId: 'n' }, expiresAtMs: 0 }]);
  const certs = await ensureLocalCertificates({ dir: await tempDir(undefined, 'qkv-fuzz-certs-'), nodeIds: ['n1', 'n2'], users: [] });
  const serverCertificates = await WatchedCertificates.open({ dir: certs.nodeDirs.get('n1')!, expected: { kind: 'node', name: 'n1' } });
  const server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: [peerPortGuard()] });
  addReplicaService(server, { handler: replica, logger: silentLogger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', peerPortCredentials(serverCertificates), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const raw = new RawGrpcClient(`127.0.0.1:${port}`, { credentials: nodeChannelCredentials(certs.nodeDirs.get('n2')!), sender: 'n2' });
  try {
    const methods = ['Apply', 'Read', 'Scan', 'MerkleTree'] as const;
    // Valid requests of every method, then damaged: the closer to valid, the deeper a
    // damaged request gets before it is refused.
    const validRequest = fc.oneof(
      fc.array(recordArbitrary, { maxLength: 5 }).map((records) => ({ method: 'Apply' as const, bytes: encodeRequest('Replica', 'Apply', { batch: encodeBatch(records) }) })),
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }).map((keys) => ({ method: 'Read' as const, bytes: encodeRequest('Replica', 'Read', { keys: keys.map((key) => Buffer.from(key)) }) })),
      fc.record({ start: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), limit: fc.nat(5000) }).map(({ start, limit }) => ({
        method: 'Scan' as const,
        bytes: encodeRequest('Replica', 'Scan', { range: { start: start.toString(), end: '0' }, limit }),
      })),
      fc.nat(20).map((depth) => ({ method: 'MerkleTree' as const, bytes: encodeRequest('Replica', 'MerkleTree', { range: { start: '0', end: '0' }, depth }) })),
    );
    const anyRequest = fc.oneof(
      validRequest,
      fc.tuple(validRequest, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([request, at, value]) => {
        const bytes = Buffer.from(request.bytes);
        if (bytes.length > 0) bytes[at % bytes.length] = value;
        return { ...request, bytes };
      }),
      fc.tuple(fc.constantFrom(...methods), fc.uint8Array({ maxLength: 200 })).map(([method, bytes]) => ({ method, bytes: Buffer.from(bytes) })),
    );
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(anyRequest, async ({ method, bytes }) => {
        const outcome = await raw.call(`/quorumkv.v1.Replica/${method}`, bytes, 5_000);
        const label = `${outcome.status}${outcome.code ? `/${outcome.code}` : ''}`;
        seen.set(label, (seen.get(label) ?? 0) + 1);
        if (outcome.status === 'OK') return;
        assert.ok(outcome.code !== undefined && isErrorCode(outcome.code), `${method}: ${outcome.status} without a quorumkv code: ${outcome.details}`);
        assert.equal(outcome.status, grpc.status[ERROR_STATUS[outcome.code]]);
        assert.notEqual(outcome.code, 'INTERNAL', `${method}: ${outcome.details}`);
      }),
      { numRuns: 400 },
    );
    assert.ok((seen.get('OK') ?? 0) > 0 && (seen.get('INVALID_ARGUMENT/INVALID_ARGUMENT') ?? 0) > 0, JSON.stringify([...seen]));
    // Still serving, and the record it held is intact.
    const read = await raw.call('/quorumkv.v1.Replica/Read', encodeRequest('Replica', 'Read', { keys: [Buffer.from('kept')] }));
    assert.equal(read.status, 'OK');
    assert.equal(engine.get(Buffer.from('kept'))?.value?.toString(), 'value');
  } finally {
    raw.close();
    server.forceShutdown();
    serverCertificates.close();
    await engine.close();
  }
});

// ---- bounded decoding -----------------------------------------------------------------

const protocol = loadQuorumKvProtocol();
/** Every served method as a node adds it: the hand-written codecs where the node uses them. */
const servedServices: ReadonlyArray<[string, grpc.ServiceDefinition]> = [
  ['KV', kvServiceWithFastCodecs(protocol.grpcObject.quorumkv.v1.KV.service)],
  ['Admin', protocol.grpcObject.quorumkv.v1.Admin.service],
  ['Replica', replicaServiceWithFastCodecs(protocol.grpcObject.quorumkv.v1.Replica.service)],
];

interface ServedMethod {
  readonly path: string;
  readonly requestType: string;
  /** What a node decodes a request with: byte limit, bounds scan, then its codec. */
  readonly bounded: (bytes: Buffer) => unknown;
  /** protobufjs as proto-loader loads it, with nothing in front. */
  readonly reference: (bytes: Buffer) => unknown;
  readonly serialize: (message: object) => Buffer;
}

/**
 * What a node decodes of a Multiplex message from a caller allowed every request: its
 * envelope, then the body by its unary method's checked deserializer (src/api/kv-stream.ts).
 */
function boundedMultiplex(definition: grpc.ServiceDefinition): (bytes: Buffer) => unknown {
  const envelopeOf = checkedDeserializer(definition['Multiplex']!);
  const bodies = kvStreamBodyDecoders(definition);
  return (bytes) => {
    const envelope = envelopeOf(bytes) as KvStreamEnvelope | MalformedMessage;
    if (envelope instanceof MalformedMessage) return envelope;
    const { id, timeoutMs, kind } = envelope;
    if (kind === undefined) return { id, timeoutMs };
    const body = bodies[kind](envelope.body);
    return body instanceof MalformedMessage ? body : { id, timeoutMs, [kind]: body, body: kind };
  };
}

const servedMethods: ServedMethod[] = servedServices.flatMap(([service, definition]) =>
  Object.entries(definition).map(([name, method]) => {
    const reference = (protocol.packageDefinition[`quorumkv.v1.${service}`] as Record<string, MethodDefinition<object, object>>)[name]!;
    const { name: requestType } = reference.requestType.type as { name: string };
    return {
      path: method.path,
      requestType,
      bounded: method.path === '/quorumkv.v1.KV/Multiplex' ? boundedMultiplex(definition) : checkedDeserializer(method),
      reference: (bytes: Buffer) => reference.requestDeserialize(bytes),
      serialize: (message: object) => reference.requestSerialize(message),
    };
  }),
);

function method(path: string): ServedMethod {
  const found = servedMethods.find((candidate) => candidate.path === path);
  assert.ok(found, path);
  return found;
}

/** The quorumkv code of what the bounded decoding refused, or undefined when it decoded. */
function refusal(decoded: unknown): { code: string; message: string } | undefined {
  return decoded instanceof MalformedMessage ? { code: decoded.error.code, message: decoded.error.message } : undefined;
}

test('every served method has a byte limit and a bounds schema, and a method without one is refused', () => {
  // KV 6 (Multiplex included), Admin 8 (Forget, Backup and Restore included), Replica 6.
  assert.equal(servedMethods.length, 20);
  for (const served of servedMethods) assert.ok(requestLimits(served.path).bytesMax > 0, served.path);
  assert.throws(() => requestLimits('/quorumkv.v1.KV/Drop'), /no request byte limit/);
});

const KV_STREAM_BODIES = ['put', 'get', 'delete', 'batchPut', 'batchGet'];
/** A Multiplex request with two bodies is refused (kv-stream-envelope.ts); protobufjs keeps both. */
function oneBodyAtMost(message: object): boolean {
  return KV_STREAM_BODIES.filter((body) => body in message).length <= 1;
}

test('bounded decoding gives what protobufjs gives for every valid message under the limits', () => {
  for (const served of servedMethods) {
    fc.assert(
      fc.property(messageArbitrary(served.requestType, { itemsMax: 6 }).filter(oneBodyAtMost), fc.array(unknownFieldArbitrary, { maxLength: 3 }), fc.boolean(), (message, unknown, unknownFirst) => {
        const wire = served.serialize(message);
        const bytes = Buffer.concat(unknownFirst ? [...unknown, wire] : [wire, ...unknown]);
        assert.ok(bytes.length <= requestLimits(served.path).bytesMax);
        const decoded = served.bounded(bytes);
        assert.equal(refusal(decoded), undefined, `${served.path} refused a valid message`);
        assert.deepEqual(decoded, served.reference(bytes), served.path);
      }),
      { numRuns: 300 },
    );
  }
});

test('whatever bounded decoding accepts of damaged bytes, protobufjs reads the same', () => {
  for (const served of servedMethods) {
    const valid = messageArbitrary(served.requestType, { itemsMax: 4 }).map((message) => served.serialize(message));
    fc.assert(
      fc.property(damaged(valid), (bytes) => {
        const decoded = served.bounded(bytes);
        if (refusal(decoded) !== undefined) return;
        assert.deepEqual(decoded, served.reference(bytes), served.path);
      }),
      { numRuns: 300 },
    );
  }
});

test('a repeated field takes its limit and is BATCH_TOO_LARGE one item past it, whichever decoder would read it', () => {
  const key = (i: number): Buffer => Buffer.from(`k${i}`);
  const cases: Array<[string, string, number, (count: number) => object]> = [
    ['/quorumkv.v1.KV/BatchPut', 'BatchPutRequest.items', BATCH_ITEMS_MAX, (count) => ({ items: Array.from({ length: count }, (_, i) => ({ key: key(i) })) })],
    ['/quorumkv.v1.KV/BatchGet', 'BatchGetRequest.keys', BATCH_ITEMS_MAX, (count) => ({ keys: Array.from({ length: count }, (_, i) => key(i)) })],
    ['/quorumkv.v1.Replica/Read', 'ReadRequest.keys', REPLICA_BATCH_ITEMS_MAX, (count) => ({ keys: Array.from({ length: count }, (_, i) => key(i)) })],
    ['/quorumkv.v1.Replica/Exchange', 'ReadRequest.keys', REPLICA_BATCH_ITEMS_MAX, (count) => ({ id: 3, read: { keys: Array.from({ length: count }, (_, i) => key(i)) } })],
    // Ids of the longest length a node id may have: a full list fits a probe's byte limit.
    [
      '/quorumkv.v1.Replica/Probe',
      'ProbeRequest.forgotten',
      FORGOTTEN_MEMBERS_MAX,
      (count) => ({ sender: 'a', forgotten: Array.from({ length: count }, (_, i) => ({ nodeId: `${i}`.padEnd(NODE_ID_BYTES_MAX, 'x'), version: String(Number.MAX_SAFE_INTEGER) })) }),
    ],
  ];
  for (const [path, field, itemsMax, request] of cases) {
    const served = method(path);
    const atLimit = served.serialize(request(itemsMax));
    const decoded = served.bounded(atLimit);
    assert.equal(refusal(decoded), undefined, `${path} at the limit`);
    assert.deepEqual(decoded, served.reference(atLimit), `${path} at the limit`);
    assert.deepEqual(refusal(served.bounded(served.serialize(request(itemsMax + 1)))), {
      code: 'BATCH_TOO_LARGE',
      message: `quorumkv.v1.${field} has more than ${itemsMax} items; the limit is ${itemsMax}`,
    }, path);
  }
});

test('a request past the byte limit of its method is refused before decoding; one at the limit is decoded', () => {
  for (const served of servedMethods) {
    const { bytesMax } = requestLimits(served.path);
    // A valid message, padded with one unknown length-delimited field (number 1000) to the size wanted.
    const padded = (size: number): Buffer => {
      const wire = served.serialize({});
      const header = (length: number): Buffer => Buffer.from([0xc2, 0x3e, ...[0, 7, 14, 21].map((shift, i) => ((length >>> shift) & 0x7f) | (i < 3 ? 0x80 : 0))]);
      return Buffer.concat([wire, header(size - wire.length - 6), Buffer.alloc(size - wire.length - 6)]);
    };
    const atLimit = padded(bytesMax);
    assert.equal(atLimit.length, bytesMax);
    assert.deepEqual(served.bounded(atLimit), served.reference(atLimit), served.path);
    const over = padded(bytesMax + 1);
    assert.deepEqual(refusal(served.bounded(over)), {
      code: 'INVALID_ARGUMENT',
      message: `${served.path}: the request is ${bytesMax + 1} bytes; the limit of this method is ${bytesMax}`,
    });
  }
});

test('bytes protobufjs would read by another structure than the scan are refused, not decoded', () => {
  const hiddenItems = Buffer.alloc(200_000);
  for (let at = 0; at < hiddenItems.length; at += 2) hiddenItems[at] = 0x0a;
  const varint = (value: number): number[] => {
    const out: number[] = [];
    for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80);
    return [...out, value];
  };
  const batchPut = method('/quorumkv.v1.KV/BatchPut');
  // `w` (a varint) sent length-delimited around 100,000 empty items: protobufjs reads the
  // length as w and then every item; a scan that skipped the field would count none.
  const smuggled = Buffer.concat([Buffer.from([0x12, ...varint(hiddenItems.length)]), hiddenItems]);
  assert.equal((batchPut.reference(smuggled) as { items: unknown[] }).items.length, 100_000, 'what protobufjs alone makes of it');
  assert.deepEqual(refusal(batchPut.bounded(smuggled)), { code: 'INVALID_ARGUMENT', message: 'quorumkv.v1.BatchPutRequest.w arrived in wire type 2, not 0' });
  // `w` as a six-byte varint: protobufjs steps over ten bytes (five, then five more
  // whatever they hold), so the unknown field header after it is skipped and the items
  // it would have covered are read. The scan steps the same way and counts them.
  const stepped = Buffer.concat([Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x7a, ...varint(hiddenItems.length)]), hiddenItems]);
  assert.equal((batchPut.reference(stepped) as { items: unknown[] }).items.length > BATCH_ITEMS_MAX, true, 'what protobufjs alone makes of it');
  assert.equal(refusal(batchPut.bounded(stepped))?.code, 'BATCH_TOO_LARGE');
  // A singular field twice: protobufjs decodes every occurrence.
  const scan = method('/quorumkv.v1.Replica/Scan');
  const range = Buffer.from([0x0a, 0x02, 0x08, 0x01]);
  assert.deepEqual(refusal(scan.bounded(Buffer.concat([range, range]))), { code: 'INVALID_ARGUMENT', message: 'quorumkv.v1.ScanRequest.range occurs more than once' });
  // A group (wire type 3), which proto3 does not use.
  assert.equal(refusal(method('/quorumkv.v1.Admin/Status').bounded(Buffer.from([0xc3, 0x3e, 0xc4, 0x3e])))?.code, 'INVALID_ARGUMENT');
  // A nested message whose last field runs past the message's end.
  assert.equal(refusal(scan.bounded(Buffer.from([0x0a, 0x02, 0x08, 0x80, 0x01])))?.code, 'INVALID_ARGUMENT');
});
