// Bounds at the edge of a real node process: more client requests than the in-flight
// limit are refused with RESOURCE_EXHAUSTED (code OVERLOADED) rather than queued without
// bound, the node keeps serving, and a configured value limit is enforced.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import type { QkvError } from '../../src/errors/errors.js';

let cluster: ProcessCluster | undefined;
after(async () => {
  await cluster?.stopAll();
});
const dataRoot = await tempDir(undefined, 'qkv-limits-');

test('requests beyond the in-flight bound get RESOURCE_EXHAUSTED; the rest succeed and nothing is lost', async (t) => {
  cluster = await ProcessCluster.start({
    size: 1,
    dataRoot,
    extraArgs: ['--replication-factor', '1', '--in-flight-requests-max', '4', '--value-bytes-max', '1000'],
  });
  // Unary calls here, to see the gRPC status; the stream's requests are checked below.
  const client = cluster.client(['qkv-1'], 5_000, undefined, 'unary');
  const streamClient = cluster.client(['qkv-1'], 5_000, undefined, 'stream');
  try {
    const calls = Array.from({ length: 300 }, (_, i) => client.put(Buffer.from(`k${i}`), Buffer.from(`v${i}`)));
    const settled = await Promise.allSettled(calls);
    const refused = settled.filter((result) => result.status === 'rejected');
    const accepted = settled.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    t.diagnostic(`300 concurrent puts: ${accepted.length} accepted, ${refused.length} refused`);
    assert.ok(refused.length > 0, 'some calls must exceed an in-flight bound of 4');
    assert.ok(accepted.length > 0, 'some calls must get through');
    for (const result of refused) {
      const error = (result as PromiseRejectedResult).reason as QkvError;
      assert.equal(error.code, 'OVERLOADED');
      assert.equal((error.cause as grpc.ServiceError).code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(error.message, /the limit is 4/);
    }
    // Every accepted write is readable; the refused ones were never written.
    const reads = await client.batchGet(accepted.map((i) => Buffer.from(`k${i}`)));
    reads.results.forEach((result, index) => assert.equal(result.value.toString(), `v${accepted[index]}`));

    // The same bound, per request, on the client's KV.Multiplex streams (fewer requests than
    // one stream's own bound, KV_STREAM_REQUESTS_MAX, so only the node's in-flight bound refuses).
    const streamed = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => streamClient.put(Buffer.from(`s${i}`), Buffer.from(`v${i}`))));
    const streamRefused = streamed.filter((result) => result.status === 'rejected');
    t.diagnostic(`200 concurrent puts on the streams: ${streamed.length - streamRefused.length} accepted, ${streamRefused.length} refused`);
    assert.ok(streamRefused.length > 0 && streamRefused.length < streamed.length);
    for (const result of streamRefused) {
      const error = (result as PromiseRejectedResult).reason as QkvError;
      assert.equal(error.code, 'OVERLOADED');
      assert.match(error.message, /the limit is 4/);
    }

    await assert.rejects(client.put(Buffer.from('big'), Buffer.alloc(1001)), { code: 'VALUE_TOO_LARGE', message: /limit is 1000/ });
    assert.equal((await client.put(Buffer.from('fits'), Buffer.alloc(1000))).acks, 1);
    assert.equal((await client.status()).state, 'SERVING');
  } finally {
    client.close();
    streamClient.close();
  }
});
