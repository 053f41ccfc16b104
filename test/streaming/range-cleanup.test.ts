// Cleanup in one process: the refusal rules (refusalOfView, refusalOfPeers) case by
// case, and RangeCleanup on a real MemoryStorageEngine with real rings: it deletes
// exactly the records this node replicates in neither ring (checked against each key's
// preference lists), keeps everything else, stops when the view or a member's rings
// change between pages, and keeps a record written again after its page was read.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isQkvError } from '../../src/errors/errors.js';
import type { RingState } from '../../src/ring/ring-state.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { PlacementRings } from '../../src/ring/placement-rings.js';
import { createTokenHasher, loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';
import type { TokenFunction } from '../../src/ring/token-range.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import { HeldRanges } from '../../src/streaming/held-ranges.js';
import { RangeCleanup, refusalOfPeers, refusalOfView, type CleanupView, type PeerRings } from '../../src/streaming/range-cleanup.js';
import { RecordingLogger } from '../support/recording-logger.js';

const N = 3;
const VNODES = 16;
let hash: XxHash64;
let tokenOf: TokenFunction;
before(async () => {
  hash = await loadXxHash64();
  tokenOf = await createTokenHasher();
});

function ringOf(ids: readonly string[]): HashRing {
  return HashRing.build(ids.map((id) => ({ id })), { vnodes: VNODES, replicationFactor: N }, hash);
}

/** A view in which every member has `states[id]` (NORMAL when not given) and the rings follow. */
function viewOf(ids: readonly string[], states: Record<string, RingState | undefined> = {}): CleanupView {
  const stateOf = (id: string): RingState | undefined => (id in states ? states[id] : 'NORMAL');
  const read = ringOf(ids.filter((id) => stateOf(id) === 'NORMAL' || stateOf(id) === 'LEAVING'));
  const write = ringOf(ids.filter((id) => stateOf(id) === 'NORMAL' || stateOf(id) === 'JOINING'));
  return { self: stateOf('a'), members: ids.map((id) => ({ id, state: stateOf(id) })), rings: new PlacementRings(read, write) };
}

function answersFor(view: CleanupView, except: readonly string[] = []): PeerRings[] {
  return view.members
    .filter((member) => member.id !== 'a' && !except.includes(member.id))
    .map((member) => ({ peer: member.id, digests: { read: view.rings.read.digest, write: view.rings.write.digest } }));
}

function put(key: string, stamp: bigint): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(`value of ${key}`), version: { stamp, nodeId: 'w' }, expiresAtMs: 0 };
}

describe('cleanup refusal rules', () => {
  const five = ['a', 'b', 'c', 'd', 'e'];

  it('allows a NORMAL node whose members are NORMAL; LEFT and never-heard members are outside the rings', () => {
    assert.equal(refusalOfView('a', viewOf(five)), undefined);
    assert.equal(refusalOfView('a', viewOf([...five, 'gone', 'unknown'], { gone: 'LEFT', unknown: undefined })), undefined);
  });

  it('refuses while this node is not NORMAL', () => {
    for (const state of ['JOINING', 'LEAVING', 'LEFT', undefined] as const) {
      const refusal = refusalOfView('a', viewOf(five, { a: state }));
      assert.match(refusal ?? '', new RegExp(`a is ${state ?? 'starting'}; only a NORMAL node cleans up`));
    }
  });

  it('refuses while any member joins or leaves', () => {
    assert.match(refusalOfView('a', viewOf(five, { d: 'JOINING' })) ?? '', /range movement is under way: d is JOINING/);
    assert.match(refusalOfView('a', viewOf(five, { d: 'LEAVING', e: 'JOINING' })) ?? '', /d is LEAVING, e is JOINING/);
  });

  it('refuses when the rings differ or this node is not in them', () => {
    const base = viewOf(five);
    assert.match(refusalOfView('a', { ...base, rings: new PlacementRings(ringOf(five), ringOf(['a', 'b', 'c'])) }) ?? '', /read ring .* and the write ring .* differ/);
    assert.match(refusalOfView('a', { ...base, rings: new PlacementRings(ringOf(['b', 'c', 'd']), ringOf(['b', 'c', 'd'])) }) ?? '', /a is not in its own ring/);
  });

  it('requires an answer with the same rings from every member in the rings, and only from them', () => {
    const view = viewOf([...five, 'gone'], { gone: 'LEFT' });
    assert.equal(refusalOfPeers('a', view, answersFor(view, ['gone'])), undefined, 'a LEFT member need not answer');
    assert.match(refusalOfPeers('a', view, answersFor(view, ['c', 'gone'])) ?? '', /c was not asked/);
    const failed = answersFor(view, ['gone']).map((answer) => (answer.peer === 'd' ? { peer: 'd', error: 'deadline exceeded' } : answer));
    assert.match(refusalOfPeers('a', view, failed) ?? '', /d did not answer \(deadline exceeded\)/);
    const silent = answersFor(view, ['gone']).map((answer) => (answer.peer === 'b' ? { peer: 'b', digests: undefined } : answer));
    assert.match(refusalOfPeers('a', view, silent) ?? '', /b does not report its rings/);
    // e has heard of a joiner this node has not heard of yet: its write ring differs.
    const joining = viewOf([...five, 'f'], { f: 'JOINING' });
    const ahead = answersFor(view, ['gone']).map((answer) => (answer.peer === 'e' ? { peer: 'e', digests: { read: joining.rings.read.digest, write: joining.rings.write.digest } } : answer));
    assert.match(refusalOfPeers('a', view, ahead) ?? '', /e routes by other rings/);
  });
});

