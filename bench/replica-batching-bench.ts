// Replica batching benchmark (`npm run bench:replica`): what coalescing the messages of
// one event-loop turn (docs/decisions/0031) and sending batches on an Exchange stream
// (docs/decisions/0062) buy. A GrpcTransport sends single-record applies to one real
// gRPC replica on 127.0.0.1 (memory engine, so the figure is transport cost, not fsync)
// with CONCURRENCY callers in flight, in three modes: every message its own unary Apply
// call (sent straight from a generated client: nodes no longer send unary calls), every
// message its own request on the stream (batch bound of 1), and coalesced per turn on the
// stream (the default). It prints applies per second and the process's CPU time per apply
// (client and replica share the process); the target is coalesced / one unary call per
// message >= 2 in applies per second. Timing is never asserted in tests.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport } from '../src/transport/grpc/grpc-transport.js';
import { replicaServiceHandlers } from '../src/transport/grpc/replica-service.js';
import { loadQuorumKvProtocol } from '../src/protocol/proto-package.js';
import { MemoryStorageEngine } from '../src/storage/memory/memory-storage-engine.js';
import { createTokenHasher } from '../src/ring/token-hasher.js';
import { silentLogger } from '../src/logging/logger.js';
import { CLIENT_CHANNEL_OPTIONS, SERVER_OPTIONS } from '../src/protocol/grpc-options.js';
import { encodeBatch } from '../src/storage/record-codec.js';
import type { KvRecord } from '../src/storage/record.js';

const CONCURRENCY = 256;
const DURATION_MS = 3_000;
const VALUE = Buffer.alloc(100, 7);
const RATIO_TARGET = 2;

async function startReplica(): Promise<{ server: grpc.Server; address: string; engine: MemoryStorageEngine }> {
  const engine = new MemoryStorageEngine(await createTokenHasher());
  const server = new grpc.Server(SERVER_OPTIONS);
  const handlers = replicaServiceHandlers({
    handler: { apply: async (records) => void (await engine.apply(records)), read: async (keys) => keys.map((key) => engine.get(key)) },
    logger: silentLogger,
  });
  server.addService(loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}`, engine };
}

async function measure(label: string, mode: 'unary' | 'stream', batchItemsMax: number | undefined): Promise<{ perSecond: number; cpuUsPerApply: number }> {
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
  const unaryClient = new (loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica)(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS);
  const unaryApply = (one: KvRecord): Promise<void> =>
    new Promise((resolve, reject) => {
      calls += 1;
      messages += 1;
      unaryClient.Apply({ batch: encodeBatch([one]) }, { deadline: new Date(Date.now() + 5_000) }, (error) => (error ? reject(error) : resolve()));
    });
  const send = mode === 'unary' ? unaryApply : (one: KvRecord): Promise<void> => transport.apply('replica', [one], { deadlineMs: Date.now() + 5_000 });
  // Warm the channel (and the stream) before timing.
  await send(record());
  calls = 0;
  messages = 0;
  let applies = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const worker = async (): Promise<void> => {
    while (performance.now() - started < DURATION_MS) {
      await send(record());
      applies += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  await transport.close();
  unaryClient.close();
  server.forceShutdown();
  await engine.close();
  const perSecond = applies / seconds;
  const cpuUsPerApply = (cpu.user + cpu.system) / Math.max(applies, 1);
  console.log(
    `${label.padEnd(34)} ${Math.round(perSecond).toLocaleString('en-US').padStart(9)} applies/s  ${cpuUsPerApply.toFixed(1).padStart(6)} µs CPU/apply  ` +
      `${calls.toLocaleString('en-US')} calls, ${(messages / Math.max(calls, 1)).toFixed(1)} messages per call`,
  );
  return { perSecond, cpuUsPerApply };
}

console.log(`replica batching: ${CONCURRENCY} concurrent single-record applies for ${DURATION_MS} ms each, one peer over gRPC`);
const unary = await measure('one unary call per message', 'unary', 1);
await measure('one stream request per message', 'stream', 1);
const batched = await measure('coalesced per turn, on the stream', 'stream', undefined);
const ratio = batched.perSecond / unary.perSecond;
console.log(`ratio coalesced / one unary call per message: ${ratio.toFixed(2)}x (target >= ${RATIO_TARGET}x: ${ratio >= RATIO_TARGET ? 'target met' : 'TARGET MISSED'})`);
