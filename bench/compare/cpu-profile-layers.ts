// Splits a V8 CPU profile (`node --cpu-prof`) of a gRPC server into the layers a unary
// call passes through, by the self time of each sampled function's script: grpc-js,
// protobuf (proto-loader, protobufjs), quorumkv's own code, Node's HTTP/2, streams,
// TLS/net and other internals, V8 built-ins, garbage collection, and "(program)": native
// code with no JavaScript frame on the stack, which is where nghttp2's frame parsing,
// OpenSSL and libuv's reads and writes land when they are not called from JavaScript.
// Idle time is left out, so the shares are of the process's busy time.
//
// The V8 profiler sees threads only through JavaScript: native work called from a
// JavaScript function (a write into the TLS socket, nghttp2's packing of a frame) counts
// as that function's self time, so "Node's HTTP/2" holds some nghttp2 and TLS work too.
// `perf` splits native time further (docs/operations/performance.md).

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export const LAYERS = [
  'grpc-js',
  'protobuf (proto-loader, protobufjs)',
  'quorumkv code (src/, bench/)',
  'Node HTTP/2 (JS, and native calls from it)',
  'Node streams',
  'Node TLS, net, stream_base (JS, and native calls from it)',
  'other Node internals',
  'V8 built-ins and natives without a script',
  '(program): native code outside JS (nghttp2 parsing, OpenSSL, libuv)',
  '(garbage collector)',
] as const;
export type Layer = (typeof LAYERS)[number];

function layerOf(frame: ProfileNode['callFrame']): Layer | 'idle' {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return '(program): native code outside JS (nghttp2 parsing, OpenSSL, libuv)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (url.includes('@grpc/grpc-js')) return 'grpc-js';
  if (url.includes('protobufjs') || url.includes('@grpc/proto-loader') || url.includes('@protobufjs')) return 'protobuf (proto-loader, protobufjs)';
  if (url.includes('/dist/src/') || url.includes('/dist/bench/')) return 'quorumkv code (src/, bench/)';
  if (url.startsWith('node:internal/http2')) return 'Node HTTP/2 (JS, and native calls from it)';
  if (url.startsWith('node:internal/streams') || url === 'node:stream') return 'Node streams';
  if (url.startsWith('node:_tls') || url === 'node:tls' || url === 'node:net' || url.startsWith('node:internal/stream_base_commons') || url.startsWith('node:internal/tls')) {
    return 'Node TLS, net, stream_base (JS, and native calls from it)';
  }
  if (url.startsWith('node:')) return 'other Node internals';
  return 'V8 built-ins and natives without a script';
}

export interface LayerSplit {
  readonly busyMs: number;
  readonly ms: ReadonlyMap<Layer, number>;
}

/** Busy time by layer, from the profile's samples and their time deltas. */
export function layerSplit(profileJson: string): LayerSplit {
  const profile = JSON.parse(profileJson) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) throw new Error('not a V8 CPU profile (nodes, samples, timeDeltas)');
  const layerById = new Map<number, Layer | 'idle'>(profile.nodes.map((node) => [node.id, layerOf(node.callFrame)]));
  const ms = new Map<Layer, number>(LAYERS.map((layer) => [layer, 0]));
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const layer = layerById.get(id);
    // A sample's time is the delta to the next one (V8 records the delta before each sample).
    const deltaMs = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (layer === undefined || layer === 'idle') return;
    ms.set(layer, ms.get(layer)! + deltaMs);
    busyMs += deltaMs;
  });
  return { busyMs, ms };
}

/** A Markdown table: each layer's share of each profile's busy time. */
export function layerTable(splits: ReadonlyArray<{ readonly name: string; readonly split: LayerSplit }>): string {
  const lines = [`| layer (self time) | ${splits.map(({ name }) => `${name} %`).join(' | ')} |`, `|---|${splits.map(() => '---:').join('|')}|`];
  for (const layer of LAYERS) {
    lines.push(`| ${layer} | ${splits.map(({ split }) => (split.busyMs === 0 ? '–' : ((100 * split.ms.get(layer)!) / split.busyMs).toFixed(1))).join(' | ')} |`);
  }
  lines.push(`| busy ms in the profile | ${splits.map(({ split }) => split.busyMs.toFixed(0)).join(' | ')} |`);
  return lines.join('\n');
}
