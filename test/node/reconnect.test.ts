// Peers reconnect to a restarted node at once (docs/decisions/0036-reconnect-on-sign-of-life.md).
// While a node is down its peers' channels to it sit in reconnect backoff; without the
// fix a W=3 or R=3 request through a peer failed with PEER_UNREACHABLE for up to a
// second after the node said it was ready. Here the node is killed (or stopped), the
// others keep calling it so that their channels back off, and the moment its /readyz
// answers 200, W=3 puts and R=3 gets must succeed through every node, first try. And a
// dead node costs nothing while it stays dead: W=2 returns without waiting for it, W=3
// fails fast instead of at its deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import type { QkvError } from '../../src/errors/errors.js';

let cluster: ProcessCluster;
let clients: Map<string, QuorumKvClient>;
const dataRoot = await tempDir(undefined, 'qkv-reconnect-');

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot });
  clients = new Map(cluster.nodes.map((node) => [node.id, cluster.client([node.id])]));
});

after(async () => {
  for (const client of clients?.values() ?? []) client.close();
  await cluster?.stopAll();
});

const key = (text: string): Buffer => Buffer.from(text);

/** W=3 puts and R=3 gets through every node, with no retry: each must succeed the first time. */
async function everyNodeReachesAll(label: string): Promise<void> {
  for (const [id, client] of clients) {
    const name = `${label}-via-${id}`;
    const put = await client.put(key(name), key(id), { w: 3 }).catch((error: QkvError) => assert.fail(`${name}: W=3 put failed: ${error.code} ${error.message}`));
    assert.equal(put.acks, 3, name);
    const got = await client.get(key(name), { r: 3 }).catch((error: QkvError) => assert.fail(`${name}: R=3 get failed: ${error.code} ${error.message}`));
    assert.equal(got.value.toString(), id, name);
  }
}

test('right after cluster start, W=3 and R=3 succeed through every node', async () => {
  await everyNodeReachesAll('fresh');
});

for (const [how, stop] of [
  ['SIGKILL', (id: string) => cluster.kill9(id)],
  ['SIGTERM', (id: string) => cluster.terminate(id)],
] as const) {
  test(`a node restarted after ${how}: as soon as it reports ready, W=3 and R=3 succeed through every node`, async (t) => {
    for (let round = 0; round < 3; round++) {
      await stop('qkv-2');
      // Traffic to the dead node from both peers, long enough for their channels to reach
      // the longest reconnect backoff (1 s), so the restart lands inside a backoff.
      const until = Date.now() + 2_500;
      for (let i = 0; Date.now() < until; i++) {
        await clients.get(i % 2 === 0 ? 'qkv-1' : 'qkv-3')!.put(key(`down-${round}-${i}`), key('v'), { w: 2 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const restarted = Date.now();
      await cluster.restart('qkv-2');
      t.diagnostic(`round ${round}: ready ${Date.now() - restarted} ms after spawn`);
      await everyNodeReachesAll(`${how}-${round}`);
    }
  });
}

test('a killed node costs nothing while it stays dead: W=2 returns without waiting for it, W=3 fails fast', async (t) => {
  await cluster.kill9('qkv-3');
  try {
    const writer = clients.get('qkv-1')!;
    let slowestMs = 0;
    for (let i = 0; i < 30; i++) {
      const started = Date.now();
      assert.equal((await writer.put(key(`dead-peer-${i}`), key('v'), { w: 2 })).acks, 2);
      slowestMs = Math.max(slowestMs, Date.now() - started);
    }
    t.diagnostic(`slowest W=2 put with qkv-3 dead: ${slowestMs} ms`);
    // The write deadline is 2 s; a put that waited for the dead replica would take it all.
    assert.ok(slowestMs < 1_000, `slowest W=2 put took ${slowestMs} ms`);
    const started = Date.now();
    await assert.rejects(writer.put(key('dead-peer-all'), key('v'), { w: 3 }), { code: 'QUORUM_NOT_MET' });
    t.diagnostic(`W=3 with qkv-3 dead failed after ${Date.now() - started} ms`);
    assert.ok(Date.now() - started < 1_000, 'W=3 fails fast rather than at the 2 s deadline');
  } finally {
    await cluster.restart('qkv-3');
  }
  await everyNodeReachesAll('after-dead-peer');
});
