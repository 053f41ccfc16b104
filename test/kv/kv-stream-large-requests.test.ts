// KV.Multiplex under normal heavy use now that the receive gate holds a turn for each
// large message a stream is receiving (not only for its first): two of the project's
// clients with the same certificate, each over its KV_CLIENT_STREAMS_PER_NODE streams to
// a real node with TLS, run concurrent BatchPuts of large batches, Puts of large values,
// Gets and BatchGets: more streams receiving large messages at once than one caller has
// turns, so some wait for theirs. Every request must succeed with the right data, and the
// node must have refused or timed out no call at its receive gate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcKvClient } from '../../src/client/grpc-kv-client.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { KV_CLIENT_STREAMS_PER_NODE, RECEIVING_CALLS_PER_CALLER_MAX } from '../../src/limits.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const WORKERS = 12;
const ROUNDS = 4;
const BATCH_ITEMS = 200;
const BATCH_VALUE_BYTES = 8 * 1024;
const LARGE_VALUE_BYTES = 768 * 1024;

let cluster: ProcessCluster;
let grpcClients: QuorumKvClient[];

before(async () => {
  cluster = await ProcessCluster.start({ size: 1, dataRoot: await tempDir(undefined, 'qkv-stream-large-'), extraArgs: ['--replication-factor', '1'] });
  grpcClients = [cluster.client(['qkv-1'], 30_000, undefined, 'stream'), cluster.client(['qkv-1'], 30_000, undefined, 'stream')];
});

after(async () => {
  for (const client of grpcClients ?? []) client.close();
  await cluster?.stopAll();
});

function valueOf(key: string, bytes: number): Buffer {
  const value = Buffer.alloc(bytes, key);
  value.write(key);
  return value;
}

test(`${WORKERS} concurrent workers of ${(BATCH_ITEMS * BATCH_VALUE_BYTES) / 1024} KiB BatchPuts and ${LARGE_VALUE_BYTES / 1024} KiB Puts over two clients' ${KV_CLIENT_STREAMS_PER_NODE} streams each all succeed; the gate refuses nothing`, async (context) => {
  assert.ok(grpcClients.length * KV_CLIENT_STREAMS_PER_NODE > RECEIVING_CALLS_PER_CALLER_MAX, 'more streams than the caller has turns');
  const clients = grpcClients.map((grpcClient) => new GrpcKvClient(grpcClient));
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_unused, worker) => {
      const client = clients[worker % clients.length]!;
      for (let round = 0; round < ROUNDS; round++) {
        const prefix = `w${worker}-r${round}`;
        const items = Array.from({ length: BATCH_ITEMS }, (_item, index) => ({ key: Buffer.from(`${prefix}-${index}`), value: valueOf(`${prefix}-${index}`, BATCH_VALUE_BYTES) }));
        const written = await client.batchPut(items);
        assert.ok(written.every((result) => result.ok), `${prefix}: a BatchPut item failed: ${JSON.stringify(written.find((result) => !result.ok))}`);
        const largeKey = Buffer.from(`${prefix}-large`);
        await client.put(largeKey, valueOf(largeKey.toString(), LARGE_VALUE_BYTES));
        const read = await client.get(largeKey);
        assert.ok(read.found && read.value.equals(valueOf(largeKey.toString(), LARGE_VALUE_BYTES)), `${prefix}: the large value read back differs`);
        const keys = items.slice(0, 20).map((item) => item.key);
        const batch = await client.batchGet(keys);
        batch.forEach((result, index) => assert.ok(result.ok && result.found && result.value.equals(items[index]!.value), `${prefix}: BatchGet item ${index} differs`));
      }
    }),
  );
  const metrics = await cluster.metrics('qkv-1');
  context.diagnostic(`${WORKERS * ROUNDS} rounds (BatchPut, Put, Get, BatchGet) in ${Date.now() - started} ms`);
  assert.doesNotMatch(metrics, /qkv_calls_refused_total\{port="client"[^}]*\} [1-9]/, 'the node refused or ended calls on its client port');
});
