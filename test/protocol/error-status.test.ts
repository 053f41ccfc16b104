// One table of error codes to gRPC statuses, in code and in the docs: every ErrorCode
// has exactly one status, the docs list exactly those pairs, and the code survives a
// round trip through gRPC metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ERROR_STATUS, errorOfServiceError, serviceErrorOf, statusName } from '../../src/protocol/error-status.js';
import { KeyTooLargeError, QkvError, QuorumNotMetError } from '../../src/errors/errors.js';

const DOC = new URL('../../../README.md', import.meta.url);

test('the docs list exactly the table in code', () => {
  const rows = [...readFileSync(DOC, 'utf8').matchAll(/^\| `([A-Z_]+)` \| ([A-Z_]+) \|/gm)].map((match) => [match[1], match[2]]);
  const inCode = Object.entries(ERROR_STATUS).map(([code, status]) => [code, statusName(status)]);
  assert.deepEqual(rows.sort(), inCode.sort());
});

test('every error code names an existing gRPC status, OK never', () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.ok(grpc.status[status] !== undefined, code);
    assert.notEqual(status, grpc.status.OK, code);
  }
});

test('a QkvError becomes a status with the code in trailing metadata, and back', () => {
  const status = serviceErrorOf(new QuorumNotMetError(1, 2, 3, 'qkv-3: PEER_UNREACHABLE'));
  assert.equal(status.code, grpc.status.UNAVAILABLE);
  assert.deepEqual(status.metadata?.get('qkv-error-code'), ['QUORUM_NOT_MET']);
  const serviceError = Object.assign(new Error(status.details), status) as unknown as grpc.ServiceError;
  const back = errorOfServiceError(serviceError);
  assert.equal(back.code, 'QUORUM_NOT_MET');
  assert.match(back.message, /1 of 2 required acks from 3 replicas/);
  assert.equal(serviceErrorOf(new KeyTooLargeError(2000, 1024)).code, grpc.status.INVALID_ARGUMENT);
});

test('an error that is not ours becomes INTERNAL without leaking its message', () => {
  const status = serviceErrorOf(new TypeError('secret internals at 0xdeadbeef'));
  assert.equal(status.code, grpc.status.INTERNAL);
  assert.doesNotMatch(status.details ?? '', /secret/);
  assert.deepEqual(status.metadata?.get('qkv-error-code'), ['INTERNAL']);
});

test('a bare status (no metadata) maps to the nearest code', () => {
  const bare = (code: grpc.status): grpc.ServiceError =>
    Object.assign(new Error('x'), { code, details: 'x', metadata: new grpc.Metadata() }) as grpc.ServiceError;
  assert.equal(errorOfServiceError(bare(grpc.status.UNAVAILABLE)).code, 'PEER_UNREACHABLE');
  assert.equal(errorOfServiceError(bare(grpc.status.RESOURCE_EXHAUSTED)).code, 'OVERLOADED');
  assert.equal(errorOfServiceError(bare(grpc.status.UNIMPLEMENTED)).code, 'INTERNAL');
  const forged = bare(grpc.status.UNAVAILABLE);
  forged.metadata.set('qkv-error-code', 'NOT_A_CODE');
  assert.equal(errorOfServiceError(forged).code, 'PEER_UNREACHABLE');
  assert.ok(errorOfServiceError(forged) instanceof QkvError);
});
