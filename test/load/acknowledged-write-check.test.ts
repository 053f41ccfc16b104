// The continuous writer and its check on a three-node cluster in this process
// (MemoryNetwork): the check passes when every acknowledged write is there, and fails,
// saying which key and why, when one is gone, overwritten or cannot be read. The e2e
// tests trust "0 acknowledged writes lost" only because these cases fail.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinatorKvClient } from '../../src/coordinator/coordinator-kv-client.js';
import { systemClock } from '../../src/clock/clock.js';
import { assertNoAcknowledgedWriteLost, checkAcknowledgedWrites, describeWriteCheck } from '../support/acknowledged-write-check.js';
import { ContinuousWriter, type WriteLedger } from '../support/continuous-writer.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const CHECK = { r: 3, timeoutMs: 500, readAttempts: 2, retryPauseMs: 10 };

function threeNodes(): { cluster: MemoryCluster; client: CoordinatorKvClient } {
  const cluster = new MemoryCluster({ nodes: 3, replicationFactor: 3, coordinator: { writeTimeoutMs: 500, readTimeoutMs: 500 } });
  return { cluster, client: new CoordinatorKvClient(cluster.node('node-0').coordinator, systemClock) };
}

async function writeFor(client: CoordinatorKvClient, keyPrefix: string, durationMs: number): Promise<WriteLedger> {
  const writer = ContinuousWriter.start(client, { keyPrefix, w: 2, timeoutMs: 500, pauseMs: 1, pauseAfterFailureMs: 1 });
  await sleep(durationMs);
  return writer.stop();
}

describe('continuous writer and the acknowledged-write check', () => {
  const clusters: MemoryCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.close();
  });

  it('verifies every acknowledged write, also those a replica missed while it was away', async () => {
    const { cluster, client } = threeNodes();
    clusters.push(cluster);
    const writer = ContinuousWriter.start(client, { keyPrefix: 'healthy', w: 2, timeoutMs: 500, pauseMs: 1 });
    await sleep(100);
    cluster.network.disconnect('node-2');
    await sleep(100);
    cluster.network.reconnect('node-2');
    await sleep(100);
    const ledger = await writer.stop();
    const report = await checkAcknowledgedWrites(client, ledger, CHECK);
    assert.ok(report.acknowledged > 20, describeWriteCheck(report));
    assert.equal(report.failed, 0, describeWriteCheck(report));
    assert.equal(report.verified, report.acknowledged);
    assertNoAcknowledgedWriteLost(report);
  });

  it('reports an acknowledged write that was deleted afterwards as lost, by key', async () => {
    const { cluster, client } = threeNodes();
    clusters.push(cluster);
    const ledger = await writeFor(client, 'deleted', 100);
    const victim = ledger.acknowledged[3]!;
    await client.delete(victim.key, { w: 3 });
    const report = await checkAcknowledgedWrites(client, ledger, CHECK);
    assert.deepEqual(report.lost, [{ key: victim.key.toString(), reason: 'not found' }]);
    assert.equal(report.verified, report.acknowledged - 1);
    assert.throws(() => assertNoAcknowledgedWriteLost(report), (error: Error) => error.message.includes(`lost ${victim.key.toString()}: not found`));
  });

  it('reports an acknowledged write that another value replaced as lost', async () => {
    const { cluster, client } = threeNodes();
    clusters.push(cluster);
    const ledger = await writeFor(client, 'overwritten', 100);
    const victim = ledger.acknowledged[5]!;
    await client.put(victim.key, Buffer.from('someone else'), { w: 3 });
    const report = await checkAcknowledgedWrites(client, ledger, CHECK);
    assert.equal(report.lost.length, 1);
    assert.equal(report.lost[0]!.key, victim.key.toString());
    assert.match(report.lost[0]!.reason, /someone else/);
    assert.throws(() => assertNoAcknowledgedWriteLost(report));
  });

  it('reports every write lost when read against a cluster that never had them', async () => {
    const { cluster, client } = threeNodes();
    const empty = threeNodes();
    clusters.push(cluster, empty.cluster);
    const ledger = await writeFor(client, 'elsewhere', 50);
    const report = await checkAcknowledgedWrites(empty.client, ledger, CHECK);
    assert.ok(report.acknowledged > 0);
    assert.equal(report.lost.length, report.acknowledged);
    assert.equal(report.verified, 0);
    assert.throws(() => assertNoAcknowledgedWriteLost(report));
  });

  it('counts failed writes by code, refuses keys it cannot read at R=3, and sees failed writes that landed', async () => {
    const { cluster, client } = threeNodes();
    clusters.push(cluster);
    const ledger = await writeFor(client, 'no-quorum-first', 50);
    cluster.network.disconnect('node-1');
    cluster.network.disconnect('node-2');
    const failing = await writeFor(client, 'no-quorum', 50);
    assert.ok(failing.failed.length > 0);
    assert.equal(failing.acknowledged.length, 0);
    const both: WriteLedger = { acknowledged: ledger.acknowledged, failed: failing.failed };

    const unreadable = await checkAcknowledgedWrites(client, both, CHECK);
    assert.deepEqual(unreadable.failuresByCode, { QUORUM_NOT_MET: failing.failed.length });
    assert.equal(unreadable.unverified.length, ledger.acknowledged.length);
    assert.equal(unreadable.lost.length, 0);
    assert.throws(() => assertNoAcknowledgedWriteLost(unreadable), /unverified/);

    cluster.network.heal();
    const readable = await checkAcknowledgedWrites(client, both, CHECK);
    assertNoAcknowledgedWriteLost(readable);
    // The coordinator's own replica took each failed put before the quorum was missed.
    assert.equal(readable.failedButLanded, failing.failed.length);
  });
});
