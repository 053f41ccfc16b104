// The files of a backup set on their own (no nodes): snapshot frames round-trip with
// versions, tombstones and expiry; every kind of damage is refused naming the file and
// the reason; the directory store shows no partial object and stays under its root;
// destinations are confined to the operator's backup directory; a cluster backup run
// against a scan that fails leaves no manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dir.js';
import { isQkvError } from '../../src/errors/errors.js';
import type { KvRecord } from '../../src/storage/record.js';
import { encodeSnapshotFrame, readSnapshotFrames, snapshotHeader } from '../../src/backup/snapshot-file.js';
import { DirectoryBackupStore } from '../../src/backup/directory-backup-store.js';
import { openBackupStore } from '../../src/backup/open-backup-store.js';
import { BackupSet } from '../../src/backup/backup-set.js';
import { missingMembersOf } from '../../src/backup/backup-manifest.js';
import { runClusterBackup } from '../../src/backup/cluster-backup.js';
import { runClusterRestore } from '../../src/backup/cluster-restore.js';
import { ByteThrottle } from '../../src/streaming/byte-throttle.js';
import { systemClock } from '../../src/clock/clock.js';
import { NODE_ID_BYTES_MAX } from '../../src/limits.js';
import type { ScanPage } from '../../src/storage/storage-engine.js';

const RECORDS: KvRecord[] = [
  { key: Buffer.from('a'), value: Buffer.from('one'), version: { stamp: 123456789n << 16n, nodeId: 'qkv-1' }, expiresAtMs: 0 },
  { key: Buffer.from('b'), value: null, version: { stamp: 5n, nodeId: 'qkv-2' }, expiresAtMs: 0 },
  { key: Buffer.from('c'), value: Buffer.alloc(3000, 7), version: { stamp: 9n, nodeId: 'qkv-3' }, expiresAtMs: 1_900_000_000_000 },
];

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(bytes: Buffer, chunk = 7): Promise<KvRecord[]> {
  const records: KvRecord[] = [];
  for await (const frame of readSnapshotFrames(chunksOf(bytes, chunk), 'set/x.snap')) records.push(...frame.records);
  return records;
}

const corrupt = (reason: RegExp) => (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && /set\/x\.snap/.test(error.message) && reason.test(error.message);

test('snapshot frames keep versions, tombstones and expiry, whatever the chunking', async () => {
  const file = Buffer.concat([snapshotHeader(), encodeSnapshotFrame(RECORDS.slice(0, 2)), encodeSnapshotFrame(RECORDS.slice(2))]);
  for (const chunk of [1, 7, 4096, file.length]) assert.deepEqual(await readAll(file, chunk), RECORDS);
});

test('a damaged snapshot file is refused with the file and the reason', async () => {
  const good = Buffer.concat([snapshotHeader(), encodeSnapshotFrame(RECORDS)]);
  const flipped = Buffer.from(good);
  flipped[good.length - 10]! ^= 1;
  await assert.rejects(readAll(flipped), corrupt(/fails its CRC32C check/));
  await assert.rejects(readAll(good.subarray(0, good.length - 5)), corrupt(/truncated: the frame at offset 8 is cut short/));
  await assert.rejects(readAll(good.subarray(0, 5)), corrupt(/shorter than the 8-byte header/));
  const newer = Buffer.from(good);
  newer[7] = 2;
  await assert.rejects(readAll(newer), corrupt(/format version 2; this build reads version 1/));
  const other = Buffer.from(good);
  other.write('NOTSNAP', 0, 'latin1');
  await assert.rejects(readAll(other), corrupt(/wrong magic/));
  const huge = Buffer.from(good);
  huge.writeUInt32BE(0xffffffff, 8);
  await assert.rejects(readAll(huge), corrupt(/the limit is/));
});

test('destinations stay under the backup directory, and none without one', async () => {
  const root = await tempDir();
  const refused = (code: string) => (error: unknown) => isQkvError(error) && error.code === code;
  assert.throws(() => openBackupStore('daily', { backupDir: '' }), refused('BACKUP_DIR_NOT_CONFIGURED'));
  for (const destination of ['..', '../x', 'a/../../x', '/etc', 'file:///etc', 'file:../x', 'a//b', '.hidden', 'a\\..\\b', 'x'.repeat(600)]) {
    assert.throws(() => openBackupStore(destination, { backupDir: root }), refused('BACKUP_DESTINATION_INVALID'), destination);
  }
  assert.throws(() => openBackupStore('gs://bucket/prefix', { backupDir: root }), refused('BACKUP_DESTINATION_UNSUPPORTED'));
  // An object store needs no backup directory: the bucket is the operator's choice.
  assert.equal(openBackupStore('s3://bucket/prefix?endpoint=http://127.0.0.1:7070', { backupDir: '' }).describe(), 's3://bucket/prefix/ at http://127.0.0.1:7070');
  assert.throws(() => openBackupStore('s3://Bad_Bucket/x', { backupDir: root }), refused('BACKUP_DESTINATION_INVALID'));
  assert.equal(openBackupStore('', { backupDir: root }).describe(), `directory ${root}`);
  assert.equal(openBackupStore('file://team/daily/', { backupDir: root }).describe(), `directory ${join(root, 'team', 'daily')}`);
  const store = openBackupStore('team/daily', { backupDir: root });
  await assert.rejects(store.write('../outside', chunksOf(Buffer.from('x'), 1)), refused('BACKUP_DESTINATION_INVALID'));
});

test('the directory store shows an object only once it is whole', async () => {
  const root = await tempDir();
  const store = new DirectoryBackupStore(root);
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('half');
    throw new Error('source failed');
  }
  await assert.rejects(store.write('set/a.snap', failing()), /source failed/);
  assert.deepEqual(await store.list(''), []);
  assert.deepEqual(await readdir(join(root, 'set')), [], 'the partial file is removed');
  await store.write('set/a.snap', chunksOf(Buffer.from('whole'), 2));
  assert.deepEqual(await store.list('set/'), ['set/a.snap']);
  assert.equal(await readFile(join(root, 'set', 'a.snap'), 'utf8'), 'whole');
  await assert.rejects(async () => {
    for await (const _ of store.read('set/none.snap')) void _;
  }, (error: unknown) => isQkvError(error) && error.code === 'BACKUP_NOT_FOUND');
});

