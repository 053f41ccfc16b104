// Replica batching benchmark (`npm run bench:replica`): what coalescing the messages of
// one event-loop turn into one Replica call buys (docs/decisions/0031). A GrpcTransport
// sends single-record applies to one real gRPC replica on 127.0.0.1 (memory engine, so
// the figure is transport cost, not fsync) with CONCURRENCY callers in flight, once with
// per-turn coalescing (the default) and once with every message in its own call
// (batch bound of 1 item). It prints applies per second for both and their ratio; the
// target is a ratio of at least 2. Timing is never asserted in tests.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport } from '../src/transport/grpc/grpc-transport.js';
import { addReplicaService } from '../src/transport/grpc/replica-service.js';
import { MemoryStorageEngine } from '../src/storage/memory/memory-storage-engine.js';
import { createTokenHasher } from '../src/ring/token-hasher.js';
import { silentLogger } from '../src/logging/logger.js';
import { SERVER_OPTIONS } from '../src/api/grpc-options.js';
import type { KvRecord } from '../src/storage/record.js';

const CONCURRENCY = 256;
const DURATION_MS = 3_000;
const VALUE = Buffer.alloc(100, 7);
const RATIO_TARGET = 2;

async function startReplica(): Promise<{ server: grpc.Server; address: string; engine: MemoryStorageEngine }> {
  const engine = new MemoryStorageEngine(await createTokenHasher());
  const server = new grpc.Server(SERVER_OPTIONS);
  addReplicaService(server, {
    handler: { apply: async (records) => void (await engine.apply(records)), read: async (keys) => keys.map((key) => engine.get(key)) },
    logger: silentLogger,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}`, engine };
}

async function measure(label: string, batchItemsMax: number | undefined): Promise<{ perSecond: number; calls: number }> {
  const { server, address, engine } = await startReplica();
  let calls = 0;
  let messages = 0;
  const transport = new GrpcTransport({
    members: [{ id: 'replica', address, ready: true }],
    ...(batchItemsMax === undefined ? {} : { batchItemsMax }),
    metrics: { observeCall: (_op, _peer, _result, _seconds, carried) => ((calls += 1), (messages += carried)) },
  });
  let sequence = 0;
  const record = (): KvRecord => {
    sequence += 1;
    return { key: Buffer.from(`key-${sequence % 10_000}`), value: VALUE, version: { stamp: BigInt(sequence), nodeId: 'bench' }, expiresAtMs: 0 };
  };
  // Warm the channel before timing.
  await transport.apply('replica', [record()], { deadlineMs: Date.now() + 5_000 });
  calls = 0;
  messages = 0;
  let applies = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - started < DURATION_MS) {
      await transport.apply('replica', [record()], { deadlineMs: Date.now() + 5_000 });
      applies += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  await transport.close();
  server.forceShutdown();
  await engine.close();
  const perSecond = applies / seconds;
  console.log(
    `${label.padEnd(22)} ${Math.round(perSecond).toLocaleString('en-US').padStart(9)} applies/s  ` +
      `${calls.toLocaleString('en-US')} calls, ${(messages / Math.max(calls, 1)).toFixed(1)} messages per call`,
  );
  return { perSecond, calls };
}

console.log(`replica batching: ${CONCURRENCY} concurrent single-record applies for ${DURATION_MS} ms each, one peer over gRPC`);
const unbatched = await measure('one call per message', 1);
const batched = await measure('coalesced per turn', undefined);
const ratio = batched.perSecond / unbatched.perSecond;
console.log(`ratio coalesced / one-per-message: ${ratio.toFixed(2)}x (target >= ${RATIO_TARGET}x: ${ratio >= RATIO_TARGET ? 'target met' : 'TARGET MISSED'})`);
