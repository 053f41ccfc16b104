// Backup and restore end to end on real processes (docs/operations/backup.md):
//
// 1. Three nodes (N=3) with a shared --backup-dir take 1500 keys; each key's acknowledged
//    version is read back and kept.
// 2. A writer keeps writing other keys (each key's value is a function of its name)
//    while `qkv backup nightly` runs; the CLI prints progress and the set's id.
// 3. Refusals, each with its code: a write-only user cannot back up
//    (PERMISSION_DENIED); a destination that climbs out of the backup directory, an
//    absolute one (BACKUP_DESTINATION_INVALID) and a gs:// one (a scheme no store serves)
//    (BACKUP_DESTINATION_UNSUPPORTED).
// 4. The writer stops, the cluster stops and its data directories are deleted.
// 5. A new cluster of four nodes starts on the same backup directory. A copy of the set
//    with one byte of one snapshot file flipped, and one with a file cut short, are
//    refused (BACKUP_CORRUPT naming the file and the reason) and nothing of them is
//    written. Then `qkv restore nightly` writes the set into the four nodes.
// 6. Every key acknowledged before the backup reads back (R=3) with its value and its
//    original version; every key written during the backup is either absent or holds
//    exactly the value that was written; a sample of keys is on all three of its replicas
//    in the new ring before anything reads it; a second restore, without --backup, takes
//    the newest set and changes nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcessCluster } from '../support/process-cluster.js';
import { qkvCli } from '../support/cluster-steps.js';
import { tempDir } from '../support/temp-dir.js';
import { isQkvError } from '../../src/errors/errors.js';

const KEYS = 1500;
const EXTRA_ARGS = ['--probe-interval-ms', '500', '--vnodes', '32'];

const clusters: ProcessCluster[] = [];
after(async () => {
  for (const cluster of clusters) await cluster.stopAll();
});

function valueOf(key: string): Buffer {
  return Buffer.from(`value of ${key} `.repeat(8));
}