describe('RangeCleanup on a memory engine', () => {
  const members = ['a', 'b', 'c', 'd', 'e'];
  const KEYS = 600;

  async function loaded(): Promise<{ engine: MemoryStorageEngine; records: KvRecord[] }> {
    const engine = new MemoryStorageEngine(tokenOf);
    const records = Array.from({ length: KEYS }, (_, i) => put(`key-${i}`, 10n));
    await engine.apply(records);
    return { engine, records };
  }

  function replicatedHere(view: CleanupView, key: Buffer): boolean {
    return view.rings.read.preferenceListForKey(key).includes('a') || view.rings.write.preferenceListForKey(key).includes('a');
  }

  function cleanupOf(
    storage: Pick<MemoryStorageEngine, 'scan' | 'discard'>,
    view: () => CleanupView,
    askPeers: (peers: readonly string[]) => Promise<PeerRings[]>,
    held?: HeldRanges,
  ): RangeCleanup {
    return new RangeCleanup({ nodeId: 'a', storage, view, askPeers, held, logger: new RecordingLogger(), pageRecords: 25 });
  }

  it('deletes exactly the records of ranges this node replicates in neither ring, and says cleanup is no longer needed', async () => {
    const { engine, records } = await loaded();
    const view = viewOf(members);
    // Before the scale-up this node held every range (3 members, N=3).
    const held = new HeldRanges([{ low: 0n, high: (1n << 64n) - 1n }], { nodeId: 'a', store: { save: async () => {} }, logger: new RecordingLogger() });
    assert.equal(held.needsCleanup(view.rings), true);
    const asked: string[][] = [];
    const cleanup = cleanupOf(engine, () => view, async (peers) => {
      asked.push([...peers]);
      return answersFor(view);
    }, held);
    const report = await cleanup.run();

    const foreign = records.filter((record) => !replicatedHere(view, record.key));
    assert.ok(foreign.length > KEYS / 5, `${foreign.length} of ${KEYS} keys are not replicated on a`);
    assert.equal(report.recordsRemoved, foreign.length);
    assert.equal(report.recordsScanned, foreign.length, 'only the unreplicated ranges are read');
    assert.equal(report.ringDigest, view.rings.read.digest);
    for (const record of records) {
      const kept = engine.get(record.key) !== undefined;
      assert.equal(kept, replicatedHere(view, record.key), `${record.key.toString()} kept=${kept}`);
    }
    assert.equal(held.needsCleanup(view.rings), false);
    assert.deepEqual(cleanup.progress(), { running: false, rangesDone: report.ranges, rangesTotal: report.ranges, recordsScanned: foreign.length, recordsRemoved: foreign.length, lastError: '' });
    // Members are asked before the first page and again before each page it deletes from.
    assert.ok(asked.length >= 1 + Math.ceil(foreign.length / 25) - report.ranges, `${asked.length} rounds of questions`);
    assert.ok(asked.every((peers) => peers.join() === 'b,c,d,e'));

    // A second run finds nothing and asks nobody past the first check.
    asked.length = 0;
    const again = await cleanup.run();
    assert.equal(again.recordsRemoved, 0);
    assert.equal(again.recordsScanned, 0);
    assert.equal(asked.length, 1);
  });

  it('refuses before it deletes anything when a member does not answer', async () => {
    const { engine } = await loaded();
    const view = viewOf(members);
    const cleanup = cleanupOf(engine, () => view, async () => answersFor(view, ['d']).concat([{ peer: 'd', error: 'unreachable' }]));
    await assert.rejects(cleanup.run(), (error: unknown) => isQkvError(error) && error.code === 'CLEANUP_REFUSED' && /d did not answer/.test(error.message));
    assert.equal(engine.size, KEYS);
    assert.match(cleanup.progress().lastError, /d did not answer/);
  });

  it('stops when a member starts leaving while it runs, and keeps what it had not deleted yet', async () => {
    const { engine } = await loaded();
    let view = viewOf(members);
    let rounds = 0;
    const cleanup = cleanupOf(engine, () => view, async () => {
      rounds++;
      const answers = answersFor(view);
      // The third probe round tells this node that e is LEAVING (the answer carries it).
      if (rounds === 3) view = viewOf(members, { e: 'LEAVING' });
      return answers;
    });
    await assert.rejects(cleanup.run(), (error: unknown) => isQkvError(error) && error.code === 'CLEANUP_REFUSED' && /stopped: a range movement is under way: e is LEAVING/.test(error.message));
    // Round 1 checks before anything, round 2 before the first page's delete, round 3 stops.
    const removed = cleanup.progress().recordsRemoved;
    assert.ok(removed > 0 && removed <= 25, `${removed} deleted before the stop: the first page only`);
    assert.equal(engine.size, KEYS - removed);
  });

  it('stops when a member routes by other rings, before deleting the page it read', async () => {
    const { engine } = await loaded();
    const view = viewOf(members);
    const ahead = viewOf([...members, 'f'], { f: 'JOINING' });
    let rounds = 0;
    const cleanup = cleanupOf(engine, () => view, async () => {
      rounds++;
      if (rounds < 3) return answersFor(view);
      return answersFor(view).map((answer) => (answer.peer === 'b' ? { peer: 'b', digests: { read: ahead.rings.read.digest, write: ahead.rings.write.digest } } : answer));
    });
    await assert.rejects(cleanup.run(), (error: unknown) => isQkvError(error) && error.code === 'CLEANUP_REFUSED' && /b routes by other rings/.test(error.message));
    const removed = KEYS - engine.size;
    assert.equal(cleanup.progress().recordsRemoved, removed);
    assert.ok(removed > 0 && removed <= 25, `${removed} deleted: only the page checked before b changed its rings`);
  });

  it('deletes nothing when the rings changed while its discard waited for the engine (behind a checkpoint)', async () => {
    const { engine } = await loaded();
    let view = viewOf(members);
    // The discard waits, as behind a long checkpoint, and meanwhile this node hears that
    // e is LEAVING: e may already be comparing its ranges with this node's copies.
    const waiting: Pick<MemoryStorageEngine, 'scan' | 'discard'> = {
      scan: (range, limit, cursor) => engine.scan(range, limit, cursor),
      discard: async (entries, confirm) => {
        view = viewOf(members, { e: 'LEAVING' });
        return engine.discard(entries, confirm);
      },
    };
    const cleanup = cleanupOf(waiting, () => view, async () => answersFor(view));
    await assert.rejects(cleanup.run(), (error: unknown) => isQkvError(error) && error.code === 'CLEANUP_REFUSED' && /e is LEAVING/.test(error.message));
    assert.equal(engine.size, KEYS, 'nothing deleted');
    assert.equal(cleanup.progress().recordsRemoved, 0);
  });

  it('keeps a record written again after its page was read', async () => {
    const { engine, records } = await loaded();
    const view = viewOf(members);
    const foreign = records.filter((record) => !replicatedHere(view, record.key));
    // Three keys of the page just read are written again while the members are asked,
    // between the read and the delete: the delete names the versions it read.
    let lastPage: KvRecord[] = [];
    const storage = {
      scan: (...args: Parameters<MemoryStorageEngine['scan']>) => {
        const page = engine.scan(...args);
        lastPage = page.records;
        return page;
      },
      discard: (...args: Parameters<MemoryStorageEngine['discard']>) => engine.discard(...args),
    };
    const rewritten: Buffer[] = [];
    let rounds = 0;
    const cleanup = cleanupOf(storage, () => view, async () => {
      rounds++;
      if (rounds === 2) {
        for (const record of lastPage.slice(0, 3)) {
          await engine.apply([{ ...record, value: Buffer.from('newer'), version: { stamp: 20n, nodeId: 'w' } }]);
          rewritten.push(record.key);
        }
      }
      return answersFor(view);
    });
    const report = await cleanup.run();
    assert.equal(rewritten.length, 3);
    for (const key of rewritten) assert.equal(engine.get(key)?.value?.toString(), 'newer', `${key.toString()} was written after its page was read and stays`);
    assert.equal(report.recordsRemoved, foreign.length - 3);
  });

  it('lets a second caller wait for the running cleanup instead of starting another', async () => {
    const { engine } = await loaded();
    const view = viewOf(members);
    let rounds = 0;
    const cleanup = cleanupOf(engine, () => view, async () => {
      rounds++;
      return answersFor(view);
    });
    const [first, second] = await Promise.all([cleanup.run(), cleanup.run()]);
    assert.equal(first, second);
    const pagesWithRecords = rounds - 1;
    assert.ok(pagesWithRecords >= 1);
  });

  it('refuses after close', async () => {
    const { engine } = await loaded();
    const view = viewOf(members);
    const cleanup = cleanupOf(engine, () => view, async () => answersFor(view));
    await cleanup.close();
    await assert.rejects(cleanup.run(), (error: unknown) => isQkvError(error) && error.code === 'SHUTTING_DOWN');
  });
});
