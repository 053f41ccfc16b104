// Protobuf codec benchmark (`npm run bench:protobuf`): could a code generator replace
// the hand-written codecs of the hot messages (src/protocol/message-codecs.ts, ADR 0063)
// without losing their speed? The decision and the figures this printed are in
// docs/decisions/0130-protobuf-source-of-truth.md.
//
// For every message and direction the hand-written codecs cover, it times, in one
// process and one run:
//   hand-written  the codecs the node uses today;
//   proto-loader  the method's requestSerialize/... that grpc-js would call without them
//                 (protobufjs reflection, fromObject/toObject, longs as strings);
//   ts-proto      ts-proto's generated code with `forceLong=bigint`;
//   protobuf-es   protoc-gen-es's generated code with @bufbuild/protobuf.
// Each implementation works on its own object model (decimal-string longs and Buffers for
// the first two, bigint for the generators), as a node using it would; encoders end in a
// Buffer, which is what grpc-js takes. The ratios are against the hand-written codec in
// the same run; nothing is asserted about timing. Every encoder's bytes are first checked
// to decode (through protobufjs) to the same message as the hand-written codec's.
//
// The generators run at start into dist/bench/protobuf-generated (inside the project, so
// that the generated modules resolve @bufbuild/protobuf from its node_modules); nothing
// generated is committed and `npm test` does not need protoc. protoc comes from PATH or
// QKV_PROTOC (Debian: `apt-get install protobuf-compiler`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import ts from 'typescript';
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { loadQuorumKvProtocol, PROTO_ROOT } from '../src/protocol/proto-package.js';
import * as handWritten from '../src/protocol/message-codecs.js';
import { encodeBatch } from '../src/storage/record-codec.js';
import type { KvRecord } from '../src/storage/record.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATED_DIR = join(PROJECT_ROOT, 'dist', 'bench', 'protobuf-generated');
const PROTOC = process.env['QKV_PROTOC'] ?? 'protoc';
// Rounds shorter than a scheduler time slice: on a shared machine most rounds of 10 ms
// or more include a wait for another process, and the fastest round still shows it.
const ROUND_MS = 1;
const ROUNDS = 301;
const BATCH_ITEMS = 100;
const REPLICA_RECORDS = 6; // about what one coalesced Exchange batch carries under `qkv bench` (ADR 0062)
const VALUE = Buffer.alloc(100, 7);
const STAMP = (1_733_000_000_000n << 16n) | 42n; // a realistic hybrid-clock stamp, above 2^53

// ---- generating the candidates' code ------------------------------------------------

