// The resurrection that cleanup prevents, end to end on real processes
// (docs/decisions/0082-cleanup-of-handed-over-ranges.md). Static discovery lists five
// nodes; qkv-4 and qkv-5 are not running at first.
//
// 1. Three nodes (N=3: each holds every key) take 1500 keys with W=3.
// 2. qkv-4 and qkv-5 join. The old nodes keep their copies of the ranges they handed
//    over (checked: each holds keys it no longer replicates).
// 3. Twenty keys that some old node no longer replicates are deleted with W=2: the
//    tombstones reach only the keys' replicas in the five-node ring.
// 4. The tombstone grace period (the minimum, 60 s) passes, and a rolling restart makes
//    every node checkpoint and purge: no node holds the tombstones any more, while the
//    old nodes that handed the keys over still hold their old values (checked).
// 5. `qkv cleanup` on every node: Status said a cleanup was needed on the old nodes;
//    each node removes exactly the keys it no longer replicates (computed from the
//    ring), and afterwards every node holds only keys it replicates, while every live
//    key is still on all of its replicas.
// 6. qkv-5 and qkv-4 are decommissioned: their ranges go back to the old nodes.
// 7. Every deleted key reads as not found with R=3 through every node, and every live
//    key reads back with R=3.
// Without step 5 the old nodes' copies come back in step 7: the test fails with every
// deleted key found again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster, sampleValue } from '../support/process-cluster.js';
import { converged, decommissionUntilLeft, holdings, qkvCli, waitFor } from '../support/cluster-steps.js';
import { tempDir } from '../support/temp-dir.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { HashRing } from '../../src/ring/hash-ring.js';

const ALL = ['qkv-1', 'qkv-2', 'qkv-3', 'qkv-4', 'qkv-5'];
const FIRST = ['qkv-1', 'qkv-2', 'qkv-3'];
const N = 3;
const VNODES = 64;
const GRACE_MS = 60_000;
const KEYS = 1500;
const DELETED = 20;
const EXTRA_ARGS = [
  '--probe-interval-ms', '500',
  '--vnodes', String(VNODES),
  // The smallest grace period the node accepts; the hint window may not exceed it.
  '--tombstone-grace-ms', String(GRACE_MS),
  '--hint-window-ms', String(GRACE_MS),
  // No background anti-entropy: the test decides what each node holds.
  '--repair-interval-ms', '0',
];

let cluster: ProcessCluster | undefined;
const clients: QuorumKvClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stopAll();
});

function clientOf(id: string, timeoutMs = 10_000): QuorumKvClient {
  const client = cluster!.client([id], timeoutMs);
  clients.push(client);
  return client;
}

function keyName(index: number): string {
  return `key-${String(index).padStart(5, '0')}`;
}

/** Keys each node holds (tombstones included) that it does not replicate in `ring`. */
function foreignKeys(held: ReadonlyMap<string, ReadonlyMap<string, unknown>>, ring: HashRing): Map<string, string[]> {
  const foreign = new Map<string, string[]>();
  for (const [id, records] of held) {
    foreign.set(id, [...records.keys()].filter((key) => !ring.preferenceListForKey(Buffer.from(key)).includes(id)));
  }
  return foreign;
}

