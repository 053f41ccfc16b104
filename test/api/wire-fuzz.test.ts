// Fuzzing the decoders that parse peer bytes by hand, and the Replica service that sits
// on top of them. The storage codec's batch decoder reads lengths and counts from the
// wire; whatever it is given, it must either return records that pass every bound and
// encode again (the property a Read answer once broke: a record it had accepted could
// not be encoded back) or throw InvalidArgumentError, never anything else. The service
// must answer every byte string with OK or one status carrying its quorumkv code, and
// keep serving. It is served as a node serves it, on a peer port behind mutual TLS and
// the peer guard, and the bytes come from a member with its own node certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { decodeRecordBatch, type RecordBounds } from '../../src/api/wire-codec.js';
import { ERROR_STATUS, isErrorCode } from '../../src/api/error-status.js';
import { SERVER_OPTIONS } from '../../src/api/grpc-options.js';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/coordinator/local-replica.js';
import { InvalidArgumentError } from '../../src/errors/errors.js';
import { silentLogger } from '../../src/logging/logger.js';
import { NODE_ID_BYTES_MAX } from '../../src/limits.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { encodeBatch } from '../../src/storage/record-codec.js';
import type { KvRecord } from '../../src/storage/record.js';
import { addReplicaService } from '../../src/transport/grpc/replica-service.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { NodeCertificates } from '../../src/security/node-certificates.js';
import { peerPortCredentials } from '../../src/security/tls-credentials.js';
import { peerPortGuard } from '../../src/security/call-guards.js';
import { RawGrpcClient, encodeRequest, nodeChannelCredentials } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';
import { damaged } from '../support/damaged-bytes.js';

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
  const serverCertificates = await NodeCertificates.open({ dir: certs.nodeDirs.get('n1')! });
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
