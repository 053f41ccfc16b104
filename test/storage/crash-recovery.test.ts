// Crash test with real processes: a child writes with fsync=always and prints every
// acknowledged key; the parent SIGKILLs it at random moments, reopens the engine and
// checks that every key ever acknowledged, in every round so far, is present with its
// acknowledged value. Zero lost. The round count can be raised with QKV_CRASH_ROUNDS.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';
import { runUntilKilled } from '../support/kill-at-random.js';

const ROUNDS = Number(process.env['QKV_CRASH_ROUNDS'] ?? '20');
const CHILD_TIMEOUT_MS = 20_000;
const writerPath = fileURLToPath(new URL('../fixtures/crash-writer.js', import.meta.url));

/** Runs one child until a random number of acks arrived, kills it, returns its acks. */
async function runAndKill(dir: string, round: number, killAfterAcks: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  await runUntilKilled({
    script: writerPath,
    args: [dir, String(round)],
    timeoutMs: CHILD_TIMEOUT_MS,
    label: `round ${round}`,
    onLine: (line) => {
      const [kind, key, value] = line.split(' ');
      if (kind === 'ack') acked.set(key!, value!);
      return acked.size >= killAfterAcks;
    },
  });
  return acked;
}

describe('crash recovery with real processes', () => {
  it(`loses no acknowledged write across ${ROUNDS} SIGKILLs`, async () => {
    const dir = await tempDir();
    const everAcked = new Map<string, string>();
    let tornTails = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Kill anywhere from just after start-up to a few thousand writes in.
      const killAfterAcks = 1 + Math.floor(Math.random() * 3000);
      const acked = await runAndKill(dir, round, killAfterAcks);
      for (const [key, value] of acked) everAcked.set(key, value);

      const { engine, recovery } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger: silentLogger });
      try {
        if (recovery.tornBytesDropped > 0) tornTails++;
        const lost = [...everAcked].filter(([key, value]) => engine.get(Buffer.from(key))?.value?.toString() !== value);
        assert.deepEqual(lost.slice(0, 5), [], `round ${round}: ${lost.length} acknowledged writes lost`);
      } finally {
        await engine.close();
      }
    }
    assert.ok(everAcked.size >= ROUNDS, 'the child acknowledged writes');
    process.stderr.write(`crash test: ${ROUNDS} kills, ${everAcked.size} acknowledged writes checked, 0 lost, ${tornTails} torn tails cut\n`);
  });
});
