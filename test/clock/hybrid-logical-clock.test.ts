// The hybrid logical clock: strictly increasing stamps whatever the wall clock does,
// and later than every stamp it has observed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HLC_FORWARD_DRIFT_MS_MAX, HybridLogicalClock, logicalOf, stampOf, wallMsOf } from '../../src/clock/hybrid-logical-clock.js';

describe('hybrid logical clock', () => {
  it('packs 48 bits of wall time and 16 bits of logical counter', () => {
    const stamp = stampOf(1_700_000_000_123n, 7n);
    assert.equal(wallMsOf(stamp), 1_700_000_000_123n);
    assert.equal(logicalOf(stamp), 7n);
  });

  it('issues strictly increasing stamps for any sequence of wall-clock readings', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 200 }), (readings) => {
        let at = 0;
        const clock = new HybridLogicalClock(() => readings[at++ % readings.length]!);
        let previous = -1n;
        for (let i = 0; i < readings.length; i++) {
          const stamp = clock.now();
          assert.ok(stamp > previous, `stamp ${stamp} did not follow ${previous}`);
          previous = stamp;
        }
      }),
    );
  });

  it('keeps ordering when the wall clock steps back by an hour', () => {
    let wallMs = 10_000_000;
    const clock = new HybridLogicalClock(() => wallMs);
    const before = clock.now();
    wallMs -= 3_600_000;
    const after = clock.now();
    assert.ok(after > before);
    assert.equal(wallMsOf(after), wallMsOf(before), 'holds the last wall time and counts logically');
  });

  it('stamps later than any stamp it observed', () => {
    const clock = new HybridLogicalClock(() => 1000);
    const remote = stampOf(5000n, 3n); // 4 s ahead: within the drift bound
    clock.observe(remote);
    assert.ok(clock.now() > remote);
  });

  it('does not adopt a stamp from a clock far ahead, nor one near 2^64', () => {
    const clock = new HybridLogicalClock(() => 1_000_000);
    assert.equal(clock.observe(stampOf(BigInt(1_000_000 + HLC_FORWARD_DRIFT_MS_MAX + 1), 0n)), false);
    assert.equal(clock.observe((1n << 64n) - 1n), false);
    assert.equal(wallMsOf(clock.now()), 1_000_000n);
    assert.equal(clock.observe(stampOf(1_030_000n, 0n)), true, 'a stamp within the drift bound is adopted');
    assert.equal(wallMsOf(clock.now()), 1_030_000n);
  });

  it('borrows the next millisecond when the logical counter is exhausted', () => {
    const clock = new HybridLogicalClock(() => 1000);
    let previous = clock.now();
    for (let i = 0; i < 70_000; i++) {
      const stamp = clock.now();
      assert.ok(stamp > previous);
      previous = stamp;
    }
    assert.equal(wallMsOf(previous), 1001n);
  });
});
