// Builds a NodeConfig from its four sources in precedence order: defaults < config
// file (JSON, chosen by --config or QKV_CONFIG) < QKV_* environment < flags. Every
// problem is a ConfigInvalidError whose message names the source (`--grpc-port`,
// `QKV_GRPC_PORT`, `node.json: grpcPort`) and what was wrong, and the node does not
// start; nothing is guessed or silently dropped (unknown keys and flags are errors).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigInvalidError } from '../errors/errors.js';
import {
  NODE_CONFIG_DEFAULTS,
  NODE_CONFIG_FIELDS,
  envNameOf,
  flagNameOf,
  type NodeConfig,
  type NodeConfigKey,
} from './node-config.js';
import type { ConfigField } from './config-field.js';

export interface ConfigSources {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; injected so tests need no files. */
  readonly readTextFile?: (path: string) => string;
}

const CONFIG_FLAG = 'config';
const CONFIG_ENV = 'QKV_CONFIG';

const KEYS = Object.keys(NODE_CONFIG_FIELDS) as NodeConfigKey[];

type MutableConfig = { -readonly [K in NodeConfigKey]: NodeConfig[K] };

export function loadNodeConfig(sources: ConfigSources): NodeConfig {
  const flags = parseFlags(sources.argv);
  const config: MutableConfig = { ...NODE_CONFIG_DEFAULTS };

  const configPath = flags.get(CONFIG_FLAG) ?? sources.env[CONFIG_ENV];
  if (typeof configPath === 'string' && configPath !== '') {
    applyFile(config, configPath, sources.readTextFile ?? ((path) => readFileSync(path, 'utf8')));
  }
  for (const key of KEYS) {
    const text = sources.env[envNameOf(key)];
    if (text !== undefined) set(config, key, () => NODE_CONFIG_FIELDS[key].fromText(text), envNameOf(key));
  }
  for (const key of KEYS) {
    const value = flags.get(flagNameOf(key));
    if (value === undefined) continue;
    set(config, key, () => (typeof value === 'boolean' ? value : NODE_CONFIG_FIELDS[key].fromText(value)), `--${flagNameOf(key)}`);
  }
  checkWhole(config);
  return config;
}

/** Usage text for `qkv server --help`, generated from the schema. */
export function nodeConfigUsage(): string {
  const lines = [`  --${CONFIG_FLAG} FILE`, `      JSON config file (env ${CONFIG_ENV})`];
  for (const key of KEYS) {
    const field = NODE_CONFIG_FIELDS[key];
    const left = `  --${flagNameOf(key)}${field.boolean ? '' : ` ${field.placeholder ?? 'VALUE'}`}`;
    const shownDefault = showDefault(key);
    lines.push(left, `      ${field.describe} (env ${envNameOf(key)}; default ${shownDefault})`);
  }
  return lines.join('\n');
}

function showDefault<K extends NodeConfigKey>(key: K): string {
  const field: ConfigField<NodeConfig[K]> = NODE_CONFIG_FIELDS[key];
  const value = NODE_CONFIG_DEFAULTS[key];
  if (key === 'peers') return 'none';
  if (key === 'dataDir') return 'data/<node-id>';
  if (key === 'nodeId') return 'the host name';
  return field.format === undefined ? JSON.stringify(value) : field.format(value);
}

function parseFlags(argv: readonly string[]): Map<string, string | boolean> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { [CONFIG_FLAG]: { type: 'string' } };
  for (const key of KEYS) options[flagNameOf(key)] = { type: NODE_CONFIG_FIELDS[key].boolean ? 'boolean' : 'string' };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return new Map(Object.entries(values).filter((entry): entry is [string, string | boolean] => entry[1] !== undefined));
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words.
    throw new ConfigInvalidError(error instanceof Error ? error.message : String(error));
  }
}

function applyFile(config: MutableConfig, path: string, readTextFile: (path: string) => string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readTextFile(path));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigInvalidError(`config file ${path}: ${reason}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigInvalidError(`config file ${path}: must hold a JSON object`);
  }
  for (const [name, value] of Object.entries(parsed)) {
    if (!isConfigKey(name)) throw new ConfigInvalidError(`config file ${path}: unknown key "${name}"; known keys: ${KEYS.join(', ')}`);
    set(config, name, () => NODE_CONFIG_FIELDS[name].fromJson(value), `config file ${path}: ${name}`);
  }
}

function isConfigKey(name: string): name is NodeConfigKey {
  return Object.hasOwn(NODE_CONFIG_FIELDS, name);
}

function set<K extends NodeConfigKey>(config: MutableConfig, key: K, parse: () => NodeConfig[K], source: string): void {
  try {
    config[key] = parse();
  } catch (error) {
    throw new ConfigInvalidError(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Rules that involve more than one field. */
function checkWhole(config: NodeConfig): void {
  if (config.peers.length > 0) {
    if (!config.peers.some((peer) => peer.id === config.nodeId)) {
      throw new ConfigInvalidError(
        `peers must include this node "${config.nodeId}" (set --node-id to one of: ${config.peers.map((p) => p.id).join(', ')})`,
      );
    }
  }
  // --peers lists members at their peer ports; this node's own entry shows which port
  // the list means. A list of client ports (the format before the peer port existed)
  // would make every probe land on the client port, which does not serve Replica.
  const self = config.peers.find((peer) => peer.id === config.nodeId);
  const selfPort = self === undefined ? undefined : Number(/:(\d+)$/.exec(self.address)?.[1]);
  if (selfPort !== undefined && selfPort !== config.peerPort) {
    throw new ConfigInvalidError(
      `--peers lists this node "${config.nodeId}" at port ${selfPort}, but its --peer-port is ${config.peerPort}: --peers names every member at its peer port`,
    );
  }
  const members = Math.max(1, config.peers.length);
  // With kubernetes discovery the members are not known until the pods are listed.
  if (config.discovery === 'static' && config.replicationFactor > members) {
    throw new ConfigInvalidError(
      `replication factor ${config.replicationFactor} needs at least ${config.replicationFactor} members; ${members} configured ` +
        '(add --peers or lower --replication-factor)',
    );
  }
  if (config.grpcPort === config.httpPort) throw new ConfigInvalidError(`grpc port and http port are both ${config.grpcPort}`);
  const ports = [['grpc', config.grpcPort], ['peer', config.peerPort], ['http', config.httpPort]] as const;
  for (const [name, port] of ports) {
    const other = ports.find(([otherName, otherPort]) => otherName !== name && otherPort === port);
    if (other !== undefined) throw new ConfigInvalidError(`${name} port and ${other[0]} port are both ${port}`);
  }
  // Plaintext together with TLS settings is a contradiction, most often an exported
  // QKV_INSECURE meant for another cluster: refuse it rather than silently drop TLS.
  if (config.insecure && config.tlsDir !== '') throw new ConfigInvalidError('--insecure (QKV_INSECURE) and --tls-dir (QKV_TLS_DIR) contradict each other: choose one');
  if (config.insecure && config.usersFile !== '') throw new ConfigInvalidError('--insecure (QKV_INSECURE) and --users-file (QKV_USERS_FILE) contradict each other: without TLS no caller has a user name');
}
