// The ring diff against brute force: at every token that could matter (each boundary of
// either ring and its neighbours, plus random tokens), exactly one reported change must
// hold the token when its replica set differs between the rings — with the right losing
// and gaining nodes — and none when it does not. Both rings are constant between
// boundaries, so probing each boundary and the token after it checks every segment.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HashRing } from '../../src/ring/hash-ring.js';
import { diffRings } from '../../src/ring/ring-diff.js';
import { loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';
import { FULL_RING, rangeContains } from '../../src/ring/token-range.js';
import { membershipArbitrary, probeTokens, replicationArbitrary, tokenArbitrary, vnodesArbitrary } from './ring-arbitraries.js';

let hash: XxHash64;
before(async () => {
  hash = await loadXxHash64();
});

function sorted(ids: readonly string[]): string[] {
  return [...ids].sort();
}

function checkAgainstBruteForce(oldRing: HashRing, newRing: HashRing, random: readonly bigint[]): void {
  const changes = diffRings(oldRing, newRing);
  const boundaries = [...oldRing.ownedRanges(), ...newRing.ownedRanges()].map((owned) => owned.range.end);
  for (const token of probeTokens(boundaries, random)) {
    const was = oldRing.preferenceListForToken(token);
    const now = newRing.preferenceListForToken(token);
    const losing = was.filter((id) => !now.includes(id));
    const gaining = now.filter((id) => !was.includes(id));
    const holding = changes.filter((change) => rangeContains(change.range, token));
    if (losing.length === 0 && gaining.length === 0) {
      assert.equal(holding.length, 0, `token ${token} has the same replicas yet is reported`);
      continue;
    }
    assert.equal(holding.length, 1, `token ${token} changed and must be in exactly one range`);
    const change = holding[0]!;
    assert.deepEqual(change.losing, sorted(losing));
    assert.deepEqual(change.gaining, sorted(gaining));
    assert.deepEqual(change.before, was);
    assert.deepEqual(change.after, now);
  }
  // Merged as far as possible: neighbours never carry the same lists.
  for (let index = 0; index < changes.length && changes.length > 1; index++) {
    const a = changes[index]!;
    const b = changes[(index + 1) % changes.length]!;
    if (a.range.end === b.range.start) {
      assert.ok(JSON.stringify([a.before, a.after]) !== JSON.stringify([b.before, b.after]), 'adjacent equal changes are merged');
    }
  }
}

describe('diffRings', () => {
  it('matches a brute-force comparison on random memberships', () => {
    fc.assert(
      fc.property(
        membershipArbitrary(),
        membershipArbitrary(),
        vnodesArbitrary,
        vnodesArbitrary,
        replicationArbitrary,
        replicationArbitrary,
        fc.array(tokenArbitrary, { maxLength: 20 }),
        (oldMembers, newMembers, oldVnodes, newVnodes, oldN, newN, random) => {
          const oldRing = HashRing.build(oldMembers, { vnodes: oldVnodes, replicationFactor: oldN }, hash);
          const newRing = HashRing.build(newMembers, { vnodes: newVnodes, replicationFactor: newN }, hash);
          checkAgainstBruteForce(oldRing, newRing, random);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches brute force when members are added and removed from a common base', () => {
    fc.assert(
      fc.property(
        membershipArbitrary(8, 1).chain((base) => fc.tuple(fc.constant(base), fc.subarray(base), membershipArbitrary(2))),
        vnodesArbitrary,
        replicationArbitrary,
        fc.array(tokenArbitrary, { maxLength: 10 }),
        ([base, kept, extra], vnodes, replicationFactor, random) => {
          const added = extra.filter((member) => !base.some((existing) => existing.id === member.id));
          const oldRing = HashRing.build(base, { vnodes, replicationFactor }, hash);
          const newRing = HashRing.build([...kept, ...added], { vnodes, replicationFactor }, hash);
          checkAgainstBruteForce(oldRing, newRing, random);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches brute force when only vnodes change, where many replica sets only reorder', () => {
    fc.assert(
      fc.property(membershipArbitrary(6, 2), vnodesArbitrary, replicationArbitrary, fc.array(tokenArbitrary, { maxLength: 10 }), (members, vnodes, replicationFactor, random) => {
        const oldRing = HashRing.build(members, { vnodes, replicationFactor }, hash);
        const newRing = HashRing.build(members, { vnodes: vnodes + 1, replicationFactor }, hash);
        checkAgainstBruteForce(oldRing, newRing, random);
      }),
      { numRuns: 200 },
    );
  });

  it('reports nothing for the same membership in another order', () => {
    const members = [{ id: 'a', zone: 'z1' }, { id: 'b', zone: 'z2' }, { id: 'c' }];
    const a = HashRing.build(members, { vnodes: 8 }, hash);
    const b = HashRing.build([...members].reverse(), { vnodes: 8 }, hash);
    assert.deepEqual(diffRings(a, b), []);
  });

  it('gives the whole ring to the first member and takes it from the last', () => {
    const empty = HashRing.build([], {}, hash);
    const one = HashRing.build([{ id: 'first' }], { vnodes: 4 }, hash);
    const grown = diffRings(empty, one);
    assert.equal(grown.length, 1);
    assert.ok(grown[0]!.range.start === grown[0]!.range.end, 'the whole ring');
    assert.deepEqual(grown[0]!.gaining, ['first']);
    assert.deepEqual(grown[0]!.losing, []);
    const shrunk = diffRings(one, empty);
    assert.deepEqual(shrunk.map((change) => [change.losing, change.gaining]), [[['first'], []]]);
    assert.deepEqual(diffRings(empty, empty), []);
    assert.ok(rangeContains(FULL_RING, 5n));
  });

  it('on adding one node to a larger cluster, moves ranges only onto that node, each from one old replica', () => {
    const members = Array.from({ length: 9 }, (_, index) => ({ id: `quorumkv-${index}` }));
    const before9 = HashRing.build(members, { vnodes: 64 }, hash);
    const after10 = HashRing.build([...members, { id: 'quorumkv-9' }], { vnodes: 64 }, hash);
    const changes = diffRings(before9, after10);
    assert.ok(changes.length > 0);
    for (const change of changes) {
      assert.deepEqual(change.gaining, ['quorumkv-9']);
      assert.equal(change.losing.length, 1);
    }
  });
});
