// Crash test of StorageEngine.discard with real processes: a child walks keys through
// puts and discards (test/fixtures/discard-writer.ts) with fsync=always and budgets
// small enough that checkpoints and WAL rotations happen between kills; the parent
// SIGKILLs it at random moments, reopens the engine and checks every key whose last
// step was acknowledged, in every round so far: a discarded key is absent (no replay
// or checkpoint brought it back), a put key holds its value (no replayed discard took
// a later write). Keys with a step in flight at the kill may be in either state. The
// round count can be raised with QKV_CRASH_ROUNDS.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';
import { runUntilKilled } from '../support/kill-at-random.js';

const ROUNDS = Number(process.env['QKV_CRASH_ROUNDS'] ?? '15');
const CHILD_TIMEOUT_MS = 20_000;
const writerPath = fileURLToPath(new URL('../fixtures/discard-writer.js', import.meta.url));

/** A key's last acknowledged state: its value, or null once discarded. */
interface KeyState {
  expected: string | null;
  inFlight: boolean;
}

/** Runs one child until `killAfterLines` acknowledgements arrived, kills it; updates `keys`. */
async function runAndKill(dir: string, round: number, killAfterLines: number, keys: Map<string, KeyState>): Promise<void> {
  let acks = 0;
  await runUntilKilled({
    script: writerPath,
    args: [dir, String(round)],
    timeoutMs: CHILD_TIMEOUT_MS,
    label: `round ${round}`,
    onLine: (line) => {
      const [kind, key, value] = line.split(' ');
      if (key === undefined) return false;
      const state = keys.get(key) ?? { expected: null, inFlight: false };
      keys.set(key, state);
      if (kind === 'begin') state.inFlight = true;
      else if (kind === 'put' || kind === 'gone') {
        state.inFlight = false;
        state.expected = kind === 'put' ? value! : null;
        acks++;
      }
      return acks >= killAfterLines;
    },
  });
}

describe('discard crash recovery with real processes', () => {
  it(`keeps discarded keys gone and later writes present across ${ROUNDS} SIGKILLs`, async () => {
    const dir = await tempDir();
    const keys = new Map<string, KeyState>();
    let discardsReplayed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killAfterLines = 1 + Math.floor(Math.random() * 3000);
      await runAndKill(dir, round, killAfterLines, keys);
      const { engine, recovery } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, logger: silentLogger });
      try {
        discardsReplayed += recovery.discardsReplayed;
        const wrong: string[] = [];
        for (const [key, state] of keys) {
          if (state.inFlight) continue;
          const held = engine.get(Buffer.from(key));
          const got = held === undefined ? null : (held.value?.toString() ?? '<tombstone>');
          if (got !== state.expected) wrong.push(`${key}: expected ${state.expected ?? 'absent'}, found ${got ?? 'absent'}`);
        }
        assert.deepEqual(wrong.slice(0, 5), [], `round ${round}: ${wrong.length} keys in the wrong state`);
      } finally {
        await engine.close();
      }
      // A key whose step was cut off may be in either state: later rounds do not check it.
      for (const [key, state] of keys) {
        if (!state.inFlight) continue;
        keys.delete(key);
      }
    }
    const gone = [...keys.values()].filter((state) => state.expected === null).length;
    assert.ok(gone >= ROUNDS, 'the child discarded keys');
    process.stderr.write(`discard crash test: ${ROUNDS} kills, ${keys.size} keys checked (${gone} discarded), ${discardsReplayed} discards replayed, 0 wrong\n`);
  });
});
