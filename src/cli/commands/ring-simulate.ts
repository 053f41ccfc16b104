// `qkv ring simulate`: the command-line face of src/ring/ring-simulation.ts. It parses
// and checks its flags, runs the simulation and prints a table for people or, with
// --json, one JSON document for machines. A bad flag is one line on stderr and exit
// code 2, the usual code for a usage error; nothing is simulated then.
import { parseArgs } from 'node:util';
import {
  NODE_ID_BYTES_MAX,
  REPLICATION_FACTOR_DEFAULT,
  REPLICATION_FACTOR_MAX,
  RING_MEMBERS_MAX,
  RING_SIMULATE_KEYS_MAX,
  RING_TOKENS_MAX,
  RING_VNODES_DEFAULT,
  RING_VNODES_MAX,
} from '../../limits.js';
import {
  NODE_PREFIX_DEFAULT,
  PLACEMENT_STRATEGIES,
  simulatePlacement,
  type LoadStats,
  type MovementStats,
  type PlacementStrategy,
  type SimulationOptions,
  type SimulationResult,
} from '../../ring/ring-simulation.js';
import { loadXxHash64 } from '../../ring/token-hasher.js';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

const COMMAND = 'qkv ring simulate';
const NODES_DEFAULT = 10;
const KEYS_DEFAULT = 1_000_000;

export const RING_SIMULATE_USAGE = `usage: ${COMMAND} [options]

Places synthetic keys with each strategy and prints the load per node and the share of
keys that move when one node is added or removed.

  --strategy <s>      modulo | consistent | virtual | all   (default all)
  --nodes <n>         nodes before the change, 1..${RING_MEMBERS_MAX - 1}   (default ${NODES_DEFAULT})
  --keys <n>          keys to place, 1..${RING_SIMULATE_KEYS_MAX}   (default ${KEYS_DEFAULT})
  --vnodes <n>        tokens per node for 'virtual', 1..${RING_VNODES_MAX}   (default ${RING_VNODES_DEFAULT})
  --replicas <n>      replicas per key (N), 1..${REPLICATION_FACTOR_MAX}   (default ${REPLICATION_FACTOR_DEFAULT})
  --node-prefix <p>   node i is named <p>i; tokens hash the names   (default ${NODE_PREFIX_DEFAULT})
  --json              print one JSON document instead of tables
  -h, --help          print this help
`;

class UsageError extends Error {}

function parseCount(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseStrategies(text: string | undefined): PlacementStrategy[] {
  if (text === undefined || text === 'all') return [...PLACEMENT_STRATEGIES];
  const strategy = PLACEMENT_STRATEGIES.find((candidate) => candidate === text);
  if (strategy === undefined) {
    throw new UsageError(`--strategy must be one of ${[...PLACEMENT_STRATEGIES, 'all'].join(', ')}, got ${JSON.stringify(text)}`);
  }
  return [strategy];
}

type ParsedCommand = { help: true } | { help: false; json: boolean; options: SimulationOptions };

function parseCommand(argv: string[]): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        strategy: { type: 'string' },
        nodes: { type: 'string' },
        keys: { type: 'string' },
        vnodes: { type: 'string' },
        replicas: { type: 'string' },
        'node-prefix': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    // parseArgs reports unknown flags, missing values and stray arguments as TypeErrors.
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new UsageError(message);
  }
  if (values.help) return { help: true };
  const strategies = parseStrategies(values.strategy);
  // The add scenario builds a ring with one more node than asked for.
  const nodes = parseCount('nodes', values.nodes, NODES_DEFAULT, 1, RING_MEMBERS_MAX - 1);
  const keys = parseCount('keys', values.keys, KEYS_DEFAULT, 1, RING_SIMULATE_KEYS_MAX);
  const vnodes = parseCount('vnodes', values.vnodes, RING_VNODES_DEFAULT, 1, RING_VNODES_MAX);
  const replicas = parseCount('replicas', values.replicas, REPLICATION_FACTOR_DEFAULT, 1, REPLICATION_FACTOR_MAX);
  const nodePrefix = values['node-prefix'] ?? NODE_PREFIX_DEFAULT;
  // Leave room for the largest index so every node id stays within the id limit.
  const prefixBytesMax = NODE_ID_BYTES_MAX - String(nodes).length;
  if (Buffer.byteLength(nodePrefix, 'utf8') > prefixBytesMax) {
    throw new UsageError(`--node-prefix must be at most ${prefixBytesMax} bytes with --nodes ${nodes}`);
  }
  if (strategies.includes('virtual') && (nodes + 1) * vnodes > RING_TOKENS_MAX) {
    throw new UsageError(
      `--nodes ${nodes} with --vnodes ${vnodes} needs ${(nodes + 1) * vnodes} tokens (with the added node); the limit is ${RING_TOKENS_MAX}`,
    );
  }
  return { help: false, json: values.json, options: { strategies, nodes, keys, vnodes, replicas, nodePrefix } };
}