function generate(): { tsProtoDir: string; protobufEsDir: string } {
  rmSync(GENERATED_DIR, { recursive: true, force: true });
  const tsProtoDir = join(GENERATED_DIR, 'ts-proto');
  const protobufEsDir = join(GENERATED_DIR, 'protobuf-es');
  mkdirSync(tsProtoDir, { recursive: true });
  mkdirSync(protobufEsDir, { recursive: true });
  const bin = (name: string): string => join(PROJECT_ROOT, 'node_modules', '.bin', name);
  // Every .proto file, common.proto included (PROTO_FILES names only the services').
  const protos = filesUnder(PROTO_ROOT).filter((name) => name.endsWith('.proto'));
  execFileSync(PROTOC, [
    `-I${PROTO_ROOT}`,
    `--plugin=protoc-gen-ts_proto=${bin('protoc-gen-ts_proto')}`,
    `--ts_proto_out=${tsProtoDir}`,
    '--ts_proto_opt=forceLong=bigint,outputServices=false,importSuffix=.js',
    ...protos,
  ]);
  execFileSync(PROTOC, [
    `-I${PROTO_ROOT}`,
    `--plugin=protoc-gen-es=${bin('protoc-gen-es')}`,
    `--es_out=${protobufEsDir}`,
    '--es_opt=target=js,import_extension=js',
    ...protos,
  ]);
  // ts-proto writes TypeScript only: transpile it in place, as a build would.
  for (const file of filesUnder(tsProtoDir).filter((name) => name.endsWith('.ts'))) {
    const output = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(file.replace(/\.ts$/, '.js'), output.outputText);
  }
  return { tsProtoDir, protobufEsDir };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

function bytesOf(files: readonly string[]): number {
  return files.reduce((sum, file) => sum + statSync(file).size, 0);
}

// ---- the sample messages ------------------------------------------------------------

const key = (index: number): Buffer => Buffer.from(`user:${String(index).padStart(8, '0')}`);
const versionOf = (index: number): { stamp: bigint; nodeId: string } => ({ stamp: STAMP + BigInt(index), nodeId: 'quorumkv-2' });
const records: KvRecord[] = Array.from({ length: REPLICA_RECORDS }, (_, index) => ({
  key: key(index),
  value: VALUE,
  version: versionOf(index),
  expiresAtMs: 0,
}));
const replicaBatch = encodeBatch(records);

/** Each message once, in the shape every implementation takes: proto-loader's objects and the generators' init objects. */
interface Sample {
  readonly name: string;
  /** The proto message type, e.g. quorumkv.v1.PutRequest. */
  readonly type: string;
  /** The grpc-js method and which side of it the message is. */
  readonly method: { service: 'KV' | 'Replica'; name: string; side: 'request' | 'response' };
  readonly protoLoader: object;
  readonly generated: object;
  readonly encode?: (message: never) => Buffer | undefined;
  readonly decode?: (bytes: Buffer) => unknown;
}

const putItems = Array.from({ length: BATCH_ITEMS }, (_, index) => ({ key: key(index), value: VALUE, ttlMs: 60_000 }));
const putResults = Array.from({ length: BATCH_ITEMS }, (_, index) => ({ ok: true, version: versionOf(index), acks: 2 }));
const asLoaderVersion = (version: { stamp: bigint; nodeId: string }): { stamp: string; nodeId: string } => ({ stamp: String(version.stamp), nodeId: version.nodeId });

const SAMPLES: readonly Sample[] = [
  {
    name: 'Put request',
    type: 'PutRequest',
    method: { service: 'KV', name: 'Put', side: 'request' },
    protoLoader: { key: key(1), value: VALUE, w: 2, ttlMs: '60000' },
    generated: { key: key(1), value: VALUE, w: 2, ttlMs: 60_000n },
    decode: handWritten.decodePutRequest,
  },
  {
    name: 'Put response',
    type: 'PutResponse',
    method: { service: 'KV', name: 'Put', side: 'response' },
    protoLoader: { version: asLoaderVersion(versionOf(1)), acks: 2 },
    generated: { version: versionOf(1), acks: 2 },
    encode: handWritten.encodePutResponse,
  },
  {
    name: 'Get request',
    type: 'GetRequest',
    method: { service: 'KV', name: 'Get', side: 'request' },
    protoLoader: { key: key(1), r: 2, includeReplicas: false },
    generated: { key: key(1), r: 2, includeReplicas: false },
    decode: handWritten.decodeGetRequest,
  },
  {
    name: 'Get response',
    type: 'GetResponse',
    method: { service: 'KV', name: 'Get', side: 'response' },
    protoLoader: { found: true, value: VALUE, version: asLoaderVersion(versionOf(1)), acks: 2, replicas: [] },
    generated: { found: true, value: VALUE, version: versionOf(1), acks: 2, replicas: [] },
    encode: handWritten.encodeGetResponse,
  },
  {
    name: `BatchPut request (${BATCH_ITEMS} items)`,
    type: 'BatchPutRequest',
    method: { service: 'KV', name: 'BatchPut', side: 'request' },
    protoLoader: { items: putItems.map((item) => ({ ...item, ttlMs: String(item.ttlMs) })), w: 2 },
    generated: { items: putItems.map((item) => ({ ...item, ttlMs: BigInt(item.ttlMs) })), w: 2 },
    decode: handWritten.decodeBatchPutRequest,
  },
  {
    name: `BatchPut response (${BATCH_ITEMS} results)`,
    type: 'BatchPutResponse',
    method: { service: 'KV', name: 'BatchPut', side: 'response' },
    protoLoader: { results: putResults.map((result) => ({ ...result, version: asLoaderVersion(result.version) })) },
    generated: { results: putResults },
    encode: handWritten.encodeBatchPutResponse,
  },
  {
    name: `Exchange apply (${REPLICA_RECORDS} records)`,
    type: 'ExchangeRequest',
    method: { service: 'Replica', name: 'Exchange', side: 'request' },
    protoLoader: { id: 7, apply: { batch: replicaBatch } },
    generated: { id: 7, apply: { batch: replicaBatch } },
    encode: handWritten.encodeExchangeRequest,
    decode: handWritten.decodeExchangeRequest,
  },
  {
    name: `Exchange read (${REPLICA_RECORDS} keys)`,
    type: 'ExchangeRequest',
    method: { service: 'Replica', name: 'Exchange', side: 'request' },
    protoLoader: { id: 8, read: { keys: records.map((record) => record.key) } },
    generated: { id: 8, read: { keys: records.map((record) => record.key) } },
    encode: handWritten.encodeExchangeRequest,
    decode: handWritten.decodeExchangeRequest,
  },
  {
    name: 'Exchange apply reply',
    type: 'ExchangeReply',
    method: { service: 'Replica', name: 'Exchange', side: 'response' },
    protoLoader: { id: 7, apply: { records: REPLICA_RECORDS } },
    generated: { id: 7, apply: { records: REPLICA_RECORDS } },
    encode: handWritten.encodeExchangeReply,
    decode: handWritten.decodeExchangeReply,
  },
  {
    name: `Exchange read reply (${REPLICA_RECORDS} found)`,
    type: 'ExchangeReply',
    method: { service: 'Replica', name: 'Exchange', side: 'response' },
    protoLoader: { id: 8, read: { found: records.map(() => true), batch: replicaBatch } },
    generated: { id: 8, read: { found: records.map(() => true), batch: replicaBatch } },
    encode: handWritten.encodeExchangeReply,
    decode: handWritten.decodeExchangeReply,
  },
];

// ---- the implementations ------------------------------------------------------------

interface Codec {
  encode(): Buffer;
  decode(bytes: Buffer): unknown;
}

interface GrpcMethodCodec {
  requestSerialize(value: object): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

interface TsProtoMessage {
  fromPartial(object: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}

/** A Buffer over the encoder's bytes without copying, as grpc-js needs a Buffer. */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const { grpcObject } = loadQuorumKvProtocol();

function protoLoaderCodec(sample: Sample): Codec {
  const service = grpcObject.quorumkv.v1[sample.method.service].service;
  const method = service[sample.method.name] as unknown as GrpcMethodCodec;
  const request = sample.method.side === 'request';
  return {
    encode: () => (request ? method.requestSerialize(sample.protoLoader) : method.responseSerialize(sample.protoLoader)),
    decode: (bytes) => (request ? method.requestDeserialize(bytes) : method.responseDeserialize(bytes)),
  };
}

function handWrittenCodec(sample: Sample): Codec {
  return {
    encode: () => {
      const bytes = sample.encode!(sample.protoLoader as never);
      if (bytes === undefined) throw new Error(`${sample.name}: the hand-written encoder left this message to proto-loader`);
      return bytes;
    },
    decode: (bytes) => sample.decode!(bytes),
  };
}

function tsProtoCodec(sample: Sample, modules: Record<string, Record<string, unknown>>): Codec {
  const message = findExport(modules, sample.type) as TsProtoMessage;
  const value = message.fromPartial(sample.generated);
  return { encode: () => asBuffer(message.encode(value).finish()), decode: (bytes) => message.decode(bytes) };
}

function protobufEsCodec(sample: Sample, modules: Record<string, Record<string, unknown>>): Codec {
  const schema = findExport(modules, `${sample.type}Schema`) as DescMessage;
  const value: MessageShape<DescMessage> = create(schema, toProtobufEsInit(sample.generated) as never);
  return { encode: () => asBuffer(toBinary(schema, value)), decode: (bytes) => fromBinary(schema, bytes) };
}

/** protobuf-es writes a oneof as `{ body: { case, value } }`; the samples use ts-proto's optional members. */
function toProtobufEsInit(init: object): object {
  const { id, apply, read } = init as { id?: number; apply?: object; read?: object };
  if (apply !== undefined) return { id, body: { case: 'apply', value: apply } };
  if (read !== undefined) return { id, body: { case: 'read', value: read } };
  return init;
}

function findExport(modules: Record<string, Record<string, unknown>>, name: string): unknown {
  for (const module of Object.values(modules)) if (name in module) return module[name];
  throw new Error(`no generated export ${name}`);
}

async function importAll(dir: string): Promise<Record<string, Record<string, unknown>>> {
  const modules: Record<string, Record<string, unknown>> = {};
  for (const file of filesUnder(dir).filter((name) => name.endsWith('.js'))) {
    modules[file] = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }
  return modules;
}

// ---- timing -------------------------------------------------------------------------

let sink: unknown;

type Loop = (run: () => unknown, calls: number) => unknown;

/**
 * A timing loop of its own for one runner. A loop shared by all runners would make its
 * call site polymorphic and let V8 optimise it for whichever runner came first; a node
 * calls each codec from its own monomorphic site.
 */
function newLoop(): Loop {
  return new Function('run', 'calls', 'let last; for (let index = 0; index < calls; index += 1) last = run(); return last;') as Loop;
}

/** Nanoseconds for `calls` calls of `run` in `loop`. */
function timeCalls(loop: Loop, run: () => unknown, calls: number): number {
  const started = process.hrtime.bigint();
  sink = loop(run, calls);
  return Number(process.hrtime.bigint() - started);
}

/** How many calls of `run` take about ROUND_MS (which also warms it up). */
function callsPerRound(loop: Loop, run: () => unknown): number {
  for (let calls = 1; ; calls *= 2) {
    const elapsedNs = timeCalls(loop, run, calls);
    if (elapsedNs >= (ROUND_MS * 1e6) / 4 && calls >= 64) return Math.ceil((calls * ROUND_MS * 1e6) / elapsedNs);
  }
}

/**
 * Nanoseconds per call of each runner: the fastest of ROUNDS rounds. The runners take
 * turns round by round, so that load from other processes on the machine falls on all of
 * them alike, and the fastest round is the one least disturbed by it.
 */
function nsPerCall<K>(runners: ReadonlyMap<K, () => unknown>): Map<K, number> {
  const timed = [...runners].map(([name, run]) => {
    const loop = newLoop();
    return { name, run, loop, calls: callsPerRound(loop, run), best: Infinity };
  });
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const runner of timed) runner.best = Math.min(runner.best, timeCalls(runner.loop, runner.run, runner.calls) / runner.calls);
  }
  return new Map(timed.map((runner) => [runner.name, runner.best]));
}

const IMPLEMENTATIONS = ['hand-written', 'proto-loader', 'ts-proto', 'protobuf-es'] as const;
type Implementation = (typeof IMPLEMENTATIONS)[number];

function printRow(label: string, ns: ReadonlyMap<Implementation, number>): void {
  const base = ns.get('hand-written')!;
  const cells = IMPLEMENTATIONS.map((name) => {
    const value = ns.get(name)!;
    return `${value.toFixed(0).padStart(7)} ns ${`(${(value / base).toFixed(2)}x)`.padStart(9)}`;
  });
  console.log(`${label.padEnd(44)} ${cells.join('  ')}`);
}

// ---- main ---------------------------------------------------------------------------

const { tsProtoDir, protobufEsDir } = generate();
const tsProtoModules = await importAll(tsProtoDir);
const protobufEsModules = await importAll(protobufEsDir);

console.log(`protobuf codecs: fastest of ${ROUNDS} interleaved rounds of ~${ROUND_MS} ms per cell, ns per call (ratio to hand-written; > 1 is slower)`);
console.log(`${''.padEnd(44)} ${IMPLEMENTATIONS.map((name) => name.padStart(20)).join('  ')}`);
const totals = new Map<Implementation, number>(IMPLEMENTATIONS.map((name) => [name, 0]));
for (const sample of SAMPLES) {
  const codecs = new Map<Implementation, Codec>([
    ['hand-written', handWrittenCodec(sample)],
    ['proto-loader', protoLoaderCodec(sample)],
    ['ts-proto', tsProtoCodec(sample, tsProtoModules)],
    ['protobuf-es', protobufEsCodec(sample, protobufEsModules)],
  ]);
  const reference = protoLoaderCodec(sample);
  const expected = reference.decode(codecs.get('proto-loader')!.encode());
  for (const [name, codec] of codecs) {
    if (sample.encode === undefined && name === 'hand-written') continue;
    if (!isDeepStrictEqual(reference.decode(codec.encode()), expected)) throw new Error(`${sample.name}: ${name} encodes another message`);
  }
  const bytes = codecs.get('proto-loader')!.encode();
  for (const direction of ['encode', 'decode'] as const) {
    if ((direction === 'encode' ? sample.encode : sample.decode) === undefined) continue;
    const ns = nsPerCall(new Map([...codecs].map(([name, codec]) => [name, direction === 'encode' ? () => codec.encode() : () => codec.decode(bytes)])));
    for (const [name, value] of ns) totals.set(name, totals.get(name)! + value);
    printRow(`${direction} ${sample.name} (${bytes.length} B)`, ns);
  }
}
printRow('sum of the rows above', totals);
if (sink === undefined) console.log('(no result kept)');

const moduleFiles = (dir: string): string[] => filesUnder(dir).filter((name) => name.endsWith('.js'));
const handWrittenFiles = ['message-codecs.js', 'protobuf-wire.js'].map((name) => fileURLToPath(new URL(`../src/api/${name}`, import.meta.url)));
const packageBytes = (name: string): number => bytesOf(filesUnder(join(PROJECT_ROOT, 'node_modules', name)).filter((file) => file.endsWith('.js')));
console.log('code size (JavaScript bytes, unminified):');
console.log(`  hand-written codecs ${bytesOf(handWrittenFiles).toLocaleString('en-US')} B, on protobufjs ${packageBytes('protobufjs').toLocaleString('en-US')} B + @grpc/proto-loader ${packageBytes('@grpc/proto-loader').toLocaleString('en-US')} B`);
console.log(`  ts-proto generated ${bytesOf(moduleFiles(tsProtoDir)).toLocaleString('en-US')} B, protobuf-es generated ${bytesOf(moduleFiles(protobufEsDir)).toLocaleString('en-US')} B, both on @bufbuild/protobuf ${packageBytes('@bufbuild/protobuf').toLocaleString('en-US')} B`);
