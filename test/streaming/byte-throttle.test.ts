// ByteThrottle on virtual time (a ManualClock): the rate, the one-second burst, waiting
// callers in line, and abort while waiting, all without sleeping. A throttle on the
// machine's time would leave every take() below pending however far the clock moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { ByteThrottle } from '../../src/streaming/byte-throttle.js';

/** Whether `promise` has settled, after letting pending reactions run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('a caller ahead of the rate waits exactly its share on the clock, after a burst of one second', async () => {
  const clock = new ManualClock();
  const throttle = new ByteThrottle(1000, clock);
  // The first second's budget is spent at once (the burst of a fresh or paused stream).
  assert.equal(await settled(throttle.take(1000)), true);
  // 500 bytes more at 1000 bytes/s: 500 ms, on the clock, and not a moment before.
  const next = throttle.take(500);
  assert.equal(await settled(next), false);
  await clock.advance(499);
  assert.equal(await settled(next), false);
  await clock.advance(1);
  assert.equal(await settled(next), true);
  // Two callers in line: the second pays after the first.
  const first = throttle.take(1000);
  const second = throttle.take(1000);
  await clock.advance(1000);
  assert.equal(await settled(first), true);
  assert.equal(await settled(second), false);
  await clock.advance(1000);
  assert.equal(await settled(second), true);
  assert.equal(clock.pendingTimers, 0);
});

test('a pause earns at most one second of budget', async () => {
  const clock = new ManualClock();
  const throttle = new ByteThrottle(1000, clock);
  await clock.advance(60_000);
  // A minute idle buys one second of bytes, not sixty.
  assert.equal(await settled(throttle.take(1000)), true);
  const over = throttle.take(1);
  assert.equal(await settled(over), false);
  await clock.advance(1);
  assert.equal(await settled(over), true);
});

test('an abort while waiting rejects at once with the signal\'s reason and leaves no timer; an aborted signal refuses at once', async () => {
  const clock = new ManualClock();
  const throttle = new ByteThrottle(1000, clock);
  await throttle.take(1000);
  const controller = new AbortController();
  const waiting = throttle.take(5000, controller.signal);
  assert.equal(clock.pendingTimers, 1);
  controller.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.equal(clock.pendingTimers, 0);
  await assert.rejects(throttle.take(1, controller.signal), { name: 'AbortError' });
  assert.throws(() => new ByteThrottle(0, clock), /bytesPerSecond must be positive, got 0/);
});