function percent(value: number): string {
  return `${value.toFixed(2)}%`;
}

function padRow(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, index) => (index < 2 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  ').trimEnd();
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => row[index]!.length)));
  return [padRow(header, widths), ...rows.map((row) => padRow(row, widths))].join('\n');
}

function strategyLabel(strategy: PlacementStrategy, tokensPerNode: number): string {
  return strategy === 'modulo' ? 'modulo' : `${strategy} (${tokensPerNode} token${tokensPerNode === 1 ? '' : 's'}/node)`;
}

function loadRow(label: string, kind: string, stats: LoadStats): string[] {
  return [
    label,
    kind,
    String(stats.min),
    String(stats.max),
    stats.mean.toFixed(1),
    percent(stats.stddevPercentOfMean),
    stats.maxOverMean.toFixed(3),
  ];
}

function movementCells(stats: MovementStats | null): string[] {
  if (stats === null) return ['n/a', 'n/a', 'n/a'];
  return [percent(stats.keysMovedPercent), percent(stats.replicasMovedPercent), percent(stats.idealPercent)];
}

export function formatSimulationTable(result: SimulationResult): string {
  const { nodes, keys, vnodes, replicas, nodePrefix } = result;
  const names = nodes === 1 ? `${nodePrefix}0` : `${nodePrefix}0..${nodePrefix}${nodes - 1}`;
  const lines = [`${COMMAND}: ${nodes} nodes (${names}), ${keys} keys, ${replicas} replicas per key, ${vnodes} vnodes for 'virtual'`, ''];
  const loadRows = result.results.flatMap((entry) => {
    const label = strategyLabel(entry.strategy, entry.tokensPerNode);
    return [loadRow(label, 'primary', entry.primaryLoad), loadRow('', `replicas (N=${Math.min(replicas, nodes)})`, entry.replicaLoad)];
  });
  lines.push('Load per node (keys held)');
  lines.push(table(['strategy', 'counting', 'min', 'max', 'mean', 'stddev/mean', 'max/mean'], loadRows));
  lines.push('');
  const moveRows = result.results.map((entry) => [
    strategyLabel(entry.strategy, entry.tokensPerNode),
    '',
    ...movementCells(entry.addOneNode),
    ...movementCells(entry.removeOneNode),
  ]);
  lines.push(`Keys moved: add one node (${nodes} -> ${nodes + 1}), remove one node (${nodes} -> ${nodes - 1})`);
  lines.push(table(['strategy', '', 'add: keys', 'add: replicas', 'add: ideal', 'remove: keys', 'remove: replicas', 'remove: ideal'], moveRows));
  lines.push('');
  lines.push('keys: keys whose primary node changed. replicas: replicas now on a node that did not hold them.');
  lines.push(`ideal: only the added node's fair share moves, 1/(n+1) = ${percent(100 / (nodes + 1))}; only the removed node's, 1/n = ${percent(100 / nodes)}.`);
  return lines.join('\n') + '\n';
}

/** Runs `qkv ring simulate` with `argv` (the arguments after `simulate`); resolves to the exit code. */
export async function runRingSimulate(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err.write(`${COMMAND}: ${error.message} (see --help)\n`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    out.write(RING_SIMULATE_USAGE);
    return EXIT_OK;
  }
  const result = simulatePlacement(parsed.options, await loadXxHash64());
  if (parsed.json) {
    out.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    out.write(formatSimulationTable(result));
  }
  return EXIT_OK;
}
