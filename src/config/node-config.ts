// The one typed schema of a node's configuration. Every setting is listed here once,
// with its default, its description and how it is parsed; the flag (`--grpc-port`),
// the environment variable (`QKV_GRPC_PORT`) and the config-file key (`grpcPort`) are
// all derived from the field name, so the three sources can never drift apart.
// Precedence (src/config/load-config.ts): defaults < file < environment < flags.
import { hostname } from 'node:os';
import {
  BATCH_ITEMS_MAX,
  DRAIN_TIMEOUT_MS_DEFAULT,
  COORDINATOR_IN_FLIGHT_REQUESTS_CEILING,
  COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT,
  KEY_BYTES_MAX_CEILING,
  KEY_BYTES_MAX_DEFAULT,
  READ_TIMEOUT_MS_DEFAULT,
  REQUEST_TIMEOUT_MS_CEILING,
  WRITE_TIMEOUT_MS_DEFAULT,
  REPLICATION_FACTOR_DEFAULT,
  REPLICATION_FACTOR_MAX,
  RING_VNODES_DEFAULT,
  RING_VNODES_MAX,
  VALUE_BYTES_MAX_CEILING,
  VALUE_BYTES_MAX_DEFAULT,
  FAILURE_DETECTOR_DOWN_AFTER_FAILURES_DEFAULT,
  FAILURE_DETECTOR_DOWN_AFTER_FAILURES_MAX,
  HINT_BYTES_PER_PEER_CEILING,
  HINT_BYTES_PER_PEER_DEFAULT,
  HINT_REPLAY_BYTES_PER_SECOND_DEFAULT,
  HINT_WINDOW_MS_DEFAULT,
  PEER_PROBE_INTERVAL_MS_DEFAULT,
  PEERS_READY_WAIT_MS_DEFAULT,
  PEERS_READY_WAIT_MS_MAX,
  REPAIR_INTERVAL_MS_DEFAULT,
  REPAIR_RANGES_PER_SECOND_DEFAULT,
  STREAM_BYTES_PER_SECOND_CEILING,
  BACKUP_BYTES_PER_SECOND_CEILING,
  BACKUP_BYTES_PER_SECOND_DEFAULT,
  STREAM_BYTES_PER_SECOND_DEFAULT,
  TOMBSTONE_GRACE_MS_DEFAULT,
} from '../limits.js';
import type { Member } from '../ring/member.js';
import { formatFsyncPolicy, parseFsyncPolicy, type FsyncPolicy } from '../storage/wal/fsync-policy.js';
import { checkNodeId, parsePeers } from '../discovery/static/parse-peers.js';
import { LOG_LEVELS, type LogLevel } from '../logging/log-level.js';
import { booleanField, choiceField, customField, integerField, stringField, type ConfigField } from './config-field.js';

export const DISCOVERY_KINDS = ['static', 'kubernetes'] as const;
export type DiscoveryKind = (typeof DISCOVERY_KINDS)[number];

export const STORAGE_KINDS = ['durable', 'memory'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];


export interface NodeConfig {
  readonly nodeId: string;
  readonly host: string;
  /** Client port: KV, Admin, health (and reflection when enabled). */
  readonly grpcPort: number;
  /** Peer port: the internal Replica service, mutual TLS only (unless insecure). */
  readonly peerPort: number;
  readonly httpPort: number;
  /** Directory with ca.crt, node.crt and node.key; empty means `tls` in the data directory. */
  readonly tlsDir: string;
  /** Plaintext, no authentication: anyone who reaches a port may do anything. */
  readonly insecure: boolean;
  /** JSON file of users and their roles (src/security/user-roles.ts); empty means the built-in admin only. */
  readonly usersFile: string;
  /** gRPC server reflection on the client port (grpcurl without proto files). */
  readonly reflection: boolean;
  readonly peers: readonly Member[];
  readonly discovery: DiscoveryKind;
  /** Namespace of the pods to watch; empty means the pod's own (service-account file). */
  readonly kubeNamespace: string;
  /** Label selector of this cluster's pods (kubernetes discovery). */
  readonly kubeLabelSelector: string;
  /** StatefulSet that must own a pod for it to be a member; empty: the node id without its `-<ordinal>`. */
  readonly kubeStatefulset: string;
  /** Name of the QuorumKVCluster resource to follow; empty means none. */
  readonly kubeClusterResource: string;
  /** Empty means `data/<nodeId>` under the working directory. */
  readonly dataDir: string;
  readonly storage: StorageKind;
  readonly fsync: FsyncPolicy;
  readonly replicationFactor: number;
  readonly vnodes: number;
  readonly writeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly batchItemsMax: number;
  readonly inFlightRequestsMax: number;
  readonly drainTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  readonly tombstoneGraceMs: number;
  readonly allowStaleRejoin: boolean;
  readonly downAfterFailures: number;
  readonly probeIntervalMs: number;
  readonly peersReadyWaitMs: number;
  readonly hintWindowMs: number;
  readonly hintBytesPerPeerMax: number;
  readonly hintReplayBytesPerSecond: number;
  readonly hintedWritesCountTowardW: boolean;
  readonly repairIntervalMs: number;
  readonly repairRangesPerSecond: number;
  readonly streamBytesPerSecond: number;
  /** Root of the directory backup destinations (src/backup); empty: directory backups refused. */
  readonly backupDir: string;
  /** Pace of a cluster backup this node runs, in snapshot bytes per second. */
  readonly backupBytesPerSecond: number;
}

