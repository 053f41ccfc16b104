// `npm run bench:gate`: the CPU the receive gate (src/security/receive-gate.ts) costs per
// call, in this one process, without sockets: each call is a grpc-js ServerInterceptingCall
// around a stand-in for grpc-js's own call object, driven the way grpc-js drives a unary
// call (metadata; the message one event-loop turn later, so that the turn is held across
// I/O as on a real port; half-close; status), 64 in flight. A `none` build row is the
// same harness with a pass-through interceptor: what the harness itself costs.
//
// With `--build NAME=DIR` given more than once (DIR is a checkout with `npm run build`
// done) each build's gate runs in this process and the bursts take turns between them,
// in alternating order; the summary gives each build's median and minimum over the
// rounds and the median of its per-round ratios to the first build. The stand-in call
// has no TLS socket, so the gate keys callers by the peer address (the --insecure path).
//
//   npm run bench:gate -- [--rounds 8] [--calls 200000] [--message-after turn|tick] [--build before=../old --build after=.]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { median, parseBuildOption, positiveInteger } from './build-option.js';

const CONCURRENCY = 64;
/** Rounds, calls per burst: at most this many, so that a typo cannot run for hours. */
const ROUNDS_MAX = 100;
const CALLS_MAX = 10_000_000;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    calls: { type: 'string', default: '200000' },
    build: { type: 'string', multiple: true },
    'message-after': { type: 'string', default: 'turn' },
  },
});

const rounds = positiveInteger(values.rounds, 'rounds', ROUNDS_MAX);
const callsPerBurst = positiveInteger(values.calls, 'calls', CALLS_MAX);
const builds = (values.build ?? ['this=.']).map(parseBuildOption);

interface Variant {
  readonly name: string;
  readonly interceptor: grpc.ServerInterceptor;
  readonly microsecondsPerCall: number[];
}

/** What the gate of build `dir` exports; every build since the gate has this much. */
interface GateModule {
  readonly ReceiveGate: new () => { interceptor(): grpc.ServerInterceptor };
}

async function gateOf(dir: string): Promise<grpc.ServerInterceptor> {
  const module = (await import(pathToFileURL(resolve(dir, 'dist/src/security/receive-gate.js')).href)) as GateModule;
  return new module.ReceiveGate().interceptor();
}

/** An interceptor that only wraps the call, as the gate does, and passes everything on. */
const passThrough: grpc.ServerInterceptor = (_method, call) => new grpc.ServerInterceptingCall(call);

const METHOD = { path: '/quorumkv.v1.KV/Get', requestStream: false, responseStream: false } as unknown as grpc.ServerMethodDefinition<unknown, unknown>;
/** grpc-js's listener of a call as its handler starts it (InterceptingServerListener, not exported). */
type CallListener = Parameters<grpc.ServerInterceptingCallInterface['start']>[0];
const HANDLER_LISTENER: CallListener = { onReceiveMetadata: () => {}, onReceiveMessage: () => {}, onReceiveHalfClose: () => {}, onCancel: () => {} };
const REQUEST = Buffer.alloc(100);
const OK_STATUS = { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() };

/** grpc-js's call object as far as an interceptor sees it: it keeps the listener it is started with. */
class StandInCall {
  listener: CallListener | undefined;
  start(listener: CallListener): void {
    this.listener = listener;
  }
  sendStatus(): void {}
  getPeer(): string {
    return '127.0.0.1:40000';
  }
  getAuthContext(): ReturnType<grpc.ServerInterceptingCallInterface['getAuthContext']> {
    return {};
  }
}

/**
 * When a call's message arrives after its metadata: `turn`, the next event-loop turn (a
 * message that came in a later read of the socket); `tick`, the same turn (a message
 * that came in the same read, which grpc-js hands on at the next tick).
 */
const messageAfter = values['message-after'];
if (messageAfter !== 'turn' && messageAfter !== 'tick') throw new Error(`--message-after takes turn or tick, not ${JSON.stringify(messageAfter)}`);
const nextTurn = (): Promise<void> => new Promise((resolveTurn) => (messageAfter === 'turn' ? setImmediate(resolveTurn) : process.nextTick(resolveTurn)));

async function oneCall(interceptor: grpc.ServerInterceptor): Promise<void> {
  const inner = new StandInCall();
  const call = interceptor(METHOD, inner as unknown as grpc.ServerInterceptingCallInterface);
  call.start(HANDLER_LISTENER);
  inner.listener!.onReceiveMetadata(new grpc.Metadata());
  await nextTurn();
  inner.listener!.onReceiveMessage(REQUEST);
  inner.listener!.onReceiveHalfClose();
  call.sendStatus(OK_STATUS);
}

/** `calls` calls, CONCURRENCY at a time; the process CPU per call in µs. */
async function burst(interceptor: grpc.ServerInterceptor, calls: number): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) await oneCall(interceptor);
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const variants: Variant[] = [{ name: 'none', interceptor: passThrough, microsecondsPerCall: [] }];
for (const { name, dir } of builds) variants.push({ name, interceptor: await gateOf(dir), microsecondsPerCall: [] });
// Warm-up: the code optimized.
for (const variant of variants) await burst(variant.interceptor, Math.max(1000, callsPerBurst / 4));
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? variants : [...variants].reverse();
  for (const variant of order) variant.microsecondsPerCall.push(await burst(variant.interceptor, callsPerBurst));
  process.stderr.write(`round ${round}/${rounds} done, load ${loadavg()[0]!.toFixed(1)}\n`);
}
console.log(`CPU per call through the receive gate (${rounds} rounds of ${callsPerBurst} calls, ${CONCURRENCY} in flight, message after a ${messageAfter}; 1-min load at end ${loadavg()[0]!.toFixed(1)})`);
const first = variants[1]!;
for (const variant of variants) {
  const samples = variant.microsecondsPerCall;
  const ratio = median(samples.map((us, i) => us / first.microsecondsPerCall[i]!));
  console.log(`${variant.name.padEnd(12)} median ${median(samples).toFixed(2)} µs  min ${Math.min(...samples).toFixed(2)} µs  ratio to ${first.name} ${ratio.toFixed(3)}`);
}
