// Scaling 3 -> 5 -> 3 on real processes under a continuous writer
// (docs/decisions/0080-ring-states-and-range-movement.md). Static discovery lists all
// five nodes from the start; qkv-4 and qkv-5 are simply not running at first.
//
// 1. Three nodes start; data is loaded and a writer keeps writing unique keys (W=2)
//    through qkv-1..3 for the whole test, recording every acked write.
// 2. qkv-4 and qkv-5 start together: they are JOINING (Status, /readyz and the KV API
//    say so), stream the ranges they take over, and become NORMAL.
// 3. Once every node has heard everyone NORMAL, for every acked key each of its N
//    replicas in the final ring holds it (read with Replica.Scan on each node, before
//    any read could repair it), and every acked key reads back with R=2 through every node.
// 4. qkv-5 is decommissioned through the Admin API and qkv-4 through `qkv decommission`,
//    one after the other, each stopped once LEFT; the same checks hold on three nodes.
// 5. With three NORMAL nodes and N=3, decommission is refused (DECOMMISSION_REFUSED).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ProcessCluster, sampleValue } from '../support/process-cluster.js';
import { converged, decommissionUntilLeft, holdings, qkvCli, waitFor } from '../support/cluster-steps.js';
import { tempDir } from '../support/temp-dir.js';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import type { QkvError } from '../../src/errors/errors.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import type { StatusResponse__Output } from '../../src/protocol/generated/quorumkv/v1/StatusResponse.js';

const ALL = ['qkv-1', 'qkv-2', 'qkv-3', 'qkv-4', 'qkv-5'];
const FIRST = ['qkv-1', 'qkv-2', 'qkv-3'];
const N = 3;
/**
 * 64 tokens per node instead of 256: a quarter of the ranges to stream, so the test stays
 * short on a busy machine; what it checks does not depend on the count.
 */
const VNODES = 64;
/**
 * Probes every 500 ms (default 1 s): peers hear a new ring state sooner. Not shorter: the
 * probe timeout is the interval, and a busy machine would mark live peers down.
 */
const EXTRA_ARGS = ['--probe-interval-ms', '500', '--vnodes', String(VNODES)];

let cluster: ProcessCluster | undefined;
const clients: QuorumKvClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await cluster?.stopAll();
});

function clientOf(id: string, timeoutMs = 5_000): QuorumKvClient {
  const client = cluster!.client([id], timeoutMs);
  clients.push(client);
  return client;
}

interface Acked {
  readonly value: string;
  readonly stamp: bigint;
}

/**
 * Writes unique keys with W=2 through the given nodes, a few at a time, and records
 * every write that was acked. Failed writes (a quorum lost for a moment) are counted,
 * not recorded: only acked writes must survive.
 */
class ContinuousWriter {
  readonly acked = new Map<string, Acked>();
  failures = 0;
  private sequence = 0;
  private paused: Promise<void> | undefined;
  private resumePaused: (() => void) | undefined;
  private stopped = false;
  private readonly loops: Array<Promise<void>>;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(writers: readonly QuorumKvClient[]) {
    this.loops = writers.map((client) => this.loop(client));
  }

