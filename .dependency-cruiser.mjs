// The architecture of src/, checked by dependency-cruiser inside `npm test`
// (scripts/check-imports.mjs runs it). It reads the TypeScript sources, so `import type`
// counts like any other import: a type is a dependency even though the compiler erases
// it (docs/decisions/0115-layers-checked-by-a-tool.md).
//
// Layers, low to high. A directory may import its own layer and the layers below it,
// never one above. Each line says what the layer is for; the ADR says why this order.
const LAYERS = [
  // foundation: limits, operating errors, the hybrid logical clock, the logger port,
  // atomic files. Everything may use them; they use nothing of ours but each other.
  ['limits.ts', 'errors', 'clock', 'logging', 'fs'],
  // the KV client contract with domain types (KvClient): what the gRPC client and the
  // in-process coordinator both offer, so it may know nothing of either.
  ['kv'],
  // the token ring and what it is built from: members, ring states, token ranges.
  ['ring'],
  // records, their codec, the storage engines and the WAL.
  ['storage'],
  // the wire: protobuf codecs, generated types, error statuses, channel options.
  ['protocol'],
  // the replica port: PeerTransport, the replica side (LocalReplica, its Merkle tree)
  // and peer liveness, which every user of the port reads.
  ['replica'],
  // the adapters of that port: gRPC and the in-memory network.
  ['transport'],
  // the services built on the port, each using only the ones before it.
  ['repair'],
  ['streaming'],
  ['membership'],
  ['coordinator'],
  ['handoff'],
  // backup and restore: snapshots read over the replica port, restores through it.
  ['backup'],
  // the edge: TLS and call guards, the client library, the public gRPC services,
  // Prometheus adapters, the Kubernetes client, discovery adapters, node configuration.
  ['security'],
  ['client'],
  ['api'],
  ['metrics'],
  ['kubernetes'],
  ['discovery'],
  ['config'],
  // the assembly of a node from its parts.
  ['node'],
  // programs: the scale controller, the benchmark harness, the command line.
  ['controller', 'bench'],
  ['cli'],
];

const escape = (name) => name.replace(/[.]/g, '\\.');
const pathOf = (names) => `^src/(${names.map(escape).join('|')})(/|$)`;

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer[0].replace('.ts', '')}`,
  comment: `${layer.join(', ')} may not import a higher layer`,
  severity: 'error',
  from: { path: pathOf(layer) },
  to: { path: pathOf(LAYERS.slice(index + 1).flat()) },
}));

const LAYERED = pathOf(LAYERS.flat());

export default {
  forbidden: [
    ...layerRules,
    {
      name: 'not-in-a-layer',
      comment: 'A directory of src/ that LAYERS does not name: give it a place in the order first.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERED },
      to: {},
    },
    {
      name: 'to-a-directory-not-in-a-layer',
      comment: 'An import of a directory of src/ that LAYERS does not name: give it a place in the order first.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: LAYERED },
    },
    {
      name: 'no-directory-cycle',
      comment: 'Directories of src/ import each other in a cycle; the layer order cannot hold.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      comment: 'Modules import each other in a cycle.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'client-only-protocol',
      comment: 'The client library ships alone: it may use only the wire, errors, limits, TLS and the KvClient contract it implements.',
      severity: 'error',
      from: { path: pathOf(['client']) },
      to: { path: '^src/', pathNot: pathOf(['client', 'kv', 'protocol', 'errors', 'limits.ts', 'security']) },
    },
    {
      name: 'storage-engines-are-internal',
      comment:
        'Outside src/storage, only the assembly (node, cli, bench) opens an engine; everyone else ' +
        'goes through the StorageEngine interface (src/storage/storage-engine.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: pathOf(['storage', 'node', 'cli', 'bench']) },
      to: { path: '^src/storage/(engine|memory)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve to a file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
