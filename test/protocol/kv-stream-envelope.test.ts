// The envelope of a KV.Multiplex request: id, deadline and which request, with the body
// left as bytes for the handler to decode once the caller's role allows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKvStreamEnvelope, KvStreamEnvelopeError } from '../../src/protocol/kv-stream-envelope.js';
import { bytesField, encodeRequest, varintField } from '../support/raw-grpc.js';

test('reads id, deadline and kind, and leaves the body exactly as it was encoded', () => {
  const put = encodeRequest('KV', 'Put', { key: Buffer.from('k'), value: Buffer.from('v'), w: 2 });
  const bytes = encodeRequest('KV', 'Multiplex', { id: 300, timeoutMs: 1500, put: { key: Buffer.from('k'), value: Buffer.from('v'), w: 2 } });
  const envelope = decodeKvStreamEnvelope(bytes);
  assert.equal(envelope.id, 300);
  assert.equal(envelope.timeoutMs, 1500);
  assert.equal(envelope.kind, 'put');
  assert.deepEqual(envelope.body, put);
  // A view of the received message, not a copy.
  assert.equal(envelope.body.buffer, bytes.buffer);
  for (const [kind, message] of [
    ['get', { key: Buffer.from('k') }],
    ['delete', { key: Buffer.from('k') }],
    ['batchPut', { items: [{ key: Buffer.from('k') }] }],
    ['batchGet', { keys: [Buffer.from('k')] }],
  ] as const) {
    assert.equal(decodeKvStreamEnvelope(encodeRequest('KV', 'Multiplex', { id: 1, [kind]: message })).kind, kind);
  }
});

test('a message without a body has no kind; unknown fields are skipped', () => {
  const envelope = decodeKvStreamEnvelope(Buffer.concat([varintField(1, 9n), varintField(99, 5n), bytesField(100, Buffer.from('x'))]));
  assert.deepEqual({ ...envelope, body: envelope.body.length }, { id: 9, timeoutMs: 0, kind: undefined, body: 0 });
});

test('two bodies, or a field in the wrong wire type, are refused', () => {
  const get = bytesField(4, Buffer.from([0x0a, 0x01, 0x6b]));
  const put = bytesField(3, Buffer.from([0x0a, 0x01, 0x6b]));
  assert.throws(() => decodeKvStreamEnvelope(Buffer.concat([put, get])), new KvStreamEnvelopeError('a request carries one body; this one carries put and get'));
  assert.throws(() => decodeKvStreamEnvelope(Buffer.concat([get, get])), KvStreamEnvelopeError);
  assert.throws(() => decodeKvStreamEnvelope(bytesField(1, Buffer.from('x'))), /field 1 has wire type 2/);
  assert.throws(() => decodeKvStreamEnvelope(varintField(6, 1n)), /the batchPut body has wire type 0/);
});
