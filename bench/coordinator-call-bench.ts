// `npm run bench:call`: the CPU one Put or Get costs from the KV service's unary handler
// down through the coordinator, its metrics and three replicas, on an in-memory three-node
// cluster (N=3 W=2 R=2, src/node/in-memory-cluster.ts) in this one process: the part of a
// coordinator's cost per unary call that is quorumkv's own, without gRPC, TLS or a disk.
// The handler is called as grpc-js calls it (a call with the request and a deadline, and a
// callback), 64 calls in flight, over 1000 keys.
//
// `--nodes 1` measures one node instead (N=1 W=1 R=1: the coordinator and its own
// replica only, issue 15's single-node row). `--via stream` sends the requests as
// KV.Multiplex messages instead of unary calls, as the project's client does: each one
// decoded from its envelope by the node's own deserializer, checked against the caller's
// roles (a stream of the built-in admin), served, and its reply encoded by the node's own
// serializer; only grpc-js's framing, HTTP/2 and TLS are left out.
//
// With `--build NAME=DIR` given more than once (DIR is a checkout with `npm run build`
// done) every build's cluster runs in this same process and the measured bursts take turns
// between them, in alternating order, so that whatever else the machine does hits each
// build alike; the summary gives each build's median and minimum over the rounds and the
// median of its per-round ratios to the first build. Process CPU (user + system) per call
// is the figure: throughput on a shared machine says little.
//
//   npm run bench:call -- [--rounds 8] [--calls 10000] [--ops put,get] [--nodes 3|1] [--via unary|stream]
//                         [--build before=../old --build after=.]
import { EventEmitter } from 'node:events';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Logger } from '../src/logging/logger.js';
import type { InMemoryCluster } from '../src/node/in-memory-cluster.js';
import type { KVHandlers } from '../src/protocol/generated/quorumkv/v1/KV.js';
import type { ApiContext } from '../src/api/unary-handler.js';
import type { KvStreamReply } from '../src/protocol/generated/quorumkv/v1/KvStreamReply.js';
import type { KvStreamRequest } from '../src/protocol/generated/quorumkv/v1/KvStreamRequest.js';
import { median, parseBuildOption, positiveInteger } from './build-option.js';

const OPS = ['put', 'get'] as const;
type Op = (typeof OPS)[number];
const CONCURRENCY = 64;
const KEYS = 1000;
const VALUE_BYTES = 100;
/** Rounds, calls per burst: at most this many, so that a typo cannot run for hours. */
const ROUNDS_MAX = 100;
const CALLS_MAX = 1_000_000;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    calls: { type: 'string', default: '10000' },
    ops: { type: 'string', default: OPS.join(',') },
    build: { type: 'string', multiple: true },
    nodes: { type: 'string', default: '3' },
    via: { type: 'string', default: 'unary' },
  },
});

const rounds = positiveInteger(values.rounds, 'rounds', ROUNDS_MAX);
const callsPerBurst = positiveInteger(values.calls, 'calls', CALLS_MAX);
const ops = values.ops.split(',').map((op) => {
  if (!(OPS as readonly string[]).includes(op)) throw new Error(`--ops takes ${OPS.join(', ')}, not ${JSON.stringify(op)}`);
  return op as Op;
});
const builds = (values.build ?? ['this=.']).map(parseBuildOption);
if (values.nodes !== '1' && values.nodes !== '3') throw new Error(`--nodes takes 1 or 3, not ${JSON.stringify(values.nodes)}`);
const nodes = Number(values.nodes);
/** W and R: a majority of N. */
const quorum = nodes === 1 ? 1 : 2;
if (values.via !== 'unary' && values.via !== 'stream') throw new Error(`--via takes unary or stream, not ${JSON.stringify(values.via)}`);
const via = values.via;

/** Sends one request on a build's Multiplex stream; resolves with the reply's error code, or undefined. */
type StreamSend = (request: KvStreamRequest) => Promise<string | undefined>;

