// What `cleanup.needed` rests on (src/streaming/held-ranges.ts, src/node/held-ranges-file.ts):
// the ranges a node held grow with every ring it replicates in, say a cleanup is needed
// once the node no longer replicates some of them, shrink when a cleanup finishes, and
// survive a restart in a real file, which is refused with STATE_FILE_CORRUPT when damaged.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { isQkvError } from '../../src/errors/errors.js';
import { HeldRangesFile } from '../../src/node/held-ranges-file.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';
import { TOKEN_MAX } from '../../src/ring/token-range.js';
import type { TokenInterval } from '../../src/streaming/completed-ranges.js';
import { EVERY_TOKEN, HeldRanges, intersects, mergeIntervals } from '../../src/streaming/held-ranges.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { tempDir } from '../support/temp-dir.js';

let hash: XxHash64;
before(async () => {
  hash = await loadXxHash64();
});

function settled(ids: readonly string[]): { read: HashRing; write: HashRing } {
  const ring = HashRing.build(ids.map((id) => ({ id })), { vnodes: 16, replicationFactor: 3 }, hash);
  return { read: ring, write: ring };
}

describe('held ranges', () => {
  it('merges and intersects token intervals', () => {
    assert.deepEqual(mergeIntervals([{ low: 10n, high: 20n }, { low: 0n, high: 4n }, { low: 5n, high: 9n }, { low: 15n, high: 30n }]), [{ low: 0n, high: 30n }]);
    assert.equal(intersects([{ low: 0n, high: 4n }, { low: 10n, high: 20n }], [{ low: 5n, high: 9n }, { low: 21n, high: 30n }]), false);
    assert.equal(intersects([{ low: 0n, high: 4n }, { low: 10n, high: 20n }], [{ low: 20n, high: 25n }]), true);
  });

  it('needs a cleanup once members joined, not before, and not after one', async () => {
    const saved: Array<readonly TokenInterval[]> = [];
    const held = new HeldRanges([], { nodeId: 'a', store: { save: async (intervals) => void saved.push(intervals) }, logger: new RecordingLogger() });
    const three = settled(['a', 'b', 'c']);
    held.observe(three);
    assert.deepEqual(held.intervals(), EVERY_TOKEN, 'with three members and N=3, a replicates everything');
    assert.equal(held.needsCleanup(three), false);
    const five = settled(['a', 'b', 'c', 'd', 'e']);
    held.observe(five);
    assert.equal(held.needsCleanup(five), true, 'a handed ranges over to d and e');
    // During the join itself: the read ring is the old one, a still replicates everything.
    assert.equal(held.needsCleanup({ read: three.read, write: five.write }), false);
    await held.cleaned(five, five);
    assert.equal(held.needsCleanup(five), false);
    assert.equal(held.needsCleanup(three), false, 'growing back needs no cleanup');
    const last = saved.at(-1)!;
    assert.ok(last.length > 1 && !(last[0]!.low === 0n && last[0]!.high === TOKEN_MAX), 'the cleaned set was saved');
  });

  it('keeps what a view that arrived while the cleanup finished adds', async () => {
    const held = new HeldRanges(EVERY_TOKEN, { nodeId: 'a', store: { save: async () => {} }, logger: new RecordingLogger() });
    const five = settled(['a', 'b', 'c', 'd', 'e']);
    const four = settled(['a', 'b', 'c', 'd']);
    await held.cleaned(five, four);
    // a replicates more with four members; that is held now, so going back to five needs a cleanup.
    assert.equal(held.needsCleanup(four), false);
    assert.equal(held.needsCleanup(five), true);
  });

  it('survives a restart in held-ranges.json, and a damaged file stops start-up', async () => {
    const dir = await tempDir();
    const file = new HeldRangesFile(dir);
    assert.equal(await file.load(), undefined, 'no file yet');
    const intervals = [{ low: 0n, high: 99n }, { low: TOKEN_MAX - 5n, high: TOKEN_MAX }];
    await file.save(intervals);
    assert.deepEqual(await new HeldRangesFile(dir).load(), intervals);
    for (const text of ['not json', '{"format":2,"held":[]}', '{"format":1,"held":[["5","1"]]}', '{"format":1,"held":[["1","x"]]}', '{"format":1}']) {
      await writeFile(file.path, text);
      await assert.rejects(file.load(), (error: unknown) => isQkvError(error) && error.code === 'STATE_FILE_CORRUPT', text);
    }
  });
});