  /** Lets the writes in flight finish and holds new ones until resume(). */
  async pause(): Promise<void> {
    this.paused ??= new Promise((resolve) => (this.resumePaused = resolve));
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  resume(): void {
    const resume = this.resumePaused;
    this.paused = undefined;
    this.resumePaused = undefined;
    resume?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await Promise.all(this.loops);
  }

  private async loop(client: QuorumKvClient): Promise<void> {
    while (!this.stopped) {
      if (this.paused !== undefined) await this.paused;
      if (this.stopped) return;
      const key = `w-${String(this.sequence++).padStart(6, '0')}`;
      const value = `${key}:${'v'.repeat(64)}`;
      this.inFlight++;
      try {
        const result = await client.put(Buffer.from(key), Buffer.from(value), { w: 2 });
        this.acked.set(key, { value, stamp: BigInt(result.version!.stamp) });
      } catch {
        this.failures++;
      } finally {
        this.inFlight--;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      }
    }
  }
}

/**
 * The checks after each change: each acked key is held, at its acked version or newer,
 * by every one of its N replicas in the ring of `members`; then it reads back with R=2
 * through every node.
 */
async function checkEveryAckedWrite(members: readonly string[], acked: ReadonlyMap<string, Acked>): Promise<void> {
  const ring = await HashRing.create(members.map((id) => ({ id })), { vnodes: VNODES, replicationFactor: N });
  const status = await clientOf(members[0]!).status();
  assert.equal(status.ringDigest, ring.digest, 'the test computes the ring the nodes route by');

  const held = await holdings(cluster!, members);
  const missing: string[] = [];
  for (const [key, write] of acked) {
    for (const replica of ring.preferenceListForKey(Buffer.from(key))) {
      const stamp = held.get(replica)!.get(key)?.version.stamp;
      if (stamp === undefined || stamp < write.stamp) missing.push(`${key}@${replica}`);
    }
  }
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${acked.size * N} replica copies of acked keys are missing on the ring of ${members.join(', ')}`);

  const keys = [...acked.keys()];
  for (const id of members) {
    const client = clientOf(id, 20_000);
    const wrong: string[] = [];
    for (let at = 0; at < keys.length; at += 1000) {
      const batch = keys.slice(at, at + 1000);
      const response = await client.batchGet(batch.map((key) => Buffer.from(key)), { r: 2 });
      response.results.forEach((result, i) => {
        const key = batch[i]!;
        if (!result.ok || !result.found || result.value.toString('utf8') !== acked.get(key)!.value) wrong.push(`${key}: ${result.ok ? (result.found ? 'other value' : 'not found') : result.error?.code}`);
      });
    }
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} acked keys do not read back with R=2 through ${id}`);
  }
}

