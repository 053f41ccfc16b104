// A backup with a member down, and a restore that applies each record once, on real
// processes and real files (docs/operations/backup.md, "A member down";
// docs/decisions/0245-backup-with-members-missing.md, 0246-restore-merges-member-files.md):
//
// 1. Three nodes (N=3) take keys at W=2; then qkv-3 is killed (SIGKILL) and more keys
//    are written, some keys overwritten and some deleted, all at W=2.
// 2. `qkv backup` through qkv-1 succeeds without qkv-3: the CLI's progress and report name
//    it, the manifest lists it in missingMembers and holds the files of qkv-1 and qkv-2.
// 3. A fresh cluster of three nodes restores the set: the restore applies each key once
//    (records = distinct keys; records read = twice that, one copy per file), and every
//    W=2-acknowledged key reads back with its value and version, every deleted key as
//    not found.
// 4. Three nodes with N=2 and two of them killed: some range has no replica left, and the
//    backup fails with BACKUP_FAILED naming the ranges and both members, leaving no set.
// 5. Three nodes with N=3 and two of them killed: `qkv backup --require-all-members` fails
//    with BACKUP_FAILED naming a member and leaves no files; without it every range still
//    has qkv-1, the backup succeeds with one file, and its warning gives the bound for two
//    missing (W >= 3).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcessCluster } from '../support/process-cluster.js';
import { qkvCli } from '../support/cluster-steps.js';
import { tempDir } from '../support/temp-dir.js';
import { DirectoryBackupStore } from '../../src/backup/directory-backup-store.js';

const EXTRA_ARGS = ['--probe-interval-ms', '500', '--vnodes', '32'];

const clusters: ProcessCluster[] = [];
after(async () => {
  for (const cluster of clusters) await cluster.stopAll();
});

interface Acknowledged {
  /** null: deleted at W=2. */
  readonly value: Buffer | null;
  readonly stamp: string;
  readonly nodeId: string;
}

function valueOf(key: string, round: number): Buffer {
  return Buffer.from(`round ${round} of ${key} `.repeat(6));
}