test('a backup of three nodes under writes restores into four nodes with every acknowledged write and its version', { timeout: 600_000 }, async () => {
  const backupDir = await tempDir(undefined, 'qkv-backups-');
  const rootA = await tempDir(undefined, 'qkv-backup-a-');
  const usersFile = join(rootA, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'writer', roles: ['write'] }] }));
  const clusterA = await ProcessCluster.start({ size: 3, dataRoot: rootA, users: ['writer'], extraArgs: [...EXTRA_ARGS, '--backup-dir', backupDir, '--users-file', usersFile] });
  clusters.push(clusterA);
  const idsA = clusterA.nodes.map((node) => node.id);
  const client = clusterA.client(idsA, 20_000);

  // 1. Acknowledged writes, and the version each one got.
  const acknowledged = new Map<string, { stamp: string; nodeId: string }>();
  for (let start = 0; start < KEYS; start += 100) {
    const items = Array.from({ length: 100 }, (_, i) => ({ key: Buffer.from(`before-${start + i}`), value: valueOf(`before-${start + i}`) }));
    const response = await client.batchPut(items);
    response.results.forEach((result, i) => {
      assert.ok(result.ok, `before-${start + i} was not acknowledged`);
      acknowledged.set(`before-${start + i}`, { stamp: String(result.version!.stamp), nodeId: result.version!.nodeId });
    });
  }

  // 2. A writer that keeps writing during the backup.
  let writing = true;
  let duringWritten = 0;
  const writer = (async () => {
    const writerClient = clusterA.client(idsA, 20_000);
    try {
      for (let i = 0; writing; i += 1) {
        await writerClient.put(Buffer.from(`during-${i}`), valueOf(`during-${i}`)).then(() => {
          duringWritten += 1;
        }, () => {});
      }
    } finally {
      writerClient.close();
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The writer stops however the steps below end: a failed assertion must not leave it
  // spinning against stopped nodes and the test process running.
  let backupId: string;
  let duringAtBackupEnd: number;
  try {
    const backup = await qkvCli(clusterA, ['backup', 'nightly', '--addr', clusterA.address('qkv-2')]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stderr, /^backup qkv-\S+: 0\/3 members, reading qkv-1/m, 'progress is printed while the backup runs');
    const id = /^backup (qkv-\S+) done: 3 members, ([0-9]+) records/m.exec(backup.stdout)?.[1];
    assert.ok(id !== undefined, backup.stdout);
    backupId = id;
    duringAtBackupEnd = duringWritten;
    assert.ok(duringAtBackupEnd > 0, 'the writer wrote during the backup');

    // 3. Refusals, each with its code.
    const writerOnly = clusterA.client(['qkv-1'], 10_000, 'writer');
    await assert.rejects(writerOnly.backup('nightly', () => {}), (error: unknown) => isQkvError(error) && error.code === 'PERMISSION_DENIED');
    writerOnly.close();
    for (const [destination, code] of [
      ['../escape', 'BACKUP_DESTINATION_INVALID'],
      ['nightly/../../escape', 'BACKUP_DESTINATION_INVALID'],
      [`file://${backupDir}`, 'BACKUP_DESTINATION_INVALID'],
      ['/tmp/elsewhere', 'BACKUP_DESTINATION_INVALID'],
      ['gs://bucket/prefix', 'BACKUP_DESTINATION_UNSUPPORTED'],
    ] as const) {
      const refused = await qkvCli(clusterA, ['backup', destination, '--addr', clusterA.address('qkv-1')]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, new RegExp(`^qkv: ${code}: `, 'm'), `${destination}: ${refused.stderr}`);
    }
    assert.deepEqual((await readdir(backupDir)).sort(), ['nightly'], 'nothing was written outside the named destination');
  } finally {
    writing = false;
    await writer;
  }

  // 4. Stop the cluster (the writer has stopped), delete everything it stored.
  client.close();
  await clusterA.stopAll();
  for (const id of idsA) await rm(clusterA.node(id).dataDir, { recursive: true, force: true });
  for (const id of idsA) await assert.rejects(stat(clusterA.node(id).dataDir));

  // 5. A new cluster of four nodes; damaged copies are refused before anything is written.
  const rootB = await tempDir(undefined, 'qkv-backup-b-');
  const clusterB = await ProcessCluster.start({ size: 4, dataRoot: rootB, extraArgs: [...EXTRA_ARGS, '--backup-dir', backupDir] });
  clusters.push(clusterB);
  const idsB = clusterB.nodes.map((node) => node.id);
  const snapFile = `${backupId}/qkv-2.snap`;
  await cp(join(backupDir, 'nightly'), join(backupDir, 'flipped'), { recursive: true });
  const flippedPath = join(backupDir, 'flipped', snapFile);
  const bytes = await readFile(flippedPath);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
  await writeFile(flippedPath, bytes);
  await cp(join(backupDir, 'nightly'), join(backupDir, 'cut'), { recursive: true });
  await truncate(join(backupDir, 'cut', snapFile), bytes.length - 100);
  for (const damaged of ['flipped', 'cut']) {
    const refused = await qkvCli(clusterB, ['restore', damaged, '--addr', clusterB.address('qkv-1')]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`^qkv: BACKUP_CORRUPT: backup file ${snapFile} is damaged: `, 'm'), refused.stderr);
  }
  const clientB = clusterB.client(idsB, 20_000);
  const probe = await clientB.get(Buffer.from('before-0'), { r: 3 });
  assert.equal(probe.found, false, 'a refused restore wrote nothing');

  const restore = await qkvCli(clusterB, ['restore', 'nightly', '--backup', backupId, '--addr', clusterB.address('qkv-3')]);
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(restore.stderr, /^restore \S+: verifying/m);
  assert.match(restore.stdout, /^restore of \S+ done: 3 files, [0-9]+ records written/m);

  // 6. Every acknowledged write, with its version; the writes during the backup whole or
  // absent. First, before any read could repair a replica: each of a sample of keys is on
  // every one of its three replicas in the new ring, with its original version.
  const keys = [...acknowledged.keys()];
  for (const key of keys.slice(0, 60)) {
    const answer = await clientB.get(Buffer.from(key), { r: 3, includeReplicas: true });
    assert.equal(answer.replicas.length, 3);
    for (const replica of answer.replicas) {
      assert.ok(replica.answered && replica.found, `${key} is missing on ${replica.nodeId} (${replica.error})`);
      assert.deepEqual({ stamp: String(replica.version!.stamp), nodeId: replica.version!.nodeId }, acknowledged.get(key), `${key} on ${replica.nodeId}`);
    }
  }
  for (let start = 0; start < keys.length; start += 200) {
    const batch = keys.slice(start, start + 200);
    const response = await clientB.batchGet(batch.map((key) => Buffer.from(key)), { r: 3 });
    response.results.forEach((result, i) => {
      const key = batch[i]!;
      assert.ok(result.found, `${key} is missing after the restore`);
      assert.deepEqual(result.value, valueOf(key), `${key} has another value`);
      assert.deepEqual({ stamp: String(result.version!.stamp), nodeId: result.version!.nodeId }, acknowledged.get(key), `${key} has another version`);
    });
  }
  let duringFound = 0;
  for (let start = 0; start < duringWritten; start += 200) {
    const batch = Array.from({ length: Math.min(200, duringWritten - start) }, (_, i) => `during-${start + i}`);
    const response = await clientB.batchGet(batch.map((key) => Buffer.from(key)), { r: 3 });
    response.results.forEach((result, i) => {
      if (!result.found) return;
      duringFound += 1;
      assert.deepEqual(result.value, valueOf(batch[i]!), `${batch[i]} is there but not as written`);
    });
  }
  assert.ok(duringFound > 0 && duringFound <= duringWritten, `some writes made during the backup are in it (${duringFound} of ${duringWritten})`);

  const again = await qkvCli(clusterB, ['restore', 'nightly', '--json', '--addr', clusterB.address('qkv-4')]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).backupId, backupId, 'without --backup the newest complete set is restored');
  const sample = await clientB.get(Buffer.from('before-7'), { r: 3 });
  assert.equal(String(sample.version!.stamp), acknowledged.get('before-7')!.stamp);
  clientB.close();
});
