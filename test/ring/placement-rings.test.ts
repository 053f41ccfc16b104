// Natural and pending replicas from the read and write rings (src/ring/placement-rings.ts),
// on real rings: a node joining (in the write ring only) and a node leaving (in the read
// ring only), and the settled case where both rings are the same.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HashRing } from '../../src/ring/hash-ring.js';
import { PlacementRings } from '../../src/ring/placement-rings.js';

const ring = (ids: readonly string[]): Promise<HashRing> => HashRing.create(ids.map((id) => ({ id })), { vnodes: 32, replicationFactor: 3 });
const keys = Array.from({ length: 2000 }, (_, i) => Buffer.from(`key-${i}`));

it('settled: natural is the ring preference list and nothing is pending', async () => {
  const read = await ring(['a', 'b', 'c', 'd']);
  const rings = new PlacementRings(read, await ring(['a', 'b', 'c', 'd']));
  assert.equal(rings.settled, true);
  assert.deepEqual(rings.moves(), []);
  for (const key of keys) {
    const placement = rings.placementOfKey(key);
    assert.deepEqual(placement.natural, read.preferenceListForKey(key));
    assert.deepEqual(placement.pending, []);
  }
});

it('joining: the joiner is pending exactly where the write ring gives it the key', async () => {
  const read = await ring(['a', 'b', 'c', 'd']);
  const write = await ring(['a', 'b', 'c', 'd', 'e']);
  const rings = new PlacementRings(read, write);
  let pendingKeys = 0;
  for (const key of keys) {
    const placement = rings.placementOfKey(key);
    assert.deepEqual(placement.natural, read.preferenceListForKey(key));
    const final = write.preferenceListForKey(key);
    assert.deepEqual(placement.pending, final.includes('e') ? ['e'] : []);
    if (placement.pending.length > 0) pendingKeys++;
  }
  // e takes about 3/5 of the keys as one of 3 replicas among 5 nodes.
  assert.ok(pendingKeys > keys.length * 0.45 && pendingKeys < keys.length * 0.75, `${pendingKeys} pending keys`);
  // Every move names e as the one gaining node, and covers exactly the keys with e pending.
  const moves = rings.moves();
  assert.ok(moves.every((move) => move.gaining.length === 1 && move.gaining[0] === 'e'));
});

it('leaving: the new owners of the leaver\'s ranges are pending and the leaver stays natural', async () => {
  const read = await ring(['a', 'b', 'c', 'd', 'e']);
  const write = await ring(['a', 'b', 'c', 'd']);
  const rings = new PlacementRings(read, write);
  for (const key of keys) {
    const placement = rings.placementOfKey(key);
    const natural = read.preferenceListForKey(key);
    assert.deepEqual(placement.natural, natural);
    assert.deepEqual(placement.pending, write.preferenceListForKey(key).filter((id) => !natural.includes(id)));
    assert.equal(placement.pending.length, natural.includes('e') ? 1 : 0);
  }
  assert.ok(rings.moves().every((move) => move.losing.length === 1 && move.losing[0] === 'e'));
});

it('no member in a ring yet: no replicas rather than a crash', async () => {
  const rings = new PlacementRings(await ring([]), await ring(['a']));
  assert.deepEqual(rings.placementOfKey(Buffer.from('k')), { natural: [], pending: ['a'] });
});
