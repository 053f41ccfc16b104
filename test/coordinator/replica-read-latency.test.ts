// The speculation threshold's percentile (src/coordinator/replica-read-latency.ts) is
// found by selection instead of a sort (docs/decisions/0266-lean-quorum-read-path.md):
// it must be the value a sort gives at the same rank, whatever the samples (ties, zeros,
// sorted or reversed input, any count up to the window), and leave the samples as they were.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SAMPLES_KEPT, percentile } from '../../src/coordinator/replica-read-latency.js';

function bySort(samples: Float64Array, count: number, fraction: number): number {
  const sorted = samples.slice(0, count).sort();
  return sorted[Math.min(count - 1, Math.ceil(fraction * count) - 1)]!;
}

test('the selected percentile is the sorted one, and the samples keep their order', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const scratch = new Float64Array(SAMPLES_KEPT);
  const shapes: Array<(i: number, count: number) => number> = [
    () => random() * 50,
    () => Math.floor(random() * 4), // many ties
    () => 3, // all equal
    (i) => i, // ascending
    (i, count) => count - i, // descending
    (i) => (i % 7 === 0 ? 900 : 0.5), // a few outliers
  ];
  for (const shape of shapes) {
    for (let count = 1; count <= SAMPLES_KEPT; count++) {
      const samples = new Float64Array(SAMPLES_KEPT);
      for (let i = 0; i < count; i++) samples[i] = shape(i, count);
      const before = samples.slice();
      for (const fraction of [0.99, 0.5, 0.01, 1]) {
        assert.equal(percentile(samples, count, fraction, scratch), bySort(samples, count, fraction), `count ${count}, fraction ${fraction}`);
      }
      assert.deepEqual(samples, before);
    }
  }
});
