// A real 3-node cluster: three `qkv server` processes on 127.0.0.1 talking gRPC over
// mutual TLS (certificates from ensureLocalCertificates; clients use the admin user's),
// with the durable storage engine (fsync=always) in temporary data directories. Proves the
// round trips, quorum behaviour with a node killed by SIGKILL, recovery of that node's
// data on restart, read repair over the wire, the quorum metrics, bad input answered
// with the right status and code, and a clean SIGTERM drain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { ProcessCluster, sampleValue } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { PROTO_ROOT } from '../../src/protocol/proto-package.js';
import { TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';
import type { QkvError } from '../../src/errors/errors.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';

let cluster: ProcessCluster;
let client: QuorumKvClient;

after(async () => {
  client?.close();
  await cluster?.stopAll();
});
const dataRoot = await tempDir(undefined, 'qkv-cluster-');

before(async () => {
  // Reflection is off unless asked for; the last test checks it as grpcurl uses it.
  cluster = await ProcessCluster.start({ size: 3, dataRoot, extraArgs: ['--reflection'] });
  // Unary calls: these tests check the gRPC status each error travels in (statusOf). The
  // KV.Multiplex stream carries the same codes per request (test/kv/kv-stream.test.ts).
  client = cluster.client(['qkv-1'], 5_000, undefined, 'unary');
});

const key = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The grpc status a QkvError came from (the client keeps the ServiceError as cause). */
function statusOf(error: QkvError): grpc.status | undefined {
  return (error.cause as grpc.ServiceError | undefined)?.code;
}

test('put, get and delete round-trip through any node, with every replica answering', async () => {
  const put = await client.put(key('alpha'), key('one'), { w: 3 });
  assert.equal(put.acks, 3);
  assert.equal(put.version?.nodeId, 'qkv-1');

  // Read through another node: any node coordinates any key.
  const other = cluster.client(['qkv-2']);
  try {
    const got = await other.get(key('alpha'), { r: 3, includeReplicas: true });
    assert.equal(got.found, true);
    assert.equal(got.value.toString(), 'one');
    assert.equal(got.acks, 3);
    assert.deepEqual(got.version, put.version);
    assert.deepEqual(got.replicas.map((replica) => replica.nodeId).sort(), ['qkv-1', 'qkv-2', 'qkv-3']);
    for (const replica of got.replicas) {
      assert.equal(replica.answered, true, replica.nodeId);
      assert.equal(replica.found, true, replica.nodeId);
      assert.deepEqual(replica.version, put.version, replica.nodeId);
    }

    const overwrite = await other.put(key('alpha'), key('two'));
    assert.ok(BigInt(overwrite.version!.stamp) > BigInt(put.version!.stamp), 'a later write gets a later stamp');
    assert.equal((await client.get(key('alpha'))).value.toString(), 'two');

    const deleted = await client.delete(key('alpha'), { w: 2 });
    assert.ok(deleted.acks >= 2);
    const gone = await other.get(key('alpha'), { r: 3 });
    assert.equal(gone.found, false);
    assert.equal(gone.value.length, 0);
  } finally {
    other.close();
  }
});

test('BatchPut and BatchGet answer per item, in order', async () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ key: key(`batch-${i}`), value: key(`value-${i}`) }));
  const put = await client.batchPut(items, { w: 2 });
  assert.equal(put.results.length, 50);
  assert.ok(put.results.every((result) => result.ok && result.acks >= 2));
  const got = await client.batchGet([...items.map((item) => item.key), key('batch-missing')], { r: 2 });
  assert.equal(got.results.length, 51);
  got.results.slice(0, 50).forEach((result, i) => {
    assert.equal(result.ok, true);
    assert.equal(result.key.toString(), `batch-${i}`);
    assert.equal(result.value.toString(), `value-${i}`);
  });
  assert.equal(got.results[50]?.found, false);
});