export const NODE_CONFIG_DEFAULTS: NodeConfig = {
  nodeId: hostname(),
  host: '0.0.0.0',
  grpcPort: 7400,
  peerPort: 7500,
  httpPort: 7480,
  tlsDir: '',
  insecure: false,
  usersFile: '',
  reflection: false,
  peers: [],
  discovery: 'static',
  kubeNamespace: '',
  kubeLabelSelector: '',
  kubeStatefulset: '',
  kubeClusterResource: '',
  dataDir: '',
  storage: 'durable',
  fsync: { kind: 'always' },
  replicationFactor: REPLICATION_FACTOR_DEFAULT,
  vnodes: RING_VNODES_DEFAULT,
  writeTimeoutMs: WRITE_TIMEOUT_MS_DEFAULT,
  readTimeoutMs: READ_TIMEOUT_MS_DEFAULT,
  keyBytesMax: KEY_BYTES_MAX_DEFAULT,
  valueBytesMax: VALUE_BYTES_MAX_DEFAULT,
  batchItemsMax: BATCH_ITEMS_MAX,
  inFlightRequestsMax: COORDINATOR_IN_FLIGHT_REQUESTS_DEFAULT,
  drainTimeoutMs: DRAIN_TIMEOUT_MS_DEFAULT,
  logLevel: 'info',
  logPretty: false,
  tombstoneGraceMs: TOMBSTONE_GRACE_MS_DEFAULT,
  allowStaleRejoin: false,
  downAfterFailures: FAILURE_DETECTOR_DOWN_AFTER_FAILURES_DEFAULT,
  probeIntervalMs: PEER_PROBE_INTERVAL_MS_DEFAULT,
  peersReadyWaitMs: PEERS_READY_WAIT_MS_DEFAULT,
  hintWindowMs: HINT_WINDOW_MS_DEFAULT,
  hintBytesPerPeerMax: HINT_BYTES_PER_PEER_DEFAULT,
  hintReplayBytesPerSecond: HINT_REPLAY_BYTES_PER_SECOND_DEFAULT,
  hintedWritesCountTowardW: false,
  repairIntervalMs: REPAIR_INTERVAL_MS_DEFAULT,
  repairRangesPerSecond: REPAIR_RANGES_PER_SECOND_DEFAULT,
  streamBytesPerSecond: STREAM_BYTES_PER_SECOND_DEFAULT,
  backupDir: '',
  backupBytesPerSecond: BACKUP_BYTES_PER_SECOND_DEFAULT,
};

const HOUR_MS = 60 * 60 * 1000;