test('a backup with a member killed names it as missing, and restoring the set brings back every W=2 write once per key', { timeout: 600_000 }, async () => {
  const backupDir = await tempDir(undefined, 'qkv-backups-');
  const clusterA = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-down-a-'), extraArgs: [...EXTRA_ARGS, '--backup-dir', backupDir] });
  clusters.push(clusterA);
  const client = clusterA.client(['qkv-1', 'qkv-2'], 20_000);
  const acknowledged = new Map<string, Acknowledged>();
  const putAll = async (keys: readonly string[], round: number): Promise<void> => {
    for (let start = 0; start < keys.length; start += 100) {
      const batch = keys.slice(start, start + 100);
      const response = await client.batchPut(batch.map((key) => ({ key: Buffer.from(key), value: valueOf(key, round) })), { w: 2 });
      response.results.forEach((result, i) => {
        assert.ok(result.ok, `${batch[i]} was not acknowledged at W=2`);
        acknowledged.set(batch[i]!, { value: valueOf(batch[i]!, round), stamp: String(result.version!.stamp), nodeId: result.version!.nodeId });
      });
    }
  };

  // 1. Writes with every member up, then with qkv-3 killed.
  const upKeys = Array.from({ length: 600 }, (_, i) => `up-${i}`);
  await putAll(upKeys, 1);
  await clusterA.kill9('qkv-3');
  const downKeys = Array.from({ length: 300 }, (_, i) => `down-${i}`);
  await putAll(downKeys, 1);
  await putAll(upKeys.slice(0, 100), 2);
  for (const key of upKeys.slice(500, 550)) {
    const deleted = await client.delete(Buffer.from(key), { w: 2 });
    acknowledged.set(key, { value: null, stamp: String(deleted.version!.stamp), nodeId: deleted.version!.nodeId });
  }
  client.close();

  // 2. The backup goes on without qkv-3 and says so.
  const backup = await qkvCli(clusterA, ['backup', 'nightly', '--addr', clusterA.address('qkv-1')]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stderr, /^backup qkv-\S+: 3\/3 members, missing qkv-3, [0-9]+ records/m, 'progress names the missing member');
  assert.match(backup.stderr, /^warning: qkv-3 could not be read \(/m);
  const done = /^backup (qkv-\S+) done: 2 of 3 members \(missing qkv-3\), ([0-9]+) records/m.exec(backup.stdout);
  assert.ok(done !== null, backup.stdout);
  const backupId = done[1]!;
  const manifest = JSON.parse(await readFile(join(backupDir, 'nightly', backupId, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.members.map((member: { nodeId: string }) => member.nodeId), ['qkv-1', 'qkv-2']);
  assert.deepEqual(manifest.missingMembers.map((member: { nodeId: string }) => member.nodeId), ['qkv-3']);
  assert.match(manifest.missingMembers[0].reason, /\S/, 'the manifest says why qkv-3 was not read');
  assert.deepEqual((await readdir(join(backupDir, 'nightly', backupId))).sort(), ['manifest.json', 'qkv-1.snap', 'qkv-2.snap']);
  const fileRecords = manifest.members.map((member: { records: number }) => member.records);
  assert.deepEqual(fileRecords, [acknowledged.size, acknowledged.size], 'with N=3 each member that was read holds every key (tombstones included)');
  await clusterA.stopAll();

  // 3. A fresh cluster restores the set, each key once.
  const clusterB = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-down-b-'), extraArgs: [...EXTRA_ARGS, '--backup-dir', backupDir] });
  clusters.push(clusterB);
  const restore = await qkvCli(clusterB, ['restore', 'nightly', '--json', '--addr', clusterB.address('qkv-2')]);
  assert.equal(restore.code, 0, restore.stderr);
  const report = JSON.parse(restore.stdout);
  assert.equal(report.backupId, backupId);
  assert.equal(report.recordsRead, 2 * acknowledged.size, 'every copy in the two files was read');
  assert.equal(report.records, acknowledged.size, 'each key was applied once');
  assert.ok(report.bytesSent > 0);
  const clientB = clusterB.client(clusterB.nodes.map((node) => node.id), 20_000);
  const keys = [...acknowledged.keys()];
  for (let start = 0; start < keys.length; start += 200) {
    const batch = keys.slice(start, start + 200);
    const response = await clientB.batchGet(batch.map((key) => Buffer.from(key)), { r: 3 });
    response.results.forEach((result, i) => {
      const key = batch[i]!;
      const want = acknowledged.get(key)!;
      if (want.value === null) {
        assert.equal(result.found, false, `${key} was deleted before the backup`);
        return;
      }
      assert.ok(result.found, `${key} is missing after the restore`);
      assert.deepEqual(result.value, want.value, `${key} has another value`);
      assert.deepEqual({ stamp: String(result.version!.stamp), nodeId: result.version!.nodeId }, { stamp: want.stamp, nodeId: want.nodeId }, `${key} has another version`);
    });
  }
  clientB.close();
});

test('a backup that finds no readable replica of some range fails, naming the members, and leaves no set', { timeout: 300_000 }, async () => {
  const backupDir = await tempDir(undefined, 'qkv-backups-');
  const cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-lost-'), extraArgs: [...EXTRA_ARGS, '--replication-factor', '2', '--backup-dir', backupDir] });
  clusters.push(cluster);
  const client = cluster.client(['qkv-1'], 20_000);
  await client.batchPut(Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k-${i}`), value: Buffer.from('v') })));
  client.close();
  await cluster.kill9('qkv-2');
  await cluster.kill9('qkv-3');
  const backup = await qkvCli(cluster, ['backup', 'nightly', '--addr', cluster.address('qkv-1')]);
  assert.notEqual(backup.code, 0, backup.stdout);
  assert.match(backup.stderr, /^qkv: BACKUP_FAILED: .*no member that could be read holds [0-9]+ of [0-9]+ token ranges, e\.g\. \([0-9]+, [0-9]+\] held by qkv-[23], qkv-[23];.*; could not read: qkv-2 \(PEER_UNREACHABLE: .+\), qkv-3 \(PEER_UNREACHABLE: .+\)$/m);
  assert.deepEqual(await new DirectoryBackupStore(join(backupDir, 'nightly')).list(''), [], 'a failed backup leaves no files');
});

test('with two of three members down (N=3) a backup that requires every member fails, one that does not goes on, and its warning says W >= 3, not W = 1, is what the set holds for sure', { timeout: 300_000 }, async () => {
  const backupDir = await tempDir(undefined, 'qkv-backups-');
  const cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-two-down-'), extraArgs: [...EXTRA_ARGS, '--backup-dir', backupDir] });
  clusters.push(cluster);
  const client = cluster.client(['qkv-1'], 20_000);
  await client.batchPut(Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k-${i}`), value: Buffer.from('v') })), { w: 3 });
  client.close();
  await cluster.kill9('qkv-2');
  await cluster.kill9('qkv-3');
  const required = await qkvCli(cluster, ['backup', 'nightly', '--require-all-members', '--addr', cluster.address('qkv-1')]);
  assert.notEqual(required.code, 0, required.stdout);
  assert.match(required.stderr, /^qkv: BACKUP_FAILED: .*could not read qkv-2 \(PEER_UNREACHABLE: .+\), and every member was required$/m);
  assert.deepEqual(await new DirectoryBackupStore(join(backupDir, 'nightly')).list(''), [], 'a backup that required every member leaves no files');
  const backup = await qkvCli(cluster, ['backup', 'nightly', '--addr', cluster.address('qkv-1')]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /^backup qkv-\S+ done: 1 of 3 members \(missing qkv-2, qkv-3\), 50 records/m);
  // A W=2 write acknowledged by qkv-2 and qkv-3 alone is in neither file that was read.
  assert.match(backup.stderr, /^warning: the set holds every write acknowledged at W >= 3; a write acknowledged at W <= 2 by missing members only may be absent/m);
  assert.doesNotMatch(backup.stderr, /\(W=1\)/);
});