/** A scan over fixed pages per member, as a PeerTransport's Scan answers. */
function scanOf(pages: Record<string, KvRecord[][]>, failAt?: string) {
  return {
    scan: async (peer: string, _range: unknown, _limit: number, cursor: { token: bigint } | undefined): Promise<ScanPage> => {
      if (peer === failAt) throw new Error(`${peer} is down`);
      const index = cursor === undefined ? 0 : Number(cursor.token);
      const memberPages = pages[peer] ?? [];
      const records = memberPages[index] ?? [];
      return index + 1 < memberPages.length ? { records, resumeAfter: { token: BigInt(index + 1), key: Buffer.alloc(0) } } : { records };
    },
  };
}

/** Two ranges of a two-member ring with N=2: each member holds both. */
const BOTH_HOLD_BOTH = [
  { range: { start: 0n, end: 1000n }, replicas: ['qkv-1', 'qkv-2'] },
  { range: { start: 1000n, end: 0n }, replicas: ['qkv-2', 'qkv-1'] },
];

async function backUp(root: string, failAt?: string, ranges = BOTH_HOLD_BOTH) {
  return runClusterBackup({
    store: new DirectoryBackupStore(root),
    coordinator: 'qkv-1',
    members: ['qkv-1', 'qkv-2'],
    ranges,
    ringDigest: 'digest',
    replicationFactor: 2,
    vnodes: 8,
    transport: scanOf({ 'qkv-1': [RECORDS.slice(0, 1), RECORDS.slice(1)], 'qkv-2': [RECORDS] }, failAt),
    stamp: () => 42n,
    throttle: new ByteThrottle(1024 * 1024 * 1024, systemClock),
    onProgress: () => {},
  });
}

