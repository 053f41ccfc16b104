// The configuration of `qkv controller`: which QuorumKVCluster and StatefulSet it sizes,
// and how often it looks. Like the node's (src/config/node-config.ts) every field is
// listed once and its flag (`--poll-ms`) and environment variable (`QKV_POLL_MS`) are
// derived from the name; flags win over the environment. No config file: the chart
// sets the environment and nothing else.
import { parseArgs } from 'node:util';
import { ConfigInvalidError } from '../errors/errors.js';
import { LOG_LEVELS, type LogLevel } from '../logging/log-level.js';
import { booleanField, choiceField, integerField, stringField, type ConfigField } from '../config/config-field.js';
import {
  CONTROLLER_POLL_MS_DEFAULT,
  CONTROLLER_RESYNC_MS_DEFAULT,
  CONTROLLER_RPC_TIMEOUT_MS_DEFAULT,
  REQUEST_TIMEOUT_MS_CEILING,
} from '../limits.js';
import { BUILT_IN_ADMIN } from '../security/user-roles.js';

export interface ControllerConfig {
  /** Name of the QuorumKVCluster whose spec.replicas the controller follows. */
  readonly clusterResource: string;
  /** Name of the StatefulSet it sizes; empty means the same as the cluster resource. */
  readonly statefulset: string;
  /** Empty means the pod's own namespace. */
  readonly namespace: string;
  /** Members' gRPC port when a pod's spec names no `grpc` container port. */
  readonly grpcPort: number;
  readonly host: string;
  /** /metrics, /livez and /readyz. */
  readonly httpPort: number;
  readonly resyncMs: number;
  readonly pollMs: number;
  readonly rpcTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  /** ca.crt and client.<user>.crt/.key for the members' Admin service (src/security/tls-credentials.ts). */
  readonly certsDir: string;
  /** The client certificate's user; it needs the admin role (decommission, cleanup). */
  readonly user: string;
  /** Plaintext, for members started with --insecure. */
  readonly insecure: boolean;
  /** How often the backup controller looks for new QuorumKVBackups and due schedules. */
  readonly backupPollMs: number;
  /** The deadline of one whole cluster backup (Admin.Backup). */
  readonly backupTimeoutMs: number;
}

export const CONTROLLER_CONFIG_DEFAULTS: ControllerConfig = {
  clusterResource: '',
  statefulset: '',
  namespace: '',
  grpcPort: 7400,
  host: '0.0.0.0',
  httpPort: 7480,
  resyncMs: CONTROLLER_RESYNC_MS_DEFAULT,
  pollMs: CONTROLLER_POLL_MS_DEFAULT,
  rpcTimeoutMs: CONTROLLER_RPC_TIMEOUT_MS_DEFAULT,
  logLevel: 'info',
  logPretty: false,
  certsDir: '',
  user: BUILT_IN_ADMIN,
  insecure: false,
  backupPollMs: 10_000,
  backupTimeoutMs: 6 * 60 * 60 * 1000,
};

const HOUR_MS = 60 * 60 * 1000;

const FIELDS: { readonly [K in keyof ControllerConfig]: ConfigField<ControllerConfig[K]> } = {
  clusterResource: stringField('QuorumKVCluster whose spec.replicas the controller follows (required)'),
  statefulset: stringField('StatefulSet it sizes (default: the cluster resource name)'),
  namespace: stringField("namespace of both (default: the pod's own)"),
  grpcPort: integerField("members' gRPC port when a pod names no grpc port", 1, 65535),
  host: stringField('address the HTTP port listens on'),
  httpPort: integerField('HTTP port for /metrics, /livez and /readyz', 1, 65535),
  resyncMs: integerField('how often it looks at the cluster when nothing moves (ms)', 100, HOUR_MS),
  pollMs: integerField('how often it looks while a member joins or leaves (ms)', 50, HOUR_MS),
  rpcTimeoutMs: integerField('deadline of one Status, Decommission or Cleanup call to a member (ms)', 10, REQUEST_TIMEOUT_MS_CEILING),
  logLevel: choiceField('log level', LOG_LEVELS),
  logPretty: booleanField('human-readable logs instead of JSON (development)'),
  certsDir: stringField("directory with ca.crt and client.<user>.crt/.key for the members' Admin service (required unless insecure)"),
  user: stringField('user of the client certificate; needs the admin role'),
  insecure: booleanField('plaintext, for members started with --insecure'),
  backupPollMs: integerField('how often it looks for new QuorumKVBackups and due backup schedules (ms)', 100, HOUR_MS),
  backupTimeoutMs: integerField('deadline of one whole cluster backup (ms)', 1000, 7 * 24 * HOUR_MS),
};

type Key = keyof ControllerConfig;
const KEYS = Object.keys(FIELDS) as Key[];
type MutableConfig = { -readonly [K in Key]: ControllerConfig[K] };

function flagNameOf(key: Key): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

function envNameOf(key: Key): string {
  return `QKV_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}

export function loadControllerConfig(sources: { argv: readonly string[]; env: Readonly<Record<string, string | undefined>> }): ControllerConfig {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const key of KEYS) options[flagNameOf(key)] = { type: FIELDS[key].boolean ? 'boolean' : 'string' };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: [...sources.argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigInvalidError(error instanceof Error ? error.message : String(error));
  }
  const config: MutableConfig = { ...CONTROLLER_CONFIG_DEFAULTS };
  for (const key of KEYS) {
    const text = sources.env[envNameOf(key)];
    if (text !== undefined) set(config, key, () => FIELDS[key].fromText(text), envNameOf(key));
  }
  for (const key of KEYS) {
    const value = flags[flagNameOf(key)];
    if (value === undefined) continue;
    set(config, key, () => (typeof value === 'boolean' ? value : FIELDS[key].fromText(value)), `--${flagNameOf(key)}`);
  }
  if (config.clusterResource === '') throw new ConfigInvalidError(`--cluster-resource (${envNameOf('clusterResource')}) is required: the QuorumKVCluster to follow`);
  if (config.statefulset === '') config.statefulset = config.clusterResource;
  if (config.certsDir === '' && !config.insecure) {
    throw new ConfigInvalidError(`--certs-dir (${envNameOf('certsDir')}) is required: the admin client certificate for the members' Admin service, or --insecure for members started with --insecure`);
  }
  return config;
}

function set<K extends Key>(config: MutableConfig, key: K, parse: () => ControllerConfig[K], source: string): void {
  try {
    config[key] = parse();
  } catch (error) {
    throw new ConfigInvalidError(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Usage text for `qkv controller --help`. */
export function controllerConfigUsage(): string {
  return KEYS.map((key) => {
    const field = FIELDS[key];
    const left = `  --${flagNameOf(key)}${field.boolean ? '' : ` ${field.placeholder ?? 'VALUE'}`}`;
    return `${left}\n      ${field.describe} (env ${envNameOf(key)}; default ${JSON.stringify(CONTROLLER_CONFIG_DEFAULTS[key])})`;
  }).join('\n');
}
