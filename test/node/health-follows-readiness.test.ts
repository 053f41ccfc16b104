// grpc.health.v1 on the client port of real `qkv server` processes: the KV service is
// SERVING exactly when /readyz says ready (the start-up gate of docs/decisions/0163
// included), the whole server ('') whenever the node serves at all (the startup and
// liveness probes), and nothing is SERVING while the node drains. The internal Replica
// service is neither reported by health nor listed by reflection on the client port.
//
// Each node is sampled over and over while the cluster starts: /readyz, then health,
// then /readyz again. When both /readyz answers agree, health's Check, answered from the
// node's state when it arrives, must agree with them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';

/** How long every node must have said ready before the sampling stops. */
const READY_FOR_MS = 1_500;
const START_TIMEOUT_MS = 120_000;

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN' | 'UNKNOWN';

interface HealthClient extends grpc.Client {
  Check(request: { service: string }, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: { status: Status }) => void): void;
  Watch(request: { service: string }): grpc.ClientReadableStream<{ status: Status }>;
}

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> } | null;
  file_descriptor_response?: { file_descriptor_proto: Buffer[] } | null;
  error_response?: { error_code: number; error_message: string } | null;
}

const require = createRequire(import.meta.url);
const loaded = grpc.loadPackageDefinition(
  protoLoader.loadSync(
    [
      (require('grpc-health-check') as { protoPath: string }).protoPath,
      join(dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto'),
    ],
    { keepCase: true, defaults: true, enums: String },
  ),
) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } }; reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
};

let cluster: ProcessCluster;

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, running: 0, dataRoot: await tempDir(undefined, 'qkv-health-'), extraArgs: ['--reflection'] });
});

after(async () => {
  await cluster?.stopAll();
});

function healthClient(id: string): HealthClient {
  return new loaded.grpc.health.v1.Health(cluster.address(id), cluster.credentials()!, TLS_CHANNEL_OPTIONS) as unknown as HealthClient;
}

/** The status of `service`, or the gRPC status name of a failed Check (UNAVAILABLE before the port opens). */
function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve) =>
    client.Check({ service }, { deadline: Date.now() + 2_000 }, (error, reply) => resolve(error ? grpc.status[error.code] : reply!.status)),
  );
}

async function readyz(port: number): Promise<{ status: number; reason: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, reason: (await response.text()).trim() };
  } catch {
    return { status: 0, reason: 'no answer' };
  }
}

