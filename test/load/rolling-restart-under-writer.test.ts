// The continuous writer and its check over gRPC against three real `qkv server`
// processes with TLS, restarted one at a time with SIGTERM (what a rolling upgrade does
// to the pods): the client knows all three addresses and moves to the next when one is
// down, writes at W=2 keep being acknowledged, and every acknowledged write reads back at
// R=3. The e2e tests do the same through port-forwards on a real kubelet; this one runs
// anywhere the process tier runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GrpcKvClient } from '../../src/client/grpc-kv-client.js';
import { assertNoAcknowledgedWriteLost, checkAcknowledgedWrites, describeWriteCheck } from '../support/acknowledged-write-check.js';
import { ContinuousWriter } from '../support/continuous-writer.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

test('a rolling restart of three node processes under a W=2 writer: no acknowledged write lost', { timeout: 240_000 }, async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-rolling-restart-') });
  const grpcClient = cluster.client(['qkv-1', 'qkv-2', 'qkv-3'], 5_000);
  const client = new GrpcKvClient(grpcClient);
  try {
    const writer = ContinuousWriter.start(client, { keyPrefix: 'rolling', w: 2, timeoutMs: 5_000 });
    const acknowledgedBy = async (count: number): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (writer.summary().acknowledged < count) {
        assert.ok(Date.now() < deadline, `the writer did not reach ${count} acknowledged writes: ${JSON.stringify(writer.summary())}`);
        await sleep(50);
      }
    };
    await acknowledgedBy(20);
    // Highest first, as the StatefulSet rolls; each node drains on SIGTERM and exits 0.
    for (const id of ['qkv-3', 'qkv-2', 'qkv-1']) {
      assert.equal(await cluster.terminate(id), 0, `${id} exits 0 on SIGTERM`);
      await acknowledgedBy(writer.summary().acknowledged + 10);
      await cluster.restart(id);
      await acknowledgedBy(writer.summary().acknowledged + 10);
    }
    const ledger = await writer.stop();
    const report = await checkAcknowledgedWrites(client, ledger, { r: 3, timeoutMs: 10_000 });
    for (const line of describeWriteCheck(report).split('\n')) t.diagnostic(line);
    assert.ok(report.acknowledged >= 80, describeWriteCheck(report));
    assertNoAcknowledgedWriteLost(report);
  } finally {
    grpcClient.close();
    await cluster.stopAll();
  }
});
