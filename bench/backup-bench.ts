// `npm run bench:backup`: how fast a cluster backup and a restore go, against how fast
// the same disk copies the same bytes, and what a backup costs the cluster's writes.
//
// It starts a 3-node cluster (N=3, durable storage, TLS) with a --backup-dir under the
// run's directory, loads --records keys of --value-bytes, and then measures, in one run:
//   1. write throughput without a backup: --writers closed-loop Put clients for
//      --write-seconds;
//   2. the same writers while `Admin.Backup` runs at the node's default pace
//      (--backup-bytes-per-second, 64 MiB/s): puts per second during the backup, and the
//      backup's own MB/s and keys/s;
//   3. an unthrottled backup with no writers: MB/s and keys/s of snapshot files;
//   4. the disk's copy speed: the snapshot files of that set copied with fs.copyFile and
//      fsync'd, in the same directory tree;
//   5. a restore of that set into a new, empty 3-node cluster: MB/s (snapshot bytes) and
//      keys/s (records read from the set: every key N times, once per member file; the
//      restore writes each key once, docs/decisions/0246-restore-merges-member-files.md).
//
//   npm run bench:backup -- [--records 100000] [--value-bytes 200] [--writers 16] [--write-seconds 8] [--dir DIR]
import { copyFile, mkdir, open, readdir, stat } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ProcessGroup } from './compare/managed-process.js';
import { startQuorumKvCluster, type RunningQuorumKvCluster } from './compare/quorumkv-cluster.js';
import { QuorumKvClient } from '../src/client/quorum-kv-client.js';
import { clientChannelCredentials } from '../src/security/tls-credentials.js';
import { BUILT_IN_ADMIN } from '../src/security/user-roles.js';
import { BACKUP_BYTES_PER_SECOND_CEILING, BACKUP_BYTES_PER_SECOND_DEFAULT } from '../src/limits.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'value-bytes': { type: 'string', default: '200' },
    writers: { type: 'string', default: '16' },
    'write-seconds': { type: 'string', default: '8' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: npm run bench:backup -- [--records 100000] [--value-bytes 200] [--writers 16] [--write-seconds 8] [--dir DIR]');
  process.exit(0);
}
const RECORDS = Number(values.records);
const VALUE_BYTES = Number(values['value-bytes']);
const WRITERS = Number(values.writers);
const WRITE_SECONDS = Number(values['write-seconds']);
const MIB = 1024 * 1024;

const runDir = values.dir ?? mkdtempSync(join(tmpdir(), 'qkv-bench-backup-'));
const backupDir = join(runDir, 'backups');
await mkdir(backupDir, { recursive: true });
const group = new ProcessGroup();
process.on('SIGINT', () => void group.stopAll().finally(() => process.exit(130)));

async function startCluster(name: string, backupBytesPerSecond: number): Promise<RunningQuorumKvCluster> {
  const dir = join(runDir, name);
  await mkdir(dir, { recursive: true });
  return startQuorumKvCluster(group, {
    dir,
    size: 3,
    replicationFactor: 3,
    fsync: 'always',
    readyTimeoutMs: 120_000,
    extraArgs: ['--backup-dir', backupDir, '--backup-bytes-per-second', String(backupBytesPerSecond)],
  });
}

function clientOf(cluster: RunningQuorumKvCluster, dir: string): QuorumKvClient {
  return new QuorumKvClient({ addresses: cluster.addresses, timeoutMs: 30_000, credentials: clientChannelCredentials(join(dir, 'certs'), BUILT_IN_ADMIN) });
}

async function load(client: QuorumKvClient): Promise<void> {
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  for (let start = 0; start < RECORDS; start += 500) {
    const items = Array.from({ length: Math.min(500, RECORDS - start) }, (_, i) => ({ key: Buffer.from(`key-${start + i}`), value }));
    const response = await client.batchPut(items);
    if (response.results.some((result) => !result.ok)) throw new Error('a load write failed');
  }
}

/** Closed-loop writers until `until` resolves; returns puts and seconds. */
async function writeUntil(client: QuorumKvClient, until: Promise<unknown>): Promise<{ puts: number; seconds: number }> {
  let stop = false;
  let puts = 0;
  const started = performance.now();
  const value = Buffer.alloc(VALUE_BYTES, 'w');
  const loops = Array.from({ length: WRITERS }, async (_, writer) => {
    for (let i = 0; !stop; i += 1) {
      await client.put(Buffer.from(`write-${writer}-${i % 5000}`), value);
      puts += 1;
    }
  });
  await until;
  stop = true;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(loops);
  return { puts, seconds };
}

