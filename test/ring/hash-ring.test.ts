// The ring against a brute-force model, and the placement properties the rest of the
// database relies on: N distinct replicas, distinct zones first, movement only onto an
// added node and only off a removed one, independence from input order, bad input
// refused with a clear error.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../src/errors/errors.js';
import { NODE_ID_BYTES_MAX, REPLICATION_FACTOR_MAX, RING_TOKENS_MAX, RING_VNODES_MAX } from '../../src/limits.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import type { RingMember } from '../../src/ring/ring-member.js';
import { loadXxHash64, type XxHash64 } from '../../src/ring/token-hasher.js';
import { rangeContains, TOKEN_MAX } from '../../src/ring/token-range.js';
import { ReferenceRing } from './reference-ring.js';
import { membershipArbitrary, probeTokens, replicationArbitrary, tokenArbitrary, vnodesArbitrary, ZONES } from './ring-arbitraries.js';

let hash: XxHash64;
before(async () => {
  hash = await loadXxHash64();
});

function zoneKey(member: RingMember): string {
  return member.zone ?? `own:${member.id}`;
}

describe('HashRing', () => {
  it('agrees with the brute-force model at every boundary and at random tokens', () => {
    fc.assert(
      fc.property(membershipArbitrary(), vnodesArbitrary, replicationArbitrary, fc.array(tokenArbitrary, { maxLength: 20 }), (members, vnodes, replicationFactor, random) => {
        const ring = HashRing.build(members, { vnodes, replicationFactor }, hash);
        const reference = new ReferenceRing(members, vnodes, replicationFactor, hash);
        assert.equal(ring.rangeCount, reference.boundaryTokens().length);
        for (const token of probeTokens(reference.boundaryTokens(), random)) {
          assert.deepEqual(ring.preferenceListForToken(token), reference.preferenceList(token), `token ${token}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives every key N distinct nodes, or every node when there are fewer, from as many zones as possible', () => {
    fc.assert(
      fc.property(membershipArbitrary(8, 1), vnodesArbitrary, replicationArbitrary, fc.array(fc.uint8Array({ minLength: 1, maxLength: 16 }), { minLength: 1, maxLength: 30 }), (members, vnodes, replicationFactor, keys) => {
        const ring = HashRing.build(members, { vnodes, replicationFactor }, hash);
        const zoneCount = new Set(members.map(zoneKey)).size;
        const byId = new Map(members.map((member) => [member.id, member]));
        for (const key of keys) {
          const list = ring.preferenceListForKey(key);
          assert.equal(list.length, Math.min(replicationFactor, members.length));
          assert.equal(new Set(list).size, list.length, 'replicas are distinct nodes');
          for (const id of list) assert.ok(byId.has(id));
          const zones = new Set(list.map((id) => zoneKey(byId.get(id)!)));
          assert.equal(zones.size, Math.min(replicationFactor, zoneCount), 'replicas span min(N, zones) zones');
          // The primary owns the key's token: the first token at or after it.
          const position = ring.positionOf(ring.tokenOf(key));
          assert.ok(rangeContains(ring.rangeAt(position), ring.tokenOf(key)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('puts replicas in three zones when three zones exist, even when one zone holds most nodes', () => {
    const members: RingMember[] = [
      ...Array.from({ length: 8 }, (_, index) => ({ id: `big-${index}`, zone: 'zone-a' })),
      { id: 'small-b', zone: 'zone-b' },
      { id: 'small-c', zone: 'zone-c' },
    ];
    const ring = HashRing.build(members, { vnodes: 16, replicationFactor: 3 }, hash);
    for (const owned of ring.ownedRanges()) {
      const zones = owned.replicas.map((id) => ring.zoneOf(id));
      assert.deepEqual(new Set(zones), new Set(['zone-a', 'zone-b', 'zone-c']));
    }
    // Two zones and N = 3: both zones first, then the next node clockwise.
    const twoZones = HashRing.build(members.filter((member) => member.id !== 'small-c'), { vnodes: 16, replicationFactor: 3 }, hash);
    for (const owned of twoZones.ownedRanges()) {
      assert.equal(owned.replicas.length, 3);
      assert.deepEqual(new Set(owned.replicas.slice(0, 2).map((id) => twoZones.zoneOf(id))), new Set(['zone-a', 'zone-b']));
    }
  });

  it('moves keys only onto an added node', () => {
    fc.assert(
      fc.property(
        membershipArbitrary(7, 1),
        fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
        vnodesArbitrary,
        replicationArbitrary,
        fc.array(tokenArbitrary, { maxLength: 20 }),
        (members, zone, vnodes, replicationFactor, random) => {
          const newcomer: RingMember = zone === undefined ? { id: 'newcomer' } : { id: 'newcomer', zone };
          const before = HashRing.build(members, { vnodes, replicationFactor }, hash);
          const after = HashRing.build([...members, newcomer], { vnodes, replicationFactor }, hash);
          const boundaries = [...before.ownedRanges(), ...after.ownedRanges()].map((owned) => owned.range.end);
          for (const token of probeTokens(boundaries, random)) {
            const was = before.preferenceListForToken(token);
            const now = after.preferenceListForToken(token);
            assert.deepEqual(now.filter((id) => !was.includes(id) && id !== 'newcomer'), [], `only the newcomer gains token ${token}`);
            if (!now.includes('newcomer')) assert.deepEqual([...now].sort(), [...was].sort(), `token ${token} stays put`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('moves keys only off a removed node', () => {
    fc.assert(
      fc.property(
        membershipArbitrary(8, 2),
        fc.nat(),
        vnodesArbitrary,
        replicationArbitrary,
        fc.array(tokenArbitrary, { maxLength: 20 }),
        (members, pick, vnodes, replicationFactor, random) => {
          const removed = members[pick % members.length]!.id;
          const before = HashRing.build(members, { vnodes, replicationFactor }, hash);
          const after = HashRing.build(members.filter((member) => member.id !== removed), { vnodes, replicationFactor }, hash);
          const boundaries = [...before.ownedRanges(), ...after.ownedRanges()].map((owned) => owned.range.end);
          for (const token of probeTokens(boundaries, random)) {
            const was = before.preferenceListForToken(token);
            const now = after.preferenceListForToken(token);
            assert.deepEqual(was.filter((id) => !now.includes(id) && id !== removed), [], `only ${removed} loses token ${token}`);
            if (!was.includes(removed)) assert.deepEqual([...now].sort(), [...was].sort(), `token ${token} stays put`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is the same ring whatever order the members arrive in', () => {
    fc.assert(
      fc.property(membershipArbitrary(), vnodesArbitrary, replicationArbitrary, fc.integer(), (members, vnodes, replicationFactor, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(members, { minLength: members.length, maxLength: members.length }), { numRuns: 1, seed })[0]!;
        const a = HashRing.build(members, { vnodes, replicationFactor }, hash);
        const b = HashRing.build(shuffled, { vnodes, replicationFactor }, hash);
        assert.equal(a.digest, b.digest);
        assert.deepEqual(a.ownedRanges(), b.ownedRanges());
      }),
      { numRuns: 100 },
    );
  });

  it('owns the whole ring with consecutive ranges whose replicas match lookups at both ends', () => {
    fc.assert(
      fc.property(membershipArbitrary(6, 1), vnodesArbitrary, replicationArbitrary, (members, vnodes, replicationFactor) => {
        const ring = HashRing.build(members, { vnodes, replicationFactor }, hash);
        const ranges = ring.ownedRanges();
        for (let index = 0; index < ranges.length; index++) {
          const { range, replicas } = ranges[index]!;
          const previous = ranges[(index + ranges.length - 1) % ranges.length]!;
          assert.equal(range.start, previous.range.end, 'ranges are consecutive and wrap');
          assert.deepEqual(ring.preferenceListForToken(range.end), replicas);
          const first = range.start === TOKEN_MAX ? 0n : range.start + 1n;
          assert.deepEqual(ring.preferenceListForToken(first), replicas);
          if (ranges.length > 1) assert.notEqual(range.start, range.end, 'no range is empty or, wrongly, the whole ring');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('wraps a token past the last vnode round to the first', () => {
    const ring = HashRing.build([{ id: 'a' }, { id: 'b' }, { id: 'c' }], { vnodes: 4, replicationFactor: 2 }, hash);
    const last = ring.tokenAt(ring.rangeCount - 1);
    assert.ok(last < TOKEN_MAX);
    assert.equal(ring.positionOf(last), ring.rangeCount - 1);
    assert.equal(ring.positionOf(last + 1n), 0);
    assert.equal(ring.positionOf(TOKEN_MAX), 0);
    assert.equal(ring.positionOf(0n), 0);
    assert.equal(ring.positionOf(ring.tokenAt(0) + 1n), 1);
  });

  it('gives a single token the whole ring and an empty ring no replicas', () => {
    const single = HashRing.build([{ id: 'only' }], { vnodes: 1, replicationFactor: 3 }, hash);
    const [owned] = single.ownedRanges();
    assert.equal(owned!.range.start, owned!.range.end);
    assert.deepEqual(single.preferenceListForToken(12345n), ['only']);
    const empty = HashRing.build([], {}, hash);
    assert.equal(empty.rangeCount, 0);
    assert.deepEqual(empty.preferenceListForToken(7n), []);
    assert.deepEqual(empty.ownedRanges(), []);
    assert.equal(empty.positionOf(7n), -1);
  });

  it('keeps one position per token when two vnode tokens collide, the lower id winning', () => {
    // A hash where b#0 collides with a#0; everything else is distinct.
    const forced = new Map<string, bigint>([
      ['a#0', 100n],
      ['b#0', 100n],
      ['a#1', 300n],
      ['b#1', 200n],
    ]);
    const utf8 = new TextDecoder();
    const colliding: XxHash64 = {
      bytes: (input) => forced.get(utf8.decode(input)) ?? hash.bytes(input),
      text: (input) => forced.get(input) ?? hash.text(input),
    };
    const ring = HashRing.build([{ id: 'b' }, { id: 'a' }], { vnodes: 2, replicationFactor: 2 }, colliding);
    assert.equal(ring.rangeCount, 3);
    assert.deepEqual(
      ring.ownedRanges().map((owned) => [owned.range.start, owned.range.end, owned.replicas]),
      [
        [300n, 100n, ['a', 'b']],
        [100n, 200n, ['b', 'a']],
        [200n, 300n, ['a', 'b']],
      ],
    );
  });

  it('returns the same frozen list for every lookup in a range', () => {
    const ring = HashRing.build([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], { vnodes: 8 }, hash);
    const first = ring.preferenceListForToken(ring.tokenAt(3));
    assert.strictEqual(ring.preferenceListForToken(ring.tokenAt(3) - 1n), first);
    assert.ok(Object.isFrozen(first));
  });

  it('refuses bad members and settings with INVALID_ARGUMENT', () => {
    const refuses = (members: RingMember[], options: { vnodes?: number; replicationFactor?: number }, pattern: RegExp) =>
      assert.throws(() => HashRing.build(members, options, hash), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, pattern);
        return true;
      });
    refuses([{ id: 'a' }, { id: 'a' }], {}, /member id a appears more than once/);
    refuses([{ id: '' }], {}, /member id must be 1 to 253 bytes, got 0 bytes/);
    refuses([{ id: 'x'.repeat(NODE_ID_BYTES_MAX + 1) }], {}, /got 254 bytes/);
    refuses([{ id: 'a', zone: '' }], {}, /member a has an empty zone/);
    refuses([{ id: 'a' }], { vnodes: 0 }, /vnodes must be an integer from 1 to 4096, got 0/);
    refuses([{ id: 'a' }], { vnodes: RING_VNODES_MAX + 1 }, /vnodes must be an integer/);
    refuses([{ id: 'a' }], { vnodes: 1.5 }, /vnodes must be an integer/);
    refuses([{ id: 'a' }], { replicationFactor: 0 }, new RegExp(`replication factor must be an integer from 1 to ${REPLICATION_FACTOR_MAX}, got 0`));
    refuses([{ id: 'a' }], { replicationFactor: REPLICATION_FACTOR_MAX + 1 }, /replication factor/);
    const many = Array.from({ length: Math.ceil(RING_TOKENS_MAX / RING_VNODES_MAX) + 1 }, (_, index) => ({ id: `n${index}` }));
    refuses(many, { vnodes: RING_VNODES_MAX }, new RegExp(`tokens; the limit is ${RING_TOKENS_MAX}`));
  });
});