test('cleanup after 3 -> 5 keeps keys deleted (and purged) from coming back when the cluster goes back to 3', async () => {
  const started = Date.now();
  const phases: string[] = [];
  const phase = (name: string): void => void phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  cluster = await ProcessCluster.start({ size: 5, running: 3, dataRoot: await tempDir(undefined, 'qkv-cleanup-'), extraArgs: EXTRA_ARGS });
  const five = await HashRing.create(ALL.map((id) => ({ id })), { vnodes: VNODES, replicationFactor: N });

  // ---- 1. three nodes, every key on each ----
  const loader = clientOf('qkv-1', 20_000);
  const values = new Map<string, string>();
  for (let at = 0; at < KEYS; at += 500) {
    const items = Array.from({ length: 500 }, (_, i) => keyName(at + i)).map((key) => ({ key: Buffer.from(key), value: Buffer.from(`${key}:${'v'.repeat(100)}`) }));
    const response = await loader.batchPut(items, { w: 3 });
    response.results.forEach((result, i) => assert.ok(result.ok, `load ${items[i]!.key.toString()}`));
    for (const item of items) values.set(item.key.toString(), item.value.toString());
  }
  phase('loaded');

  // ---- 2. scale up ----
  cluster.launch('qkv-4');
  cluster.launch('qkv-5');
  await cluster.ready('qkv-4', 120_000);
  await cluster.ready('qkv-5', 120_000);
  await waitFor('all five NORMAL on every node', 30_000, () => converged(clientOf, ALL));
  assert.equal((await clientOf('qkv-1').status()).ringDigest, five.digest, 'the test computes the ring the nodes route by');
  phase('joined');
  const beforeDelete = foreignKeys(await holdings(cluster, ALL), five);
  for (const id of FIRST) assert.ok(beforeDelete.get(id)!.length > KEYS / 10, `${id} kept ${beforeDelete.get(id)!.length} keys it handed over`);

  // ---- 3. delete keys that an old node no longer replicates ----
  const deleted = [...values.keys()].filter((key) => FIRST.some((id) => !five.preferenceListForKey(Buffer.from(key)).includes(id))).slice(0, DELETED);
  assert.equal(deleted.length, DELETED);
  for (const key of deleted) {
    await clientOf('qkv-1').delete(Buffer.from(key), { w: 2 });
    values.delete(key);
  }
  const deletedAtMs = Date.now();
  phase('deleted');

  // ---- 4. the grace period passes; a restart checkpoints and purges the tombstones ----
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, deletedAtMs + GRACE_MS + 2_000 - Date.now())));
  for (const id of ALL) {
    assert.equal(await cluster.terminate(id), 0, `${id} drains cleanly`);
    await cluster.restart(id);
  }
  await cluster.awaitRingViews(ALL);
  phase('purged');
  const purged = await holdings(cluster, ALL);
  const oldCopies: string[] = [];
  for (const key of deleted) {
    for (const id of ALL) {
      const record = purged.get(id)!.get(key);
      if (five.preferenceListForKey(Buffer.from(key)).includes(id)) assert.equal(record, undefined, `${id} replicates ${key} and purged its tombstone`);
      else if (record !== undefined) oldCopies.push(`${key}@${id}`);
    }
  }
  // The precondition of the resurrection: old values that no tombstone shadows any more.
  assert.ok(oldCopies.length >= DELETED, `old nodes still hold ${oldCopies.length} copies of the deleted keys`);

  // ---- 5. cleanup ----
  const foreign = foreignKeys(purged, five);
  for (const id of ALL) {
    const status = await clientOf(id).status();
    // A joiner may also say so (it took writes for ranges of a four-node view for a
    // moment); a node that holds handed-over keys must.
    if (foreign.get(id)!.length > 0) assert.equal(status.cleanup?.needed, true, `${id} holds ${foreign.get(id)!.length} handed-over keys: Status must say a cleanup is needed`);
  }
  for (const id of FIRST) assert.ok(foreign.get(id)!.length > 0);
  const cli = await qkvCli(cluster!, ['cleanup', '--addr', ALL.map((id) => cluster!.address(id)).join(','), '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const reports = (JSON.parse(cli.stdout) as { cleanups: Array<{ address: string; recordsRemoved: number; recordsScanned: number; ringDigest: string }> }).cleanups;
  for (const id of ALL) {
    const report = reports.find((entry) => entry.address === cluster!.address(id))!;
    assert.equal(report.recordsRemoved, foreign.get(id)!.length, `${id} removes exactly the keys it no longer replicates`);
    assert.equal(report.recordsScanned, foreign.get(id)!.length, `${id} reads only the ranges it no longer replicates`);
    assert.equal(report.ringDigest, five.digest);
    const status = await clientOf(id).status();
    assert.equal(status.cleanup?.needed, false, `${id} needs no cleanup after one`);
    assert.equal(sampleValue(await cluster.metrics(id), 'qkv_cleanup_records_removed_total', {}), foreign.get(id)!.length);
    assert.equal(sampleValue(await cluster.metrics(id), 'qkv_cleanup_runs_total', { outcome: 'done' }), 1);
  }
  const cleaned = await holdings(cluster, ALL);
  for (const [id, keys] of foreignKeys(cleaned, five)) assert.deepEqual(keys, [], `${id} holds only keys it replicates`);
  const missing = [...values.keys()].flatMap((key) => five.preferenceListForKey(Buffer.from(key)).filter((id) => !cleaned.get(id)!.has(key)).map((id) => `${key}@${id}`));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} replica copies of live keys are gone`);
  phase('cleaned');

  // ---- 6. scale down ----
  await decommissionUntilLeft(clientOf('qkv-5'), 'qkv-5');
  assert.equal(await cluster.terminate('qkv-5'), 0);
  await decommissionUntilLeft(clientOf('qkv-4'), 'qkv-4');
  assert.equal(await cluster.terminate('qkv-4'), 0);
  await waitFor('three NORMAL nodes that heard qkv-4 and qkv-5 LEFT', 30_000, () => converged(clientOf, FIRST));
  phase('back to 3');

  // ---- 7. deleted stays deleted; live keys stay ----
  for (const id of FIRST) {
    const client = clientOf(id, 20_000);
    const back = await client.batchGet(deleted.map((key) => Buffer.from(key)), { r: 3 });
    const resurrected = deleted.flatMap((key, i) => {
      const result = back.results[i]!;
      if (!result.ok) return [`${key}: ${result.error?.code}`];
      return result.found ? [`${key}: found ${result.value.toString().slice(0, 20)}...`] : [];
    });
    assert.deepEqual(resurrected, [], `${resurrected.length} of ${DELETED} deleted keys read as found (or failed) with R=3 through ${id}`);
    const keys = [...values.keys()];
    const wrong: string[] = [];
    for (let at = 0; at < keys.length; at += 1000) {
      const batch = keys.slice(at, at + 1000);
      const response = await client.batchGet(batch.map((key) => Buffer.from(key)), { r: 3 });
      response.results.forEach((result, i) => {
        if (!result.ok || !result.found || result.value.toString() !== values.get(batch[i]!)) wrong.push(batch[i]!);
      });
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} live keys do not read back with R=3 through ${id}`);
  }
  const removed = reports.reduce((sum, report) => sum + report.recordsRemoved, 0);
  console.log(`cleanup: ${KEYS} keys, ${DELETED} deleted and purged, ${oldCopies.length} old copies, ${removed} records removed by cleanup; ${phases.join(', ')}`);
});
