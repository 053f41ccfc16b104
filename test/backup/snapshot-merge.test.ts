// The k-way merge a restore applies (src/backup/snapshot-merge.ts): member files in scan
// order come out as one stream with each key once in its greatest version (tombstones
// too), token 0 last as a whole-ring scan returns it; a file out of order costs extra
// records but never a wrong final state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSnapshots, scanRank } from '../../src/backup/snapshot-merge.js';
import { compareVersions, supersedes, type KvRecord } from '../../src/storage/record.js';
import type { SnapshotFrame } from '../../src/backup/snapshot-file.js';

/** Token = the key's first byte: tests place keys on the ring by name. */
const tokenOf = (key: Buffer): bigint => BigInt(key[0]!);

function record(key: string, stamp: bigint, nodeId: string, value: string | null): KvRecord {
  return { key: Buffer.from(key, 'latin1'), value: value === null ? null : Buffer.from(value), version: { stamp, nodeId }, expiresAtMs: 0 };
}

async function* framesOf(records: readonly KvRecord[], perFrame: number): AsyncGenerator<SnapshotFrame> {
  for (let at = 0; at < records.length; at += perFrame) yield { records: records.slice(at, at + perFrame), bytes: 100 };
}

async function merge(files: readonly KvRecord[][], perFrame = 2): Promise<{ out: KvRecord[]; read: number; filesDone: number }> {
  let read = 0;
  let filesDone = 0;
  const out: KvRecord[] = [];
  const events = { onFrame: (frame: SnapshotFrame) => (read += frame.records.length), onFileDone: () => (filesDone += 1) };
  for await (const merged of mergeSnapshots(files.map((file) => framesOf(file, perFrame)), tokenOf, events)) out.push(merged);
  return { out, read, filesDone };
}

/** What applying `records` in turn leaves, by last writer wins. */
function lastWriterWins(records: Iterable<KvRecord>): Map<string, KvRecord> {
  const state = new Map<string, KvRecord>();
  for (const next of records) {
    const key = next.key.toString('latin1');
    if (supersedes(next.version, state.get(key)?.version)) state.set(key, next);
  }
  return state;
}

test('each key comes out once in its greatest version, tombstones included, token 0 last', async () => {
  const a = [record('a1', 1n, 'qkv-1', 'a1 old'), record('b2', 5n, 'qkv-2', null), record('\0z', 1n, 'qkv-1', 'z old')];
  const b = [record('a1', 3n, 'qkv-1', 'a1 new'), record('b3', 1n, 'qkv-1', 'b3'), record('\0z', 2n, 'qkv-3', 'z new')];
  const c = [record('b2', 4n, 'qkv-9', 'b2 older than its delete'), record('b3', 1n, 'qkv-1', 'b3'), record('\0z', 2n, 'qkv-2', 'z tie lower node')];
  const { out, read, filesDone } = await merge([a, b, c]);
  assert.deepEqual(
    out.map((merged) => [merged.key.toString('latin1'), merged.version.stamp, merged.version.nodeId, merged.value?.toString() ?? null]),
    [
      ['a1', 3n, 'qkv-1', 'a1 new'],
      ['b2', 5n, 'qkv-2', null],
      ['b3', 1n, 'qkv-1', 'b3'],
      ['\0z', 2n, 'qkv-3', 'z new'],
    ],
  );
  assert.equal(read, 9);
  assert.equal(filesDone, 3);
  assert.ok(scanRank(0n) > scanRank((1n << 64n) - 1n), 'token 0 ends a whole-ring scan');
});

test('random member files: the merge leaves what applying every file leaves, each key once when the files are in order', async () => {
  let seed = 12345;
  const random = (below: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  for (let round = 0; round < 50; round += 1) {
    const files: KvRecord[][] = [];
    for (let file = 0; file < 1 + random(5); file += 1) {
      const records: KvRecord[] = [];
      for (let key = 0; key < 40; key += 1) {
        if (random(3) === 0) continue;
        const name = `${String.fromCharCode(random(4))}k${key}`;
        records.push(record(name, BigInt(random(6)), `qkv-${random(3)}`, random(4) === 0 ? null : `v${random(1000)}`));
      }
      // Scan order: rank of the token, then the key's bytes; one key once per file.
      const seen = new Set<string>();
      files.push(
        records
          .filter((entry) => !seen.has(entry.key.toString('latin1')) && seen.add(entry.key.toString('latin1')))
          .sort((x, y) => (scanRank(tokenOf(x.key)) === scanRank(tokenOf(y.key)) ? Buffer.compare(x.key, y.key) : scanRank(tokenOf(x.key)) < scanRank(tokenOf(y.key)) ? -1 : 1)),
      );
    }
    const expected = lastWriterWins(files.flat());
    const { out, read } = await merge(files, 1 + random(4));
    assert.equal(read, files.flat().length);
    assert.equal(out.length, expected.size, `round ${round}: each key once`);
    const got = lastWriterWins(out);
    for (const [key, want] of expected) {
      const have = got.get(key);
      assert.ok(have !== undefined && compareVersions(have.version, want.version) === 0 && (have.value?.equals(want.value ?? Buffer.alloc(0)) ?? want.value === null), `round ${round}: ${key}`);
    }
    // The same files with one reversed: more records may come out, the final state is the same.
    const shuffled = files.map((file, index) => (index === 0 ? [...file].reverse() : file));
    const unordered = await merge(shuffled);
    assert.ok(unordered.out.length >= expected.size);
    assert.deepEqual([...lastWriterWins(unordered.out)].map(([key, kept]) => [key, kept.version]).sort(), [...expected].map(([key, kept]) => [key, kept.version]).sort());
  }
});
