// replicatedRanges and unreplicatedRanges against brute force: for every boundary token
// of both rings, its neighbours and random tokens, a token lies in exactly one range of
// the one whose condition holds (the node is in either ring's preference list for it,
// or in neither) and in none of the other's; no two ranges of a list could be merged.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HashRing } from '../../src/ring/hash-ring.js';
import { loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';
import { FULL_RING, rangeContains } from '../../src/ring/token-range.js';
import { replicatedRanges, unreplicatedRanges } from '../../src/ring/replicated-ranges.js';
import type { TokenRange } from '../../src/ring/token-range.js';
import { membershipArbitrary, probeTokens, replicationArbitrary, tokenArbitrary, vnodesArbitrary } from './ring-arbitraries.js';

let hash: XxHash64;
before(async () => {
  hash = await loadXxHash64();
});

function checkAgainstBruteForce(read: HashRing, write: HashRing, nodeId: string, random: readonly bigint[]): void {
  const kept = replicatedRanges({ read, write }, nodeId);
  const dropped = unreplicatedRanges({ read, write }, nodeId);
  const boundaries = [...read.ownedRanges(), ...write.ownedRanges()].map((owned) => owned.range.end);
  for (const token of probeTokens(boundaries, random)) {
    const replicated = read.preferenceListForToken(token).includes(nodeId) || write.preferenceListForToken(token).includes(nodeId);
    const inKept = kept.filter((range) => rangeContains(range, token)).length;
    const inDropped = dropped.filter((range) => rangeContains(range, token)).length;
    assert.equal(inDropped, replicated ? 0 : 1, `token ${token}: replicated ${replicated}, in ${inDropped} unreplicated ranges`);
    assert.equal(inKept, replicated ? 1 : 0, `token ${token}: replicated ${replicated}, in ${inKept} replicated ranges`);
  }
  for (const ranges of [kept, dropped]) assertMerged(ranges);
}

/** Merged as far as possible: no range ends where another starts. */
function assertMerged(ranges: readonly TokenRange[]): void {
  if (ranges.length < 2) return;
  for (const a of ranges) assert.ok(!ranges.some((b) => b !== a && a.end === b.start), 'adjacent ranges are merged');
}

describe('replicatedRanges and unreplicatedRanges', () => {
  it('matches brute force on random pairs of rings, for members and non-members', () => {
    fc.assert(
      fc.property(
        membershipArbitrary(8, 1),
        membershipArbitrary(),
        vnodesArbitrary,
        replicationArbitrary,
        fc.integer({ min: 0, max: 40 }),
        fc.array(tokenArbitrary, { maxLength: 20 }),
        (readMembers, extra, vnodes, replicationFactor, pick, random) => {
          // The write ring is the read ring with some members added and some removed: a move.
          const writeMembers = [...readMembers.filter((_, index) => (pick >> index) % 3 !== 0), ...extra.filter((member) => !readMembers.some((m) => m.id === member.id))];
          const read = HashRing.build(readMembers, { vnodes, replicationFactor }, hash);
          const write = HashRing.build(writeMembers, { vnodes, replicationFactor }, hash);
          const candidates = [...new Set([...readMembers, ...writeMembers].map((member) => member.id)), 'not-a-member'];
          for (const nodeId of candidates) checkAgainstBruteForce(read, write, nodeId, random);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches brute force on settled rings (read and write the same), as cleanup sees them', () => {
    fc.assert(
      fc.property(membershipArbitrary(8, 1), vnodesArbitrary, replicationArbitrary, fc.array(tokenArbitrary, { maxLength: 20 }), (members, vnodes, replicationFactor, random) => {
        const ring = HashRing.build(members, { vnodes, replicationFactor }, hash);
        for (const member of members) checkAgainstBruteForce(ring, ring, member.id, random);
      }),
      { numRuns: 300 },
    );
  });

  it('gives nothing to drop when the node replicates every key, and everything to a node outside an empty ring', async () => {
    const three = await HashRing.create([{ id: 'a' }, { id: 'b' }, { id: 'c' }], { vnodes: 16, replicationFactor: 3 });
    assert.deepEqual(unreplicatedRanges({ read: three, write: three }, 'a'), []);
    assert.deepEqual(replicatedRanges({ read: three, write: three }, 'a').length, 1);
    const empty = await HashRing.create([], { vnodes: 16, replicationFactor: 3 });
    assert.deepEqual(unreplicatedRanges({ read: empty, write: empty }, 'a'), [FULL_RING]);
    assert.deepEqual(replicatedRanges({ read: empty, write: empty }, 'a'), []);
    const outside = unreplicatedRanges({ read: three, write: three }, 'z');
    assert.equal(outside.length, 1);
    assert.equal(outside[0]!.start, outside[0]!.end, 'one whole-ring range');
  });

  it('after a scale-up from 3 to 5 with N=3, an old member drops a share of the ring near 2/5', async () => {
    const members = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
    const five = await HashRing.create(members, { vnodes: 256, replicationFactor: 3 });
    const ranges = unreplicatedRanges({ read: five, write: five }, 'a');
    const space = 1n << 64n;
    const width = ranges.reduce((sum, range) => sum + (range.end > range.start ? range.end - range.start : space - range.start + range.end), 0n);
    const share = Number((width * 10_000n) / space) / 10_000;
    assert.ok(share > 0.3 && share < 0.5, `a replicates 3/5 of the ring and drops ${share}`);
  });
});