interface RunningBuild {
  readonly name: string;
  readonly cluster: InMemoryCluster;
  readonly handlers: KVHandlers;
  readonly stream: StreamSend;
  readonly microsecondsPerCall: Record<Op, number[]>;
}

/** A module of build `dir`'s compiled tree (dist/), typed as this build's. */
function load<Module>(dir: string, path: string): Promise<Module> {
  return import(pathToFileURL(resolve(dir, 'dist', path)).href) as Promise<Module>;
}

/**
 * The API context as build `dir` makes it: builds before the request counter became a
 * port of src/api (ApiRequestCounter) made it with createApiContext(logger, registry).
 */
async function apiContextOf(dir: string, logger: Logger, registry: Registry): Promise<ApiContext> {
  const unaryHandler = await load<{ createApiContext?: (logger: Logger, registry: Registry) => ApiContext }>(dir, 'src/api/unary-handler.js');
  if (unaryHandler.createApiContext !== undefined) return unaryHandler.createApiContext(logger, registry);
  const { apiRequestCounter } = await load<typeof import('../src/metrics/api-prometheus.js')>(dir, 'src/metrics/api-prometheus.js');
  return { logger, requests: apiRequestCounter(registry) };
}

async function start(name: string, dir: string): Promise<RunningBuild> {
  const { InMemoryCluster } = await load<typeof import('../src/node/in-memory-cluster.js')>(dir, 'src/node/in-memory-cluster.js');
  const { kvServiceHandlers } = await load<typeof import('../src/api/kv-service.js')>(dir, 'src/api/kv-service.js');
  const { clientRequestAuthorizer } = await load<typeof import('../src/security/call-guards.js')>(dir, 'src/security/call-guards.js');
  const { UserRoles, BUILT_IN_ADMIN } = await load<typeof import('../src/security/user-roles.js')>(dir, 'src/security/user-roles.js');
  const cluster = await InMemoryCluster.start({ nodes, replicationFactor: nodes });
  const node = cluster.nodes()[0]!;
  const assembly = node.assembly;
  const users = new UserRoles([]);
  const handlers = kvServiceHandlers({
    coordinator: assembly.coordinator,
    placement: (key) => assembly.placementRings().placementOfKey(key),
    context: await apiContextOf(dir, node.logger, node.registry),
    admit: () => assembly.admit(),
    authorizer: clientRequestAuthorizer(() => users),
  });
  const stream = await openStream(dir, handlers, BUILT_IN_ADMIN);
  return { name, cluster, handlers, stream, microsecondsPerCall: { put: [], get: [] } };
}

/**
 * A KV.Multiplex stream of build `dir` as grpc-js would hand it to the handler, with the
 * built-in admin's certificate: each request is encoded as the client encodes it (not
 * measured apart: it is in the process's CPU too, as small as the client's share of a
 * real run is not) and decoded by the node's own deserializer, each reply encoded by the
 * node's own serializer before its callback runs.
 */
async function openStream(dir: string, handlers: KVHandlers, user: string): Promise<StreamSend> {
  const { loadQuorumKvProtocol } = await load<typeof import('../src/protocol/proto-package.js')>(dir, 'src/protocol/proto-package.js');
  const codecs = await load<typeof import('../src/protocol/message-codecs.js')>(dir, 'src/protocol/message-codecs.js');
  const service = loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service;
  const server = codecs.kvServiceWithFastCodecs(service)['Multiplex']!;
  const client = codecs.kvStreamClientCodecs(service);
  const waiting = new Map<number, (code: string | undefined) => void>();
  const call = Object.assign(new EventEmitter(), {
    cancelled: false,
    destroyed: false,
    getAuthContext: () => ({ sslPeerCertificate: { subjectaltname: `URI:quorumkv://user/${user}` } }),
    write(reply: KvStreamReply, written: () => void): boolean {
      server.responseSerialize(reply);
      const resolveRequest = waiting.get(reply.id!);
      waiting.delete(reply.id!);
      written();
      resolveRequest?.(reply.error?.code ?? undefined);
      return true;
    },
    end(): void {},
  });
  handlers.Multiplex(call as unknown as Parameters<KVHandlers['Multiplex']>[0]);
  return (request) =>
    new Promise((resolveRequest) => {
      waiting.set(request.id!, resolveRequest);
      call.emit('data', server.requestDeserialize(client.serialize(request)));
    });
}

