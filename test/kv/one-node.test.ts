// One real `qkv server` with N=1 (W=R=1), TLS and the durable engine with fsync=always,
// driven by the project's client over KV.Multiplex: every single-key call is served by the
// node's own replica without the fan-out (src/coordinator/local-replica-call.ts,
// docs/decisions/0258-one-local-replica-without-the-fan-out.md). What the in-process
// tests (test/coordinator/one-local-replica.test.ts) hold on a memory engine, held here on
// the real parts:
// - puts, gets, deletes and TTLs answer as on any cluster;
// - /metrics carries the series a fan-out reports for the node's own replica (replica
//   requests by op and peer, acks, the request duration by op, quorum and outcome), so a
//   dashboard built for N=3 reads a single node the same way;
// - SIGTERM while writers put: the node drains and exits 0, every put gets an answer
//   (none is left hanging), and every acknowledged put reads back after a restart.
// (A SIGKILL variant was left out: the page cache outlives a killed process, so it
// cannot tell an ack given before the fdatasync from one given after; the power-cut
// tests of the storage engine hold that.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const NODE = 'qkv-1';
const WRITERS = 16;
/** How long the writers run before the node is told to stop. */
const LOAD_MS = 1_000;
/** A put must be answered (acked or refused) within this long of the SIGTERM. */
const ANSWERED_WITHIN_MS = 15_000;

let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start({ size: 1, dataRoot: await tempDir(undefined, 'qkv-one-node-'), extraArgs: ['--replication-factor', '1'] });
});

after(async () => {
  await cluster?.stopAll();
});

/**
 * The value of the sample of `name` whose labels include `labels` (whatever their order,
 * and the node's own `node` label besides), or undefined when there is none.
 */
function sample(metrics: string, name: string, labels: Readonly<Record<string, string>>): number | undefined {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const line of metrics.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = match[2]!.split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

test('puts, gets, deletes and TTLs on one node, reported in the same series as the fan-out', async () => {
  const client = cluster.client([NODE], 10_000);
  try {
    const key = Buffer.from('one-node-basic');
    const put = await client.put(key, Buffer.from('v1'));
    assert.equal(put.acks, 1);
    const got = await client.get(key);
    assert.equal(got.found, true);
    assert.equal(got.value.toString(), 'v1');
    assert.deepEqual(got.version, put.version);
    assert.equal((await client.delete(key)).acks, 1);
    assert.equal((await client.get(key)).found, false, 'a tombstone reads as not found');
    await client.put(Buffer.from('one-node-ttl'), Buffer.from('short'), { ttlMs: 300 });
    assert.equal((await client.get(Buffer.from('one-node-ttl'))).found, true);
    await sleep(600);
    assert.equal((await client.get(Buffer.from('one-node-ttl'))).found, false, 'expired');
    // include_replicas takes the fan-out and names the one replica.
    await client.put(key, Buffer.from('v2'));
    const withReplicas = await client.get(key, { includeReplicas: true });
    assert.deepEqual(withReplicas.replicas.map((replica) => [replica.nodeId, replica.found]), [[NODE, true]]);

    const metrics = await cluster.metrics(NODE);
    // 3 puts and 1 delete applied; 4 gets and 1 include_replicas get read.
    assert.equal(sample(metrics, 'qkv_replica_requests_total', { op: 'apply', peer: NODE, result: 'ok' }), 4);
    assert.equal(sample(metrics, 'qkv_replica_requests_total', { op: 'read', peer: NODE, result: 'ok' }), 5);
    assert.equal(sample(metrics, 'qkv_coordinator_acks_count', { op: 'put' }), 3);
    assert.equal(sample(metrics, 'qkv_coordinator_acks_sum', { op: 'put' }), 3);
    assert.equal(sample(metrics, 'qkv_coordinator_acks_count', { op: 'get' }), 5);
    assert.equal(sample(metrics, 'qkv_coordinator_request_duration_seconds_count', { op: 'put', quorum: '1', outcome: 'ok' }), 3);
    assert.equal(sample(metrics, 'qkv_coordinator_request_duration_seconds_count', { op: 'delete', quorum: '1', outcome: 'ok' }), 1);
    assert.equal(sample(metrics, 'qkv_coordinator_request_duration_seconds_count', { op: 'get', quorum: '1', outcome: 'ok' }), 5);
    assert.equal(sample(metrics, 'qkv_api_requests_total', { method: 'Put', code: 'OK' }), 3);
    assert.equal(sample(metrics, 'qkv_api_requests_total', { method: 'Get', code: 'OK' }), 5);
  } finally {
    client.close();
  }
});

/** WRITERS loops of puts of distinct keys, each until its first failure. */
function startWriters(client: QuorumKvClient, prefix: string): { acked: Map<string, string>; failures: string[]; done: Promise<unknown> } {
  const acked = new Map<string, string>();
  const failures: string[] = [];
  const writer = async (w: number): Promise<void> => {
    for (let seq = 0; ; seq++) {
      const key = `${prefix}-${w}-${seq}`;
      try {
        await client.put(Buffer.from(key), Buffer.from(`value of ${key}`));
        acked.set(key, `value of ${key}`);
      } catch (error) {
        failures.push(`${key}: ${(error as { code?: unknown }).code ?? String(error)}`);
        return;
      }
    }
  };
  return { acked, failures, done: Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w))) };
}

/** The acknowledged keys that do not read back with their value. */
async function missing(acked: ReadonlyMap<string, string>): Promise<string[]> {
  const reader = cluster.client([NODE], 10_000);
  try {
    const lost: string[] = [];
    for (const [key, value] of acked) {
      const got = await reader.get(Buffer.from(key));
      if (!got.found || got.value.toString() !== value) lost.push(key);
    }
    return lost;
  } finally {
    reader.close();
  }
}

test('SIGTERM under writers: every put is answered, the node exits 0, and every acknowledged put survives the restart', async () => {
  const client = cluster.client([NODE], 10_000);
  const writers = startWriters(client, 'one-node-drain');
  try {
    await sleep(LOAD_MS);
    assert.equal(writers.failures.length, 0, `no put failed before the SIGTERM: ${writers.failures.join('; ')}`);
    const ackedBeforeStop = writers.acked.size;
    assert.ok(ackedBeforeStop > 0, 'the writers were writing');
    assert.equal(await cluster.terminate(NODE), 0, 'a clean drain');
    const answered = await Promise.race([writers.done.then(() => true), sleep(ANSWERED_WITHIN_MS).then(() => false)]);
    assert.ok(answered, `every writer's last put was answered within ${ANSWERED_WITHIN_MS} ms of the SIGTERM`);
    console.log(`# SIGTERM: ${writers.acked.size} puts acknowledged (${ackedBeforeStop} before it); the writers' last puts: ${writers.failures.map((failure) => failure.split(': ')[1]).join(' ')}`);
  } finally {
    client.close();
  }
  await cluster.restart(NODE);
  const lost = await missing(writers.acked);
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${writers.acked.size} acknowledged puts are missing after the restart`);
});
