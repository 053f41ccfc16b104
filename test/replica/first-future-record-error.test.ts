// A batch's records from the future are found through its highest stamp
// (src/replica/record-from-future.ts firstFutureRecordError): the answer must be the one
// the record-by-record check gives, for batches with and without refused stamps and
// expiries (the 64-bit edges, stamp 0, a clock whose wall clock stepped back behind its
// last stamp, expiries past 2^53), and the clock must move to the batch's highest stamp.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HybridLogicalClock, stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { HLC_FORWARD_DRIFT_MS_MAX, TTL_MS_MAX } from '../../src/limits.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { firstFutureRecordError, futureRecordError } from '../../src/replica/record-from-future.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import { seededRandom } from '../../src/bench/key-chooser.js';
import { testTokenOf } from '../support/memory-cluster.js';

const WALL_MS = 1_000_000;
const DRIFT = HLC_FORWARD_DRIFT_MS_MAX;

/** The highest stamp a 64-bit field holds, as a forged record may carry it. */
const STAMP_MAX = (1n << 64n) - 1n;

/** A record stamped at `wallMs` (logical part from its index), or with `stamp` itself when a bigint. */
function record(index: number, wallMs: number | bigint, expiresAtMs: number): KvRecord {
  const stamp = typeof wallMs === 'bigint' ? wallMs : stampOf(BigInt(wallMs), BigInt(index % 100));
  return { key: Buffer.from(`k${index}`), value: Buffer.from('v'), version: { stamp, nodeId: 'x' }, expiresAtMs };
}

/** What the record-by-record check answers: the first refusal, as the code and the refused key. */
function oneByOne(records: readonly KvRecord[], clock: HybridLogicalClock): string {
  for (const candidate of records) {
    const refusal = futureRecordError(candidate, clock);
    if (refusal !== undefined) return `${refusal.field} ${refusal.key.toString()} ${refusal.value}`;
  }
  return 'none';
}

it('gives the answer of the record-by-record check for 2000 random batches', () => {
  const random = seededRandom(15);
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]!;
  let refusedByStamp = 0;
  let refusedByExpiry = 0;
  for (let round = 0; round < 2000; round++) {
    let wallMs = WALL_MS;
    const clock = new HybridLogicalClock(() => wallMs);
    // Some clocks have seen a stamp ahead of their wall clock already; some have since
    // seen their wall clock step back, so that they accept stamps up to their last one
    // although it is further ahead of the wall clock than the drift bound.
    const seen = random();
    if (seen < 0.3) clock.observe(stampOf(BigInt(WALL_MS + DRIFT / 2), 0n));
    else if (seen < 0.45) {
      clock.observe(stampOf(BigInt(WALL_MS + DRIFT), 50n));
      wallMs = WALL_MS - 2 * DRIFT;
    }
    const size = 1 + Math.floor(random() * 8);
    const records = Array.from({ length: size }, (_, index) =>
      record(
        index,
        pick<number | bigint>([WALL_MS - 5_000, WALL_MS, WALL_MS + DRIFT - 1, WALL_MS + DRIFT, WALL_MS + DRIFT + 1, WALL_MS + 10 * DRIFT, WALL_MS - 2 * DRIFT, STAMP_MAX, 0n]),
        pick([0, 0, 0, 1, WALL_MS + 60_000, WALL_MS + TTL_MS_MAX + DRIFT, WALL_MS + TTL_MS_MAX + DRIFT + 1, WALL_MS - 2 * DRIFT + TTL_MS_MAX + DRIFT + 1, 2 ** 64]),
      ),
    );
    const expected = oneByOne(records, clock);
    const refusal = firstFutureRecordError(records, clock);
    assert.equal(refusal === undefined ? 'none' : `${refusal.field} ${refusal.key.toString()} ${refusal.value}`, expected, `round ${round}`);
    if (refusal?.field === 'stamp') refusedByStamp++;
    if (refusal?.field === 'expires_at_ms') refusedByExpiry++;
  }
  assert.ok(refusedByStamp > 100 && refusedByExpiry > 100, `both kinds of refusal were drawn: ${refusedByStamp} by stamp, ${refusedByExpiry} by expiry`);
});

it('apply moves the clock to the highest stamp of the batch, wherever it stands, and refuses a batch whole', async () => {
  const clock = new HybridLogicalClock(() => WALL_MS);
  const engine = new MemoryStorageEngine(testTokenOf);
  const replica = new LocalReplica(engine, clock);
  const highest = record(1, WALL_MS + 30_000, 0);
  await replica.apply([record(0, WALL_MS + 10_000, 0), highest, record(2, WALL_MS + 20_000, 0)]);
  assert.ok(clock.now() > highest.version.stamp);

  const before = clock.now();
  await assert.rejects(replica.apply([record(3, WALL_MS, 0), record(4, WALL_MS + 10 * DRIFT, 0)]), { code: 'STAMP_FROM_FUTURE' });
  assert.equal(engine.get(Buffer.from('k3')), undefined, 'nothing of a refused batch is stored');
  assert.ok(clock.now() < stampOf(BigInt(WALL_MS + 10 * DRIFT), 0n) && clock.now() > before, 'the refused stamp did not move the clock');
});

it('a record whose expiry the batch bound refuses but a later wall clock takes does not end the check early: a later record with a forged expiry is still refused', () => {
  // The wall clock advances between the batch's bound and the record's own check (here
  // 10 ms per read), so a record just past the first bound is taken by the second; the
  // record after it, with an expiry no honest node writes, must still be refused.
  let wallMs = WALL_MS;
  const clock = new HybridLogicalClock(() => (wallMs += 10));
  const bound = WALL_MS + TTL_MS_MAX + DRIFT;
  const records = [record(0, WALL_MS, bound + 25), record(1, WALL_MS, bound + 3_600_000)];
  const refusal = firstFutureRecordError(records, clock);
  assert.equal(refusal?.field, 'expires_at_ms', 'the forged expiry of k1 is refused');
  assert.equal(refusal?.key.toString(), 'k1');
});