test('a backup set verifies, and a file damaged at a frame boundary or in place is caught before restore', async () => {
  const root = await tempDir();
  const report = await backUp(root);
  assert.deepEqual({ records: report.records, members: report.membersDone, done: report.done }, { records: 6, members: 2, done: true });
  const set = await BackupSet.open(new DirectoryBackupStore(root), '');
  assert.equal(set.manifest.backupId, report.backupId);
  assert.equal(set.manifest.startStamp, '42');
  await set.verify(() => {});
  const restored: KvRecord[] = [];
  for (const file of set.files) for await (const frame of set.frames(file)) restored.push(...frame.records);
  assert.deepEqual(restored, [...RECORDS, ...RECORDS]);

  // qkv-1's file holds two frames: cut after the first, every frame left is whole, and
  // only the manifest's length and checksum can tell.
  const file = join(root, report.backupId, 'qkv-1.snap');
  const firstFrameEnd = 8 + encodeSnapshotFrame(RECORDS.slice(0, 1)).length;
  await truncate(file, firstFrameEnd);
  await assert.rejects(set.verify(() => {}), (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && error.message.includes(`${report.backupId}/qkv-1.snap`) && /bytes; the manifest says/.test(error.message));

  const manifestPath = join(root, report.backupId, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  manifest.formatVersion = 9;
  await writeFile(manifestPath, JSON.stringify(manifest));
  await assert.rejects(BackupSet.open(new DirectoryBackupStore(root), report.backupId), (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && /format version 9/.test(error.message));
});

test('a backup whose unreadable member holds a range alone leaves no set behind, naming the range and the member', async () => {
  const root = await tempDir();
  const onlyOnQkv2 = [
    { range: { start: 0n, end: 1000n }, replicas: ['qkv-1'] },
    { range: { start: 1000n, end: 0n }, replicas: ['qkv-2'] },
  ];
  await assert.rejects(
    backUp(root, 'qkv-2', onlyOnQkv2),
    (error: unknown) => isQkvError(error) && error.code === 'BACKUP_FAILED' && /no member that could be read holds 1 of 2 token ranges, e\.g\. \(1000, 0\] held by qkv-2; could not read: qkv-2 \(qkv-2 is down\)/.test(error.message),
  );
  assert.deepEqual(await new DirectoryBackupStore(root).list(''), []);
  await assert.rejects(BackupSet.open(new DirectoryBackupStore(root), ''), (error: unknown) => isQkvError(error) && error.code === 'BACKUP_NOT_FOUND');
});

test('a backup goes on without a member whose ranges other replicas hold, and its manifest names the member', async () => {
  const root = await tempDir();
  const progress: string[][] = [];
  const report = await runClusterBackup({
    store: new DirectoryBackupStore(root),
    coordinator: 'qkv-1',
    members: ['qkv-1', 'qkv-2'],
    ranges: BOTH_HOLD_BOTH,
    ringDigest: 'digest',
    replicationFactor: 2,
    vnodes: 8,
    transport: scanOf({ 'qkv-1': [RECORDS.slice(0, 1), RECORDS.slice(1)], 'qkv-2': [RECORDS] }, 'qkv-1'),
    stamp: () => 42n,
    throttle: new ByteThrottle(1024 * 1024 * 1024, systemClock),
    onProgress: (step) => progress.push(step.missingMembers.map((missing) => missing.nodeId)),
  });
  assert.deepEqual(report.missingMembers, [{ nodeId: 'qkv-1', reason: 'qkv-1 is down' }]);
  assert.equal(report.records, 3, 'only the member that was read counts');
  assert.deepEqual(progress.at(-1), ['qkv-1'], 'progress names the missing member');
  assert.deepEqual(await new DirectoryBackupStore(root).list(`${report.backupId}/`), [`${report.backupId}/manifest.json`, `${report.backupId}/qkv-2.snap`], 'the missing member has no file');
  const set = await BackupSet.open(new DirectoryBackupStore(root), '');
  assert.deepEqual(set.manifest.missingMembers, [{ nodeId: 'qkv-1', reason: 'qkv-1 is down' }]);
  assert.deepEqual(set.files.map((file) => file.nodeId), ['qkv-2']);
  await set.verify(() => {});

  // A manifest from before the field (no missingMembers) still opens, with none missing;
  // a malformed one is refused.
  const manifestPath = join(root, report.backupId, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  delete manifest.missingMembers;
  await writeFile(manifestPath, JSON.stringify(manifest));
  assert.deepEqual(missingMembersOf((await BackupSet.open(new DirectoryBackupStore(root), '')).manifest), []);
  manifest.missingMembers = [{ nodeId: 'qkv-2', reason: 'also read?' }];
  await writeFile(manifestPath, JSON.stringify(manifest));
  await assert.rejects(BackupSet.open(new DirectoryBackupStore(root), ''), (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && /missingMembers\[0\]\.nodeId "qkv-2" is also in members/.test(error.message));
});

test('a store that fails still fails the backup when a member is also down', async () => {
  const root = await tempDir();
  const store = new DirectoryBackupStore(root);
  let writes = 0;
  const failingStore = Object.assign(Object.create(store) as DirectoryBackupStore, {
    write: async (name: string, body: AsyncIterable<Uint8Array>) => {
      writes += 1;
      if (writes === 2) throw new Error('disk full');
      return store.write(name, body);
    },
  });
  await assert.rejects(
    runClusterBackup({
      store: failingStore,
      coordinator: 'qkv-1',
      members: ['qkv-1', 'qkv-2'],
      ranges: BOTH_HOLD_BOTH,
      ringDigest: 'digest',
      replicationFactor: 2,
      vnodes: 8,
      transport: scanOf({ 'qkv-1': [RECORDS], 'qkv-2': [RECORDS] }, 'qkv-1'),
      stamp: () => 42n,
      throttle: new ByteThrottle(1024 * 1024 * 1024, systemClock),
      onProgress: () => {},
    }),
    (error: unknown) => isQkvError(error) && error.code === 'BACKUP_FAILED' && /disk full/.test(error.message),
  );
  assert.deepEqual(await store.list(''), []);
});

test('a file that changes after it was verified fails the restore instead of leaving records out', async () => {
  const root = await tempDir();
  const report = await backUp(root);
  const file = join(root, report.backupId, 'qkv-1.snap');
  const original = await readFile(file);
  const firstFrameEnd = 8 + encodeSnapshotFrame(RECORDS.slice(0, 1)).length;
  // The same length, each frame whole and its CRC right, other records: only the SHA-256 tells.
  const other = RECORDS.map((record) => (record.value === null ? record : { ...record, value: Buffer.alloc(record.value.length, 1) }));
  const replaced = Buffer.concat([snapshotHeader(), encodeSnapshotFrame(other.slice(0, 1)), encodeSnapshotFrame(other.slice(1))]);
  assert.equal(replaced.length, original.length);
  // The damage is done on disk between the verification and the first read of the
  // restore (the store may change under a restore: another writer, a bucket's lifecycle).
  const damages: Array<[string, () => void, RegExp]> = [
    ['cut at a frame boundary', () => truncateSync(file, firstFrameEnd), /bytes; the manifest says/],
    ['replaced by other whole frames', () => writeFileSync(file, replaced), /SHA-256 .* does not match/],
  ];
  for (const [damage, apply, reason] of damages) {
    await writeFile(file, original);
    const set = await BackupSet.open(new DirectoryBackupStore(root), '');
    let damaged = false;
    await assert.rejects(
      runClusterRestore({
        set,
        placement: () => ({ natural: ['qkv-9'], pending: [] }),
        tokenOf: (key) => BigInt(key[0]!),
        transport: { apply: async () => {} },
        throttle: new ByteThrottle(1024 * 1024 * 1024, systemClock),
        onProgress: (progress) => {
          if (progress.phase !== 'restoring' || damaged) return;
          damaged = true;
          apply();
        },
      }),
      (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && error.message.includes(`${report.backupId}/qkv-1.snap`) && reason.test(error.message),
      damage,
    );
    assert.ok(damaged, damage);
  }
});

test('missingMembers of a manifest read from the store: each a node id within NODE_ID_BYTES_MAX, named once', async () => {
  const root = await tempDir();
  const report = await backUp(root);
  const manifestPath = join(root, report.backupId, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  const refusedWith = (reason: RegExp) => (error: unknown) => isQkvError(error) && error.code === 'BACKUP_CORRUPT' && reason.test(error.message);
  const cases: Array<[unknown, RegExp | undefined]> = [
    [[{ nodeId: 'qkv-3', reason: 'PEER_UNREACHABLE: peer qkv-3 is unreachable' }], undefined],
    [[{ nodeId: 'q'.repeat(NODE_ID_BYTES_MAX), reason: '' }], undefined],
    [[{ nodeId: 'q'.repeat(NODE_ID_BYTES_MAX + 1), reason: '' }], /missingMembers\[0\]\.nodeId must be a node id of 1 to 253 bytes/],
    [[{ nodeId: 'é'.repeat(127), reason: '' }], /missingMembers\[0\]\.nodeId must be a node id of 1 to 253 bytes/],
    [[{ nodeId: 'qkv-3', reason: 'a' }, { nodeId: 'qkv-3', reason: 'b' }], /missingMembers\[1\]\.nodeId "qkv-3" is named twice/],
    [[{ nodeId: 'qkv-3', reason: 'x'.repeat(513) }], /missingMembers\[0\]\.reason must be a string of at most 512 characters/],
  ];
  for (const [missingMembers, refusal] of cases) {
    await writeFile(manifestPath, JSON.stringify({ ...manifest, missingMembers }));
    const opening = BackupSet.open(new DirectoryBackupStore(root), '');
    if (refusal === undefined) assert.deepEqual((await opening).manifest.missingMembers, missingMembers);
    else await assert.rejects(opening, refusedWith(refusal), JSON.stringify(missingMembers).slice(0, 80));
  }
});
