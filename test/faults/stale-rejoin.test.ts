// Tombstone safety at start-up: a node whose data directory was last used longer ago
// than the tombstone grace period refuses to start with REPLICA_STALE (peers may have
// purged tombstones for values it still holds); with allowStaleRejoin it starts, warns,
// and repairs. A node within the grace period starts normally and records the time.
// The node runs as deployed, with its certificates (made by the test) on both ports.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { NODE_CONFIG_DEFAULTS, type NodeConfig } from '../../src/config/node-config.js';
import { ReplicaStaleError } from '../../src/errors/errors.js';
import { QuorumNode } from '../../src/node/quorum-node.js';
import { readLastSeenMs, writeLastSeenMs } from '../../src/node/last-seen.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';

const GRACE_MS = 60 * 60 * 1000;

async function configIn(dir: string, overrides: Partial<NodeConfig> = {}): Promise<NodeConfig> {
  const dataDir = join(dir, 'node');
  await mkdir(dataDir, { recursive: true });
  const certs = await ensureLocalCertificates({ dir: join(dir, 'certs'), nodeIds: ['solo'], users: [] });
  return {
    ...NODE_CONFIG_DEFAULTS,
    nodeId: 'solo',
    host: '127.0.0.1',
    grpcPort: 0,
    peerPort: 0,
    httpPort: 0,
    tlsDir: certs.nodeDirs.get('solo')!,
    dataDir,
    replicationFactor: 1,
    vnodes: 4,
    tombstoneGraceMs: GRACE_MS,
    hintWindowMs: GRACE_MS / 2,
    logLevel: 'error',
    ...overrides,
  };
}

it('refuses to start after an outage longer than the tombstone grace period', async () => {
  const config = await configIn(await tempDir());
  await writeLastSeenMs(config.dataDir, Date.now() - 2 * GRACE_MS);
  await assert.rejects(QuorumNode.start(config, new RecordingLogger()), (error: unknown) => {
    assert.ok(error instanceof ReplicaStaleError);
    assert.equal(error.code, 'REPLICA_STALE');
    assert.match(error.message, /--allow-stale-rejoin/);
    return true;
  });
});

it('starts with allowStaleRejoin, warns, and records a fresh last-seen time', async () => {
  const config = await configIn(await tempDir(), { allowStaleRejoin: true });
  await writeLastSeenMs(config.dataDir, Date.now() - 2 * GRACE_MS);
  const logger = new RecordingLogger();
  const node = await QuorumNode.start(config, logger);
  try {
    assert.ok(logger.entries.some((entry) => entry.level === 'warn' && /grace period/.test(entry.message)), 'warned');
    assert.ok(Date.now() - (await readLastSeenMs(config.dataDir))! < GRACE_MS);
  } finally {
    await node.drain('test over');
  }
});

it('a node down for less than the grace period starts normally', async () => {
  const config = await configIn(await tempDir());
  await writeLastSeenMs(config.dataDir, Date.now() - GRACE_MS / 2);
  const node = await QuorumNode.start(config, new RecordingLogger());
  await node.drain('test over');
  assert.ok(Date.now() - (await readLastSeenMs(config.dataDir))! < 60_000, 'drain records the time');
});
