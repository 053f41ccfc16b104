// The manual clock that deadline and timer tests run on: time moves only in advance(),
// timers fire in due order (ties in the order they were set), a cancelled timer never
// fires, a timer set by a firing timer fires in the same advance when it falls due
// within it, promise reactions run between timers, and a repeating timer fires once per
// interval until cancelled.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sleepOn, systemClock } from '../../src/clock/clock.js';
import { MANUAL_CLOCK_START_MS, ManualClock } from '../../src/clock/manual-clock.js';

it('stands still until advanced, then reads the new time', async () => {
  const clock = new ManualClock();
  assert.equal(clock.nowMs(), MANUAL_CLOCK_START_MS);
  await clock.advance(250);
  assert.equal(clock.nowMs(), MANUAL_CLOCK_START_MS + 250);
  await assert.rejects(clock.advance(-1), /backwards/);
});

it('fires due timers in due order, ties in the order set, each at its own time', async () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push(`c@${clock.nowMs()}`));
  clock.setTimer(10, () => fired.push(`a@${clock.nowMs()}`));
  clock.setTimer(10, () => fired.push(`b@${clock.nowMs()}`));
  clock.setTimer(31, () => fired.push('late'));
  await clock.advance(30);
  assert.deepEqual(fired, ['a@10', 'b@10', 'c@30']);
  assert.equal(clock.pendingTimers, 1);
});

it('never fires a cancelled timer, and a 0 ms timer waits for the next advance', async () => {
  const clock = new ManualClock(0);
  let fired = 0;
  clock.setTimer(5, () => fired++).cancel();
  clock.setTimer(0, () => fired++);
  assert.equal(fired, 0, 'never synchronously');
  await clock.advance(10);
  assert.equal(fired, 1);
  assert.equal(clock.pendingTimers, 0);
});

it('runs promise reactions between timers, and fires timers they set within the same advance', async () => {
  const clock = new ManualClock(0);
  const steps: string[] = [];
  const work = (async () => {
    await sleepOn(clock, 10);
    steps.push(`slept 10 @${clock.nowMs()}`);
    await sleepOn(clock, 15);
    steps.push(`slept 15 more @${clock.nowMs()}`);
  })();
  clock.setTimer(20, () => steps.push('timer @20'));
  await clock.advance(30);
  await work;
  assert.deepEqual(steps, ['slept 10 @10', 'timer @20', 'slept 15 more @25']);
});

it('fires a repeating timer once per interval until cancelled', async () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  const timer = clock.setRepeating(100, () => at.push(clock.nowMs()));
  await clock.advance(350);
  assert.deepEqual(at, [100, 200, 300]);
  timer.cancel();
  await clock.advance(1_000);
  assert.deepEqual(at, [100, 200, 300]);
  assert.equal(clock.pendingTimers, 0);
});

it('set() steps the time without firing timers, as a wall clock that jumps', async () => {
  const clock = new ManualClock(1_000);
  let fired = false;
  clock.setTimer(10, () => (fired = true));
  clock.set(500);
  assert.equal(clock.nowMs(), 500);
  await clock.advance(0);
  assert.equal(fired, false);
});

it('the system clock reads Date.now and its timers can be cancelled', async () => {
  const before = Date.now();
  assert.ok(Math.abs(systemClock.nowMs() - before) < 1_000);
  let fired = false;
  systemClock.setTimer(1, () => (fired = true)).cancel();
  await sleepOn(systemClock, 5);
  assert.equal(fired, false);
});

it('advance calls that overlap run one after the other: two advance(50) move time by 100', async () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  clock.setTimer(80, () => fired.push(clock.nowMs()));
  const first = clock.advance(50);
  const second = clock.advance(50);
  await Promise.all([first, second]);
  assert.equal(clock.nowMs(), 100);
  assert.deepEqual(fired, [80]);
});
