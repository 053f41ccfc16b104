// `qkv forget` on real `qkv server` processes (docs/decisions/0180-forget-a-member-gone-for-good.md).
//
// 1. Four nodes, N=3: 600 keys written with W=3 (each on three of the four).
// 2. `qkv forget` of a live member and of an unknown one: refused (FORGET_REFUSED), and
//    no node's ring changes.
// 3. qkv-4 is lost for good: SIGKILL, its data directory deleted (a copy is kept aside
//    for step 6). The survivors lack the keys qkv-4 held with them (checked with
//    Replica.Scan), and `qkv cleanup` is refused because of the down member.
// 4. `qkv forget qkv-4` through qkv-1 (the CLI, which prints progress): every survivor
//    drops qkv-4 from its rings and pulls its ranges from the other survivors.
// 5. Every key is on all three survivors (Replica.Scan) and reads back with R=3 through
//    each of them; `qkv cleanup` succeeds on each.
// 6. qkv-4 started again on its old data directory stops with MEMBER_FORGOTTEN, and no
//    survivor takes it back into its rings.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { ProcessCluster } from '../support/process-cluster.js';
import { holdings, qkvCli, waitFor } from '../support/cluster-steps.js';
import { tempDir } from '../support/temp-dir.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';

const SURVIVORS = ['qkv-1', 'qkv-2', 'qkv-3'];
const ALL = [...SURVIVORS, 'qkv-4'];
const KEYS = 600;
const EXTRA_ARGS = [
  '--probe-interval-ms', '500',
  '--vnodes', '64',
  '--replication-factor', '3',
  // No background anti-entropy: only the forget's re-replication may fill the survivors.
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

/** Keys each survivor does not hold. */
async function missingOnSurvivors(): Promise<Map<string, number>> {
  const held = await holdings(cluster!, SURVIVORS);
  return new Map(SURVIVORS.map((id) => [id, Array.from({ length: KEYS }, (_, i) => keyName(i)).filter((key) => !held.get(id)!.has(key)).length]));
}

async function digests(): Promise<string[]> {
  return Promise.all(SURVIVORS.map(async (id) => (await clientOf(id).status()).ringDigest));
}

test('qkv forget: a member lost for good is forgotten, its keys re-replicated from the survivors, cleanup unblocked, and it cannot come back with its old data', async () => {
  const dataRoot = await tempDir(undefined, 'qkv-forget-');
  cluster = await ProcessCluster.start({ size: 4, dataRoot, extraArgs: EXTRA_ARGS });

  // ---- 1. 600 keys, W=3 ----
  const loader = clientOf('qkv-1', 20_000);
  for (let at = 0; at < KEYS; at += 200) {
    const items = Array.from({ length: 200 }, (_, i) => keyName(at + i)).map((key) => ({ key: Buffer.from(key), value: Buffer.from(`${key}:value`) }));
    const response = await loader.batchPut(items, { w: 3 });
    response.results.forEach((result, i) => assert.ok(result.ok, `load ${items[i]!.key.toString()}`));
  }
  const ringBefore = await digests();

  // ---- 2. refusals ----
  const live = await qkvCli(cluster, ['forget', 'qkv-2', '--addr', cluster.address('qkv-1')]);
  assert.notEqual(live.code, 0, 'forgetting a live member fails');
  assert.match(live.stderr, /FORGET_REFUSED/);
  assert.match(live.stderr, /qkv-2 is not down/);
  const unknown = await qkvCli(cluster, ['forget', 'qkv-9', '--addr', cluster.address('qkv-1')]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /FORGET_REFUSED.*not a member/);
  assert.deepEqual(await digests(), ringBefore, 'no ring changed');
  for (const id of ALL) {
    const status = await clientOf(id).status();
    assert.ok(status.members.every((member) => member.ringState === 'NORMAL'), `${id} sees every member NORMAL after the refusals`);
  }

  // ---- 3. qkv-4 lost for good ----
  const oldDataDir = `${dataRoot}/qkv-4-old`;
  await cluster.kill9('qkv-4');
  await cp(cluster.node('qkv-4').dataDir, oldDataDir, { recursive: true });
  await rm(cluster.node('qkv-4').dataDir, { recursive: true, force: true });
  const missingBefore = await missingOnSurvivors();
  for (const id of SURVIVORS) assert.ok(missingBefore.get(id)! > 0, `${id} lacks ${missingBefore.get(id)} keys that qkv-4 held`);
  await waitFor('qkv-1 holds qkv-4 down', 30_000, async () => (await clientOf('qkv-1').status()).members.find((member) => member.id === 'qkv-4')?.liveness === 'down');
  const blocked = await qkvCli(cluster, ['cleanup', '--addr', cluster.address('qkv-1')]);
  assert.notEqual(blocked.code, 0, 'cleanup refused while the lost member is in the rings');
  assert.match(blocked.stderr, /CLEANUP_REFUSED.*qkv-4/);

  // ---- 4. forget it ----
  const started = Date.now();
  const forgot = await qkvCli(cluster, ['forget', 'qkv-4', '--addr', cluster.address('qkv-1')]);
  assert.equal(forgot.code, 0, `qkv forget: ${forgot.stderr}`);
  assert.match(forgot.stdout, /qkv-4 \(NORMAL\) forgotten/);
  assert.match(forgot.stdout, /re-replication done on this node/);
  await waitFor('every survivor forgot qkv-4 and re-replicated', 120_000, async () => {
    for (const id of SURVIVORS) {
      const status = await clientOf(id).status();
      if (status.stream !== null) return false;
      if (status.members.find((member) => member.id === 'qkv-4')?.ringState !== 'FORGOTTEN') return false;
    }
    return true;
  });
  const elapsedMs = Date.now() - started;

  // ---- 5. every key on all three, R=3 everywhere, cleanup runs ----
  assert.deepEqual([...(await missingOnSurvivors())], SURVIVORS.map((id) => [id, 0]), 'every key on every survivor');
  for (const id of SURVIVORS) {
    const client = clientOf(id);
    for (let i = 0; i < KEYS; i++) {
      const read = await client.get(Buffer.from(keyName(i)), { r: 3 });
      assert.equal(read.value.toString(), `${keyName(i)}:value`, `${keyName(i)} with R=3 through ${id}`);
    }
  }
  for (const id of SURVIVORS) {
    const cleanup = await qkvCli(cluster, ['cleanup', '--addr', cluster.address(id)]);
    assert.equal(cleanup.code, 0, `cleanup on ${id}: ${cleanup.stderr}`);
  }

  // ---- 6. qkv-4 back on its old data: it stops, nobody takes it back ----
  await rm(cluster.node('qkv-4').dataDir, { recursive: true, force: true });
  await cp(oldDataDir, cluster.node('qkv-4').dataDir, { recursive: true });
  cluster.launch('qkv-4');
  const exitCode = await cluster.node('qkv-4').exited;
  cluster.node('qkv-4').child = undefined;
  assert.notEqual(exitCode, 0, 'the forgotten node exits with a failure');
  assert.match(cluster.node('qkv-4').output, /MEMBER_FORGOTTEN/);
  for (const id of SURVIVORS) {
    const status = await clientOf(id).status();
    assert.equal(status.members.find((member) => member.id === 'qkv-4')?.ringState, 'FORGOTTEN', `${id} keeps qkv-4 forgotten`);
  }
  assert.deepEqual(new Set(await digests()).size, 1, 'the survivors route by one ring');
  console.log(`forget of qkv-4 to every survivor re-replicated: ${elapsedMs} ms for ${KEYS} keys (${JSON.stringify([...missingBefore])} missing before)`);
});