export const NODE_CONFIG_FIELDS: { readonly [K in keyof NodeConfig]: ConfigField<NodeConfig[K]> } = {
  nodeId: stringField('stable node name, the ring identity', (text) => void checkNodeId(text)),
  host: stringField('address the gRPC and HTTP ports listen on', (text) => {
    if (text.trim() === '') throw new Error('must not be empty');
  }),
  grpcPort: integerField('client gRPC port (KV, Admin, health; reflection when enabled)', 1, 65535),
  peerPort: integerField('peer gRPC port (the internal Replica service; mutual TLS only)', 1, 65535),
  httpPort: integerField('HTTP port for /metrics, /livez and /readyz', 1, 65535),
  tlsDir: stringField('directory with ca.crt, node.crt and node.key (default: <data-dir>/tls); re-read when they change'),
  insecure: booleanField('plaintext with no authentication (anyone who reaches a port may read and change every key)'),
  usersFile: stringField('JSON file of users and roles for client certificates (default: the built-in admin user only)'),
  reflection: booleanField('gRPC server reflection on the client port'),
  peers: customField<readonly Member[]>('static members, this node included, at their peer ports', 'name=host:peer-port,...', parsePeers),
  discovery: choiceField('how members are found: static (--peers) or kubernetes (pods by label)', DISCOVERY_KINDS),
  kubeNamespace: stringField("namespace of the pods to watch (default: the pod's own)"),
  kubeLabelSelector: stringField('label selector of this cluster\'s pods (kubernetes discovery)'),
  kubeStatefulset: stringField("StatefulSet that must own a pod for it to be a member (kubernetes discovery; default: the node id without its -<ordinal>)"),
  kubeClusterResource: stringField('QuorumKVCluster to take live tunables from and report status to'),
  dataDir: stringField('data directory'),
  storage: choiceField('storage engine: durable (WAL + LMDB) or memory (tests only)', STORAGE_KINDS),
  fsync: customField('WAL fsync policy', 'always|never|interval:<ms>', parseFsyncPolicy, formatFsyncPolicy),
  replicationFactor: integerField('replicas per key (N)', 1, REPLICATION_FACTOR_MAX),
  vnodes: integerField('ring tokens per node', 1, RING_VNODES_MAX),
  writeTimeoutMs: integerField('default deadline of a write when the client sets none', 1, REQUEST_TIMEOUT_MS_CEILING),
  readTimeoutMs: integerField('default deadline of a read when the client sets none', 1, REQUEST_TIMEOUT_MS_CEILING),
  keyBytesMax: integerField('largest key in bytes', 1, KEY_BYTES_MAX_CEILING),
  valueBytesMax: integerField('largest value in bytes', 0, VALUE_BYTES_MAX_CEILING),
  batchItemsMax: integerField('most items in one BatchPut or BatchGet', 1, BATCH_ITEMS_MAX),
  inFlightRequestsMax: integerField('client requests served at once; more get RESOURCE_EXHAUSTED', 1, COORDINATOR_IN_FLIGHT_REQUESTS_CEILING),
  drainTimeoutMs: integerField('how long SIGTERM waits for in-flight requests', 0, HOUR_MS),
  logLevel: choiceField('log level', LOG_LEVELS),
  logPretty: booleanField('human-readable logs instead of JSON (development)'),
  tombstoneGraceMs: integerField('how long tombstones are kept before purging (ms)', 60_000, 365 * 24 * HOUR_MS),
  allowStaleRejoin: booleanField('start even when down longer than the tombstone grace period (runs a full repair at once)'),
  downAfterFailures: integerField('consecutive unanswered calls or probes before a peer is marked down', 1, FAILURE_DETECTOR_DOWN_AFTER_FAILURES_MAX),
  probeIntervalMs: integerField('how often every peer is probed (ms)', 50, HOUR_MS),
  peersReadyWaitMs: integerField('at start, how long to wait for every peer to answer before reporting ready anyway (ms)', 0, PEERS_READY_WAIT_MS_MAX),
  hintWindowMs: integerField('hints are kept for writes at most this old, and not for peers down longer (ms)', 0, 365 * 24 * HOUR_MS),
  hintBytesPerPeerMax: integerField('hint bytes kept per peer; more are dropped', 0, HINT_BYTES_PER_PEER_CEILING),
  hintReplayBytesPerSecond: integerField('hint delivery pace per peer (bytes/s)', 1024, 1024 * 1024 * 1024),
  hintedWritesCountTowardW: booleanField('count a durable hint as an ack toward W (sloppy quorum; default strict)'),
  repairIntervalMs: integerField('background anti-entropy pass interval (ms); 0 turns it off', 0, 7 * 24 * HOUR_MS),
  repairRangesPerSecond: integerField('anti-entropy pace: token ranges compared per second', 1, 100_000),
  backupDir: stringField('directory under which `qkv backup` and `qkv restore` may write and read directory destinations (default: none, refused)'),
  backupBytesPerSecond: integerField('pace of a cluster backup run by this node (snapshot bytes per second)', 1024, BACKUP_BYTES_PER_SECOND_CEILING),
  streamBytesPerSecond: integerField('join and decommission streaming pace (key + value bytes per second)', 1024, STREAM_BYTES_PER_SECOND_CEILING),
};

export type NodeConfigKey = keyof NodeConfig;

/** `grpcPort` -> `grpc-port`. */
export function flagNameOf(key: NodeConfigKey): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** `grpcPort` -> `QKV_GRPC_PORT`. */
export function envNameOf(key: NodeConfigKey): string {
  return `QKV_${key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`;
}