test('bad input gets INVALID_ARGUMENT with its stable code, and the node keeps serving', async () => {
  await client.put(key('survivor'), key('still here'), { w: 3 });
  const cases: Array<[string, () => Promise<unknown>, grpc.status, string]> = [
    ['empty key', () => client.put(Buffer.alloc(0), key('v')), grpc.status.INVALID_ARGUMENT, 'KEY_EMPTY'],
    ['1025-byte key', () => client.put(Buffer.alloc(1025, 97), key('v')), grpc.status.INVALID_ARGUMENT, 'KEY_TOO_LARGE'],
    ['1 MiB + 1 value', () => client.put(key('big'), Buffer.alloc(1024 * 1024 + 1)), grpc.status.INVALID_ARGUMENT, 'VALUE_TOO_LARGE'],
    ['w=4 with N=3', () => client.put(key('k'), key('v'), { w: 4 }), grpc.status.INVALID_ARGUMENT, 'QUORUM_INVALID'],
    ['r=9 with N=3', () => client.get(key('k'), { r: 9 }), grpc.status.INVALID_ARGUMENT, 'QUORUM_INVALID'],
    ['1001-item batch', () => client.batchGet(Array.from({ length: 1001 }, (_, i) => key(`k${i}`))), grpc.status.INVALID_ARGUMENT, 'BATCH_TOO_LARGE'],
    ['ttl beyond a safe integer', () => client.put(key('k'), key('v'), { ttlMs: 2 ** 60 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
  ];
  for (const [name, call, status, code] of cases) {
    await assert.rejects(call(), (error: QkvError) => {
      assert.equal(error.code, code, name);
      assert.equal(statusOf(error), status, name);
      return true;
    });
  }
  // Exactly 1 MiB is allowed.
  assert.equal((await client.put(key('exactly-1MiB'), Buffer.alloc(1024 * 1024, 1))).acks >= 2, true);
  const status = await client.status();
  assert.equal(status.state, 'SERVING');
  assert.equal((await client.get(key('survivor'), { r: 3 })).value.toString(), 'still here');
});

test('with one node killed (SIGKILL), W=2 and R=2 still succeed; W=3 fails with UNAVAILABLE and the acks it got', async () => {
  for (let i = 0; i < 20; i++) await client.put(key(`before-kill-${i}`), key(`v${i}`), { w: 3 });
  await cluster.kill9('qkv-3');
  try {
    for (let i = 0; i < 20; i++) {
      const put = await client.put(key(`during-kill-${i}`), key(`d${i}`), { w: 2 });
      assert.equal(put.acks, 2);
      const got = await client.get(key(`before-kill-${i}`), { r: 2 });
      assert.equal(got.value.toString(), `v${i}`);
    }
    await assert.rejects(client.put(key('needs-all-three'), key('v'), { w: 3 }), (error: QkvError) => {
      assert.equal(error.code, 'QUORUM_NOT_MET');
      assert.equal(statusOf(error), grpc.status.UNAVAILABLE);
      // It fails as soon as W=3 is out of reach, naming the acks it had by then.
      assert.match(error.message, /[0-2] of 3 required acks from 3 replicas/);
      return true;
    });
  } finally {
    await cluster.restart('qkv-3');
  }

  // The restarted node has everything it acknowledged before the kill: with R=3 every
  // replica's own answer is listed, and qkv-3's must carry the written version.
  for (let i = 0; i < 20; i++) {
    const got = await client.get(key(`before-kill-${i}`), { r: 3, includeReplicas: true });
    const third = got.replicas.find((replica) => replica.nodeId === 'qkv-3');
    assert.equal(third?.answered, true, `before-kill-${i}`);
    assert.equal(third?.found, true, `before-kill-${i}`);
    assert.deepEqual(third?.version, got.version);
  }

  // Writes it missed are repaired by reads: the first R=3 read sees it stale (or
  // missing) and repairs it; the next read finds it current.
  const first = await client.get(key('during-kill-0'), { r: 3, includeReplicas: true });
  assert.equal(first.found, true);
  const stale = first.replicas.find((replica) => replica.nodeId === 'qkv-3');
  assert.equal(stale?.found, false, 'qkv-3 was down for this write');
  const second = await client.get(key('during-kill-0'), { r: 3, includeReplicas: true });
  const repaired = second.replicas.find((replica) => replica.nodeId === 'qkv-3');
  assert.equal(repaired?.found, true);
  assert.deepEqual(repaired?.version, first.version);
});

test('/metrics shows the quorum latency, acks, replica, failure and repair series after traffic', async () => {
  const text = await cluster.metrics('qkv-1');
  const count = (labels: Record<string, string>): number =>
    sampleValue(text, 'qkv_coordinator_request_duration_seconds_count', labels) ?? 0;
  assert.ok(count({ op: 'put', quorum: '3', outcome: 'ok' }) >= 20);
  assert.ok(count({ op: 'put', quorum: '2', outcome: 'ok' }) >= 20);
  assert.ok(count({ op: 'get', quorum: '3', outcome: 'ok' }) >= 20);
  assert.ok(count({ op: 'put', quorum: '3', outcome: 'QUORUM_NOT_MET' }) >= 1);
  assert.ok((sampleValue(text, 'qkv_coordinator_request_duration_seconds_sum', { op: 'put', quorum: '2', outcome: 'ok' }) ?? 0) > 0);
  // Writes with W=3 returned with 3 acks in hand: all land in the le="3" bucket, none in le="2".
  const acksLe2 = sampleValue(text, 'qkv_coordinator_acks_bucket', { op: 'put', le: '2' }) ?? -1;
  const acksLe3 = sampleValue(text, 'qkv_coordinator_acks_bucket', { op: 'put', le: '3' }) ?? -1;
  assert.ok(acksLe3 > acksLe2 && acksLe2 >= 20, `acks buckets le2=${acksLe2} le3=${acksLe3}`);
  assert.ok((sampleValue(text, 'qkv_replica_requests_total', { op: 'apply', peer: 'qkv-2', result: 'ok' }) ?? 0) > 0);
  assert.ok((sampleValue(text, 'qkv_replica_requests_total', { op: 'apply', peer: 'qkv-3', result: 'PEER_UNREACHABLE' }) ?? 0) > 0);
  assert.ok((sampleValue(text, 'qkv_quorum_failures_total', { op: 'put' }) ?? 0) >= 1);
  assert.ok((sampleValue(text, 'qkv_read_repairs_total', {}) ?? 0) >= 1);
  assert.ok((sampleValue(text, 'qkv_replica_call_messages_count', { op: 'apply' }) ?? 0) > 0);
  assert.match(text, /^process_cpu_seconds_total\{node="qkv-1"\} /m, 'Node default metrics');
  assert.match(text, /^qkv_wal_/m, 'storage metrics');

  const livez = await fetch(`http://127.0.0.1:${cluster.node('qkv-1').httpPort}/livez`);
  assert.equal(livez.status, 200);
});

test('Admin status and ring agree across nodes', async () => {
  const statuses = await Promise.all(
    ['qkv-1', 'qkv-2', 'qkv-3'].map(async (id) => {
      const one = cluster.client([id]);
      try {
        return await one.status();
      } finally {
        one.close();
      }
    }),
  );
  assert.deepEqual(statuses.map((status) => status.nodeId), ['qkv-1', 'qkv-2', 'qkv-3']);
  assert.equal(new Set(statuses.map((status) => status.ringDigest)).size, 1);
  const ring = await client.ring(key('alpha'));
  assert.equal(ring.preferenceList.length, 3);
  assert.equal(ring.owners.reduce((sum, owner) => sum + owner.tokens, 0), 3 * 256);
  const share = ring.owners.reduce((sum, owner) => sum + owner.primaryShare, 0);
  assert.ok(Math.abs(share - 1) < 1e-4, `shares sum to ${share}`);
});

test('SIGTERM drains a node and it exits 0; restarted, it serves its data again', async () => {
  await client.put(key('drained'), key('kept'), { w: 3 });
  const drainStarted = Date.now();
  assert.equal(await cluster.terminate('qkv-2'), 0);
  // Peers' Replica.Exchange streams into the node end when it drains; left open, they
  // would hold grpc's graceful shutdown for seconds (until the 10 s drain timeout).
  const drainMs = Date.now() - drainStarted;
  assert.ok(drainMs < 4_000, `the drain took ${drainMs} ms`);
  assert.doesNotMatch(cluster.node('qkv-2').output, /"level":(50|60)/, 'no error logged during the drain');
  await cluster.restart('qkv-2');
  const direct = cluster.client(['qkv-2']);
  try {
    const got = await direct.get(key('drained'), { r: 3, includeReplicas: true });
    assert.equal(got.replicas.find((replica) => replica.nodeId === 'qkv-2')?.found, true);
  } finally {
    direct.close();
  }
});

// Debian's python3-grpcio, python3-protobuf and protobuf-compiler(-grpc) (installed by
// .ci/run). The system interpreter on purpose: a `python3` earlier on PATH (pyenv, a
// venv) usually lacks grpc.
const PYTHON = '/usr/bin/python3';
const PYTHON_CLIENT = fileURLToPath(new URL('../../../test/node/python/kv_client.py', import.meta.url));

function run(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      error === null ? resolve({ stdout, stderr }) : reject(new Error(`${file} failed: ${error.message}\n${stderr}`)),
    ),
  );
}

test('a client that is not ours: Python grpcio with stubs generated from the .proto files', async () => {
  const stubs = await tempDir(undefined, 'qkv-python-stubs-');
  // protoc and grpc_python_plugin from Debian generate the message and service stubs
  // straight from proto/; no code of ours is involved on the client side.
  await run('protoc', [
    `-I${PROTO_ROOT}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    '--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin',
    'quorumkv/v1/common.proto', 'quorumkv/v1/kv.proto', 'quorumkv/v1/admin.proto',
  ]);
  await client.put(key('written-by-node'), key('hello python'), { w: 3 });
  // Over TLS with the admin user's client certificate, as any client of a secure cluster.
  const { stdout } = await run(PYTHON, [PYTHON_CLIENT, stubs, cluster.address('qkv-2'), 'written-by-node', cluster.certsDir!]);
  const seen = JSON.parse(stdout) as {
    put: { acks: number; stamp: string; node_id: string };
    get: { found: boolean; value: string; acks: number; stamp: string; replicas: Array<{ node_id: string; answered: boolean }> };
    node_written: { found: boolean; value: string };
    status: { node_id: string; members: string[] };
    empty_key: { status: string; qkv_error_code: string[] };
  };
  assert.ok(seen.put.acks >= 2);
  assert.equal(seen.put.node_id, 'qkv-2');
  assert.deepEqual([seen.get.found, seen.get.value], [true, 'from python']);
  assert.equal(seen.get.stamp, seen.put.stamp, 'the 64-bit stamp survives both languages');
  assert.equal(seen.get.replicas.length, 3);
  assert.deepEqual(seen.node_written, { found: true, value: 'hello python' });
  assert.deepEqual(seen.status, { node_id: 'qkv-2', members: ['qkv-1', 'qkv-2', 'qkv-3'] });
  assert.deepEqual(seen.empty_key, { ...seen.empty_key, status: 'INVALID_ARGUMENT', qkv_error_code: ['KEY_EMPTY'] });

  // And what Python wrote, our client reads with every replica agreeing.
  const back = await client.get(key('py-key'), { r: 3 });
  assert.equal(back.value.toString(), 'from python');
  assert.equal(back.version?.stamp, seen.put.stamp);
});

test('grpc.health.v1 says SERVING and server reflection lists the services (what grpcurl uses)', async () => {
  const require = createRequire(import.meta.url);
  const healthProto = (require('grpc-health-check') as { protoPath: string }).protoPath;
  const reflectionProto = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1alpha', 'reflection.proto');
  const definition = protoLoader.loadSync([healthProto, reflectionProto], { keepCase: true, defaults: true, enums: String });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: {
      health: { v1: { Health: grpc.ServiceClientConstructor } };
      reflection: { v1alpha: { ServerReflection: grpc.ServiceClientConstructor } };
    };
  };
  const address = cluster.address('qkv-3');
  // The client port is TLS only; health needs no identity, reflection the read role.
  const credentials = cluster.credentials()!;
  const health = new loaded.grpc.health.v1.Health(address, credentials, TLS_CHANNEL_OPTIONS);
  const reflection = new loaded.grpc.reflection.v1alpha.ServerReflection(address, credentials, TLS_CHANNEL_OPTIONS);
  try {
    for (const service of ['', 'quorumkv.v1.KV']) {
      const answer = await new Promise<{ status: string }>((resolve, reject) =>
        (health as unknown as { Check: (r: object, cb: (e: Error | null, v: { status: string }) => void) => void }).Check(
          { service },
          (error, value) => (error ? reject(error) : resolve(value)),
        ),
      );
      assert.equal(answer.status, 'SERVING', `health of "${service}"`);
    }
    const stream = (reflection as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, ReflectionResponse> }).ServerReflectionInfo();
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: ReflectionResponse) => {
        responses.push(response);
        if (responses.length === 2) stream.end();
      });
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    stream.write({ list_services: '' });
    stream.write({ file_containing_symbol: 'quorumkv.v1.KV' });
    await done;
    const names = responses[0]?.list_services_response?.service.map((service) => service.name) ?? [];
    for (const name of ['quorumkv.v1.KV', 'quorumkv.v1.Admin']) assert.ok(names.includes(name), `${name} in ${names}`);
    // The peer port's internal protocol is not advertised to clients (test/node/health-follows-readiness.test.ts).
    assert.ok(!names.includes('quorumkv.v1.Replica'), `quorumkv.v1.Replica in ${names}`);
    const files = responses[1]?.file_descriptor_response?.file_descriptor_proto ?? [];
    const descriptors = files.map((file) => file.toString('latin1')).join('');
    assert.match(descriptors, /quorumkv\.v1/, 'the KV descriptor is served');
    assert.match(descriptors, /ttl_ms/, 'with the field names of the .proto file');
    assert.match(descriptors, /include_replicas/);
  } finally {
    health.close();
    reflection.close();
  }
});

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> } | null;
  file_descriptor_response?: { file_descriptor_proto: Buffer[] } | null;
}