test('3 -> 5 -> 3 nodes under continuous writes: every acked write stays on N replicas and readable with R=2', async () => {
  const started = Date.now();
  const phases: string[] = [];
  const phase = (name: string): void => void phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const dataRoot = await tempDir(undefined, 'qkv-scaling-');
  cluster = await ProcessCluster.start({ size: 5, running: 3, dataRoot, extraArgs: EXTRA_ARGS });
  phase('3 nodes ready');
  for (const id of FIRST) assert.equal((await clientOf(id).status()).ringState, 'NORMAL', `${id} starts NORMAL with the new cluster`);

  // Data to stream: 3000 keys before anything moves.
  const loader = clientOf('qkv-1', 20_000);
  const preloaded = new Map<string, Acked>();
  for (let batch = 0; batch < 3; batch++) {
    const items = Array.from({ length: 1000 }, (_, i) => {
      const key = `pre-${batch}-${String(i).padStart(4, '0')}`;
      return { key: Buffer.from(key), value: Buffer.from(`${key}:${'p'.repeat(200)}`) };
    });
    const response = await loader.batchPut(items, { w: 2 });
    response.results.forEach((result, i) => {
      assert.ok(result.ok, `preload ${items[i]!.key.toString()}`);
      preloaded.set(items[i]!.key.toString(), { value: items[i]!.value.toString(), stamp: BigInt(result.version!.stamp) });
    });
  }
  const writer = new ContinuousWriter(FIRST.map((id) => clientOf(id)));
  const allAcked = (): Map<string, Acked> => new Map([...preloaded, ...writer.acked]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));

    // ---- scale up: qkv-4 and qkv-5 start together and join ----
    cluster.launch('qkv-4');
    cluster.launch('qkv-5');
    // While JOINING: Status shows it with progress, /readyz says why not, clients get NOT_READY.
    let joiningStatus: StatusResponse__Output | undefined;
    // A start-up bound, not a speed check: two processes start at once on a small machine.
    await waitFor('qkv-5 to answer as JOINING', 60_000, async () => {
      joiningStatus = await clientOf('qkv-5', 1_000).status();
      return true;
    });
    assert.equal(joiningStatus!.ringState, 'JOINING');
    assert.notEqual(joiningStatus!.stream, null, 'Status carries the join progress');
    const readyz = await fetch(`http://127.0.0.1:${cluster.node('qkv-5').httpPort}/readyz`);
    assert.equal(readyz.status, 503);
    assert.match(await readyz.text(), /joining/);
    await assert.rejects(clientOf('qkv-5').put(Buffer.from('refused'), Buffer.from('x')), (error: QkvError) => {
      assert.equal(error.code, 'NOT_READY');
      assert.match(error.message, /joining/);
      return true;
    });
    const seenBy1 = await clientOf('qkv-1').status();
    assert.ok(
      ['JOINING', 'NORMAL'].includes(seenBy1.members.find((member) => member.id === 'qkv-5')!.ringState),
      'qkv-1 has heard qkv-5 (JOINING, or NORMAL already)',
    );

    // Generous: a join took about 25 s on a 2-core machine shared with other test runs.
    await cluster.ready('qkv-4', 120_000);
    await cluster.ready('qkv-5', 120_000);
    await waitFor('all five NORMAL on every node', 20_000, () => converged(clientOf, ALL));
    phase('qkv-4 and qkv-5 joined');
    for (const id of ['qkv-4', 'qkv-5']) {
      const metrics = await cluster.metrics(id);
      assert.ok(sampleValue(metrics, 'qkv_stream_bytes_total', { direction: 'in' })! > 0, `${id} streamed bytes in`);
      assert.ok(sampleValue(metrics, 'qkv_stream_ranges_total', { direction: 'in' })! > 0, `${id} finished ranges`);
      assert.equal(sampleValue(metrics, 'qkv_ring_state', { state: 'NORMAL' }), 1);
      assert.equal(sampleValue(metrics, 'qkv_ring_members', { state: 'NORMAL' }), 5);
    }

    await writer.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterJoin = allAcked();
    await checkEveryAckedWrite(ALL, afterJoin);
    phase('checked on 5');
    writer.resume();

    // ---- scale down: decommission qkv-5 (Admin API), then qkv-4 (CLI) ----
    const left5 = await decommissionUntilLeft(clientOf('qkv-5'), 'qkv-5');
    assert.ok(left5.members.every((member) => member.id === 'qkv-5' || member.ringState === 'NORMAL'));
    assert.ok(sampleValue(await cluster.metrics('qkv-5'), 'qkv_stream_ranges_total', { direction: 'out' })! > 0);
    assert.equal(await cluster.terminate('qkv-5'), 0);
    phase('qkv-5 left');

    const cli = await qkvCli(cluster, ['decommission', '--addr', cluster.address('qkv-4')]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^qkv-4: LEAVING: decommission started$/m);
    assert.match(cli.stdout, /^qkv-4: LEFT: every reachable peer has heard it; stop the node now$/m);
    assert.equal(await cluster.terminate('qkv-4'), 0);
    phase('qkv-4 left');

    await waitFor('three NORMAL nodes that heard qkv-4 and qkv-5 LEFT', 20_000, () => converged(clientOf, FIRST));
    await writer.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterLeave = allAcked();
    await checkEveryAckedWrite(FIRST, afterLeave);
    phase('checked on 3');
    writer.resume();

    // ---- below N: refused ----
    await assert.rejects(clientOf('qkv-1').decommission(), (error: QkvError) => {
      assert.equal(error.code, 'DECOMMISSION_REFUSED');
      assert.equal((error.cause as grpc.ServiceError | undefined)?.code, grpc.status.FAILED_PRECONDITION);
      assert.match(error.message, /fewer than the replication factor N=3/);
      return true;
    });
    assert.equal((await clientOf('qkv-1').status()).ringState, 'NORMAL', 'a refused decommission changes nothing');

    const writes = writer.acked.size;
    console.log(
      `scaling: ${preloaded.size} preloaded + ${writes} acked writes (${writer.failures} failed); checked ${afterJoin.size} keys on 5 nodes ` +
        `and ${afterLeave.size} on 3; ${phases.join(', ')}`,
    );
    assert.ok(writes > 100, `the writer kept writing during the changes (${writes} acked)`);
  } finally {
    await writer.stop();
  }
});