const keys = Array.from({ length: KEYS }, (_, i) => Buffer.from(`bench-key-${i}`));
const value = Buffer.alloc(VALUE_BYTES, 'v');

let nextStreamId = 1;

/** One request on the build's Multiplex stream, with a deadline 30 s out. */
async function streamCall(build: RunningBuild, op: Op, index: number): Promise<void> {
  const key = keys[index % KEYS]!;
  const id = nextStreamId++;
  const body = op === 'put' ? { put: { key, value, w: quorum, ttlMs: '0' } } : { get: { key, r: quorum, includeReplicas: false } };
  const code = await build.stream({ id, timeoutMs: 30_000, ...body });
  if (code !== undefined) throw new Error(`${op} failed: ${code}`);
}

/** One call as grpc-js makes it: the request, a deadline 30 s out, a callback. */
function call(build: RunningBuild, op: Op, index: number): Promise<void> {
  if (via === 'stream') return streamCall(build, op, index);
  const handlers = build.handlers;
  return new Promise<void>((resolveCall, reject) => {
    const key = keys[index % KEYS]!;
    const done = (error: grpc.ServerErrorResponse | Partial<grpc.StatusObject> | null): void => (error === null ? resolveCall() : reject(new Error(`${op} failed: ${error.details ?? error.code}`)));
    const deadline = { getDeadline: () => Date.now() + 30_000 };
    if (op === 'put') {
      const unaryCall = { ...deadline, request: { key, value, w: quorum, ttlMs: '0' } } as unknown as grpc.ServerUnaryCall<never, never>;
      handlers.Put(unaryCall, done);
    } else {
      const unaryCall = { ...deadline, request: { key, r: quorum, includeReplicas: false } } as unknown as grpc.ServerUnaryCall<never, never>;
      handlers.Get(unaryCall, done);
    }
  });
}

/** `callsPerBurst` calls, CONCURRENCY at a time; the process CPU per call in µs. */
async function burst(build: RunningBuild, op: Op, calls: number): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < calls) await call(build, op, next++);
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const running: RunningBuild[] = [];
try {
  for (const { name, dir } of builds) running.push(await start(name, dir));
  // Warm-up: every key written once (so gets find values) and the code optimized.
  for (const build of running) for (const op of ops) await burst(build, op, Math.max(KEYS, callsPerBurst / 4));
  for (let round = 1; round <= rounds; round++) {
    for (const op of ops) {
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const build of order) build.microsecondsPerCall[op].push(await burst(build, op, callsPerBurst));
    }
    process.stderr.write(`round ${round}/${rounds} done, load ${loadavg()[0]!.toFixed(1)}\n`);
  }
  console.log(`CPU per call, ${via === 'stream' ? 'Multiplex request' : 'unary handler'} to replicas, in-memory N=${nodes} W=${quorum} R=${quorum} (${rounds} rounds of ${callsPerBurst} calls, ${CONCURRENCY} in flight; 1-min load at end ${loadavg()[0]!.toFixed(1)})`);
  for (const op of ops) {
    const first = running[0]!.microsecondsPerCall[op];
    for (const build of running) {
      const samples = build.microsecondsPerCall[op];
      const ratio = median(samples.map((us, i) => us / first[i]!));
      console.log(`${op.padEnd(4)} ${build.name.padEnd(12)} median ${median(samples).toFixed(1)} µs  min ${Math.min(...samples).toFixed(1)} µs  ratio to ${running[0]!.name} ${ratio.toFixed(3)}`);
    }
  }
} finally {
  for (const build of running) await build.cluster.close();
}