test('KV health says NOT_SERVING while /readyz says not ready, SERVING once it says ready; the whole server is SERVING meanwhile', async (t) => {
  const clients = new Map(cluster.nodes.map((node) => [node.id, healthClient(node.id)]));
  /** Since when each node's /readyz has said 200 without a break. */
  const readySince = new Map<string, number>();
  const disagreements: string[] = [];
  /** Reasons /readyz gave while the process served ('' SERVING) and KV said NOT_SERVING. */
  const gatedReasons = new Set<string>();
  try {
    const started = Date.now();
    // The first node alone for a while (it announces NORMAL to peers that are not
    // there), then the other two: they join and wait to see every member NORMAL.
    cluster.launch('qkv-1');
    let launchedAll = false;
    for (;;) {
      if (!launchedAll && Date.now() - started > 3_000) {
        cluster.launch('qkv-2');
        cluster.launch('qkv-3');
        launchedAll = true;
      }
      const running = cluster.nodes.filter((node) => node.child !== undefined);
      const samples = await Promise.all(
        running.map(async (node) => {
          const client = clients.get(node.id)!;
          const first = await readyz(node.httpPort);
          if (first.status === 200) readySince.set(node.id, readySince.get(node.id) ?? Date.now());
          else readySince.delete(node.id);
          const [kv, whole] = await Promise.all([check(client, 'quorumkv.v1.KV'), check(client, '')]);
          const second = await readyz(node.httpPort);
          return { id: node.id, first, second, kv, whole };
        }),
      );
      for (const { id, first, second, kv, whole } of samples) {
        if (first.status === 503 && second.status === 503 && kv === 'SERVING') disagreements.push(`${id}: KV SERVING while /readyz says ${first.reason}`);
        if (first.status === 200 && second.status === 200 && kv !== 'SERVING') disagreements.push(`${id}: KV ${kv} while /readyz says ready`);
        if (first.status === 503 && second.status === 503 && whole === 'SERVING' && kv === 'NOT_SERVING') gatedReasons.add(first.reason.replace(/\(.*\)/, '(...)').replace(/\d+/g, 'N'));
      }
      const allReadyLongEnough = launchedAll && cluster.nodes.every((node) => (readySince.get(node.id) ?? Infinity) < Date.now() - READY_FOR_MS);
      if (allReadyLongEnough) break;
      const exited = cluster.nodes.find((node) => node.child !== undefined && node.child.exitCode !== null);
      if (exited !== undefined) assert.fail(`${exited.id} exited:\n${exited.output}`);
      if (Date.now() - started > START_TIMEOUT_MS) assert.fail(`not all ready after ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t.diagnostic(`/readyz reasons while the process served and KV health said NOT_SERVING: ${[...gatedReasons].join(' | ')}`);
    assert.deepEqual(disagreements, []);
    // The window the old health missed: serving, NORMAL, and still not ready.
    assert.ok([...gatedReasons].some((reason) => /announcing NORMAL|waiting to see every member NORMAL/.test(reason)), [...gatedReasons].join(' | '));
    for (const [id, client] of clients) {
      assert.equal(await check(client, 'quorumkv.v1.KV'), 'SERVING', id);
      assert.equal(await check(client, ''), 'SERVING', id);
      assert.equal(await check(client, 'quorumkv.v1.Admin'), 'SERVING', id);
    }
  } finally {
    for (const client of clients.values()) client.close();
  }
});

test('the client port\'s health and reflection know nothing of the internal Replica service', async () => {
  const health = healthClient('qkv-1');
  const reflection = new loaded.grpc.reflection.v1.ServerReflection(cluster.address('qkv-1'), cluster.credentials()!, TLS_CHANNEL_OPTIONS);
  try {
    assert.equal(await check(health, 'quorumkv.v1.Replica'), 'NOT_FOUND');
    const stream = (reflection as unknown as { ServerReflectionInfo: () => grpc.ClientDuplexStream<object, ReflectionResponse> }).ServerReflectionInfo();
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: ReflectionResponse) => {
        responses.push(response);
        if (responses.length === 4) stream.end();
      });
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    stream.write({ list_services: '' });
    stream.write({ file_containing_symbol: 'quorumkv.v1.KV' });
    stream.write({ file_containing_symbol: 'quorumkv.v1.Replica' });
    stream.write({ file_containing_symbol: 'quorumkv.v1.ExchangeRequest' });
    await done;
    const names = responses[0]?.list_services_response?.service.map((service) => service.name) ?? [];
    for (const name of ['quorumkv.v1.KV', 'quorumkv.v1.Admin']) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    assert.ok(!names.includes('quorumkv.v1.Replica'), `Replica listed: ${names.join(', ')}`);
    // Reflection serves whole files: the one with KV in it must not carry Replica either.
    const kvFiles = (responses[1]?.file_descriptor_response?.file_descriptor_proto ?? []).map((file) => file.toString('latin1')).join('');
    assert.match(kvFiles, /Multiplex/);
    // Message types of replica.proto only (kv.proto has a ReplicaAnswer of its own).
    assert.doesNotMatch(kvFiles, /ExchangeRequest|MerkleTreeRequest|ApplyRequest|ProbeRequest/);
    for (const response of responses.slice(2)) assert.equal(grpc.status[response.error_response?.error_code ?? 0], 'NOT_FOUND', JSON.stringify(response));
  } finally {
    health.close();
    reflection.close();
  }
});

test('a draining node\'s KV health turns NOT_SERVING before its port closes, and a Watch does not hold up its exit', async (t) => {
  const health = healthClient('qkv-3');
  try {
    const seen: string[] = [];
    const watch = health.Watch({ service: 'quorumkv.v1.KV' });
    const ended = new Promise<void>((resolve) => {
      watch.on('data', (reply: { status: Status }) => seen.push(reply.status));
      watch.on('error', () => resolve());
      watch.on('end', () => resolve());
    });
    await waitFor(() => seen.includes('SERVING'), 10_000, 'the Watch to say SERVING');
    const sentMs = Date.now();
    const exited = cluster.terminate('qkv-3');
    await waitFor(() => seen.at(-1) === 'NOT_SERVING', 10_000, `the Watch to say NOT_SERVING (saw ${seen.join(', ')})`);
    await exited;
    const exitMs = Date.now() - sentMs;
    await ended;
    t.diagnostic(`SIGTERM to exit with a Watch open: ${exitMs} ms; the Watch saw ${seen.join(' -> ')}`);
    // Well under the drain timeout (10 s): the open Watch was ended, not waited for.
    assert.ok(exitMs < 8_000, `exit took ${exitMs} ms`);
  } finally {
    health.close();
  }
});

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