async function backUp(client: QuorumKvClient, destination: string) {
  const started = performance.now();
  const last = await client.backup(destination, () => {}, { timeoutMs: 3_600_000 });
  return { backupId: last.backupId, bytes: Number(last.bytes), records: Number(last.records), seconds: (performance.now() - started) / 1000 };
}

async function copySpeed(from: string, to: string): Promise<{ bytes: number; seconds: number }> {
  await mkdir(to, { recursive: true });
  const files = (await readdir(from)).filter((name) => name.endsWith('.snap'));
  let bytes = 0;
  const started = performance.now();
  for (const name of files) {
    await copyFile(join(from, name), join(to, name));
    const handle = await open(join(to, name), 'r+');
    await handle.sync();
    await handle.close();
    bytes += (await stat(join(to, name))).size;
  }
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

const mbps = (bytes: number, seconds: number) => `${(bytes / MIB / seconds).toFixed(1)} MB/s`;
const perSecond = (count: number, seconds: number) => `${Math.round(count / seconds)}/s`;

try {
  console.log(`bench:backup: 3 nodes, N=3, fsync=always, TLS; ${RECORDS} keys of ${VALUE_BYTES} B; ${WRITERS} writers; run directory ${runDir}`);
  const source = await startCluster('source', BACKUP_BYTES_PER_SECOND_DEFAULT);
  const client = clientOf(source, join(runDir, 'source'));
  await load(client);

  const baseline = await writeUntil(client, new Promise((resolve) => setTimeout(resolve, WRITE_SECONDS * 1000)));
  let paced: Awaited<ReturnType<typeof backUp>> | undefined;
  const during = await writeUntil(client, backUp(client, 'paced').then((result) => (paced = result)));
  console.log(`writes without a backup       ${perSecond(baseline.puts, baseline.seconds)} puts (${baseline.puts} in ${baseline.seconds.toFixed(1)} s)`);
  console.log(`writes during a paced backup  ${perSecond(during.puts, during.seconds)} puts (${during.puts} in ${during.seconds.toFixed(1)} s)`);
  console.log(`paced backup (${BACKUP_BYTES_PER_SECOND_DEFAULT / MIB} MiB/s pace) ${mbps(paced!.bytes, paced!.seconds)}, ${perSecond(paced!.records, paced!.seconds)} keys, ${(paced!.bytes / MIB).toFixed(1)} MiB in ${paced!.seconds.toFixed(1)} s`);
  client.close();
  await source.stop();

  // Unpaced, idle cluster: the backup path's own speed.
  const idle = await startCluster('source', BACKUP_BYTES_PER_SECOND_CEILING);
  const idleClient = clientOf(idle, join(runDir, 'source'));
  const full = await backUp(idleClient, 'unpaced');
  idleClient.close();
  await idle.stop();
  const copy = await copySpeed(join(backupDir, 'unpaced', full.backupId), join(runDir, 'copy'));
  console.log(`unpaced backup                ${mbps(full.bytes, full.seconds)}, ${perSecond(full.records, full.seconds)} keys (${(full.bytes / MIB).toFixed(1)} MiB, ${full.records} records in ${full.seconds.toFixed(1)} s)`);
  console.log(`disk copy of the same files   ${mbps(copy.bytes, copy.seconds)} (fs.copyFile + fsync, ${(copy.bytes / MIB).toFixed(1)} MiB in ${copy.seconds.toFixed(2)} s)`);

  const target = await startCluster('target', BACKUP_BYTES_PER_SECOND_CEILING);
  const targetClient = clientOf(target, join(runDir, 'target'));
  const started = performance.now();
  const restored = await targetClient.restore('unpaced', full.backupId, () => {}, { timeoutMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  console.log(`restore into 3 new nodes      ${mbps(Number(restored.bytes), seconds)}, ${perSecond(Number(restored.recordsRead), seconds)} keys (${restored.recordsRead} records read, ${restored.records} written once per key, verification included, in ${seconds.toFixed(1)} s)`);
  const check = await targetClient.get(Buffer.from(`key-${RECORDS - 1}`), { r: 3 });
  if (!check.found) throw new Error('the restored cluster lacks the last key');
  targetClient.close();
  await target.stop();
} finally {
  await group.stopAll();
  if (values.dir === undefined) rmSync(runDir, { recursive: true, force: true });
}
