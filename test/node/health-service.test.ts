// The client port's grpc.health.v1 service (src/node/health-service.ts) on a real gRPC
// server: Check of known and unknown names, Watches hearing changes only, the bound on
// open Watches, and close() ending every Watch so that a graceful shutdown can finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthService } from '../../src/node/health-service.js';
import { HEALTH_WATCHES_MAX } from '../../src/limits.js';
import { ERROR_CODE_METADATA_KEY } from '../../src/protocol/error-status.js';

interface HealthClient extends grpc.Client {
  Check(request: { service: string }, callback: (error: grpc.ServiceError | null, reply?: { status: string }) => void): void;
  Watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

const require = createRequire(import.meta.url);
const loaded = grpc.loadPackageDefinition(protoLoader.loadSync((require('grpc-health-check') as { protoPath: string }).protoPath, { keepCase: true, defaults: true, enums: String })) as unknown as {
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};

/** `health` on a real gRPC server on a free loopback port, a client of it, and Check as a status name. */
async function serve(health: HealthService): Promise<{ server: grpc.Server; client: HealthClient; check: (service: string) => Promise<string> }> {
  const server = new grpc.Server();
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const client = new loaded.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
  const check = (service: string): Promise<string> => new Promise((resolve) => client.Check({ service }, (error, reply) => resolve(error ? grpc.status[error.code] : reply!.status)));
  return { server, client, check };
}

test('Check, Watch, the bound on Watches, and close() ending them', async () => {
  const health = new HealthService(['', 'quorumkv.v1.KV']);
  const { server, client, check } = await serve(health);
  try {
    assert.equal(await check('quorumkv.v1.KV'), 'NOT_SERVING');
    assert.equal(await check('quorumkv.v1.Replica'), 'NOT_FOUND');
    const watches = Array.from({ length: HEALTH_WATCHES_MAX }, () => {
      const seen: string[] = [];
      const call = client.Watch({ service: 'quorumkv.v1.KV' });
      const ended = new Promise<string>((resolve) => {
        call.on('data', (reply: { status: string }) => seen.push(reply.status));
        call.on('error', (error: grpc.ServiceError) => resolve(grpc.status[error.code]));
        call.on('end', () => resolve('ended'));
      });
      return { seen, ended };
    });
    await waitFor(() => watches.every((watch) => watch.seen.length === 1));
    // One Watch past the bound is refused with the stable code.
    const refused = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.Watch({ service: '' });
      call.on('data', () => {});
      call.on('error', resolve);
    });
    assert.equal(grpc.status[refused.code], 'RESOURCE_EXHAUSTED');
    assert.deepEqual(refused.metadata.get(ERROR_CODE_METADATA_KEY), ['OVERLOADED']);
    // A change is heard once; setting the same status again sends nothing.
    health.setStatus('quorumkv.v1.KV', 'SERVING');
    health.setStatus('quorumkv.v1.KV', 'SERVING');
    health.setStatus('', 'SERVING');
    await waitFor(() => watches.every((watch) => watch.seen.length === 2));
    assert.deepEqual(watches[0]!.seen, ['NOT_SERVING', 'SERVING']);
    assert.equal(await check('quorumkv.v1.KV'), 'SERVING');
    assert.throws(() => health.setStatus('quorumkv.v1.Replica', 'SERVING'), /no service "quorumkv.v1.Replica"/);
    // close(): every Watch ends, and the graceful shutdown finishes at once.
    health.setStatus('quorumkv.v1.KV', 'NOT_SERVING');
    health.close();
    assert.deepEqual(new Set(await Promise.all(watches.map((watch) => watch.ended))), new Set(['ended']));
    assert.deepEqual(watches[0]!.seen, ['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    const startedMs = Date.now();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    assert.ok(Date.now() - startedMs < 2_000);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('beforeCheck runs before each Check is answered, so the answer follows state set in it', async () => {
  let nodeReady = false;
  let checksSeen = 0;
  const health = new HealthService(['', 'quorumkv.v1.KV'], {
    beforeCheck: () => {
      checksSeen++;
      health.setStatus('quorumkv.v1.KV', nodeReady ? 'SERVING' : 'NOT_SERVING');
    },
  });
  const { server, client, check } = await serve(health);
  try {
    assert.equal(await check('quorumkv.v1.KV'), 'NOT_SERVING');
    // No setStatus from outside: only the hook can make the next Check say SERVING.
    nodeReady = true;
    assert.equal(await check('quorumkv.v1.KV'), 'SERVING');
    assert.equal(checksSeen, 2);
  } finally {
    client.close();
    server.forceShutdown();
  }
});
