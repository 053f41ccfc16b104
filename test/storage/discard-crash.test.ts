// Crash test of StorageEngine.discard with real processes: a child walks keys through
// puts and discards (test/fixtures/discard-writer.ts) with fsync=always and budgets
// small enough that checkpoints and WAL rotations happen between kills; the parent
// SIGKILLs it at random moments, reopens the engine and checks every key whose last
// step was acknowledged, in every round so far: a discarded key is absent (no replay
// or checkpoint brought it back), a put key holds its value (no replayed discard took
// a later write). Keys with a step in flight at the kill may be in either state. The
// round count can be raised with QKV_CRASH_ROUNDS.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

const ROUNDS = Number(process.env['QKV_CRASH_ROUNDS'] ?? '15');
const CHILD_TIMEOUT_MS = 20_000;
const writerPath = fileURLToPath(new URL('../fixtures/discard-writer.js', import.meta.url));

/** A key's last acknowledged state: its value, or null once discarded. */
interface KeyState {
  expected: string | null;
  inFlight: boolean;
}

/** Runs one child until `killAfterLines` acknowledgements arrived, kills it; updates `keys`. */
function runAndKill(dir: string, round: number, killAfterLines: number, keys: Map<string, KeyState>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerPath, dir, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    let acks = 0;
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`round ${round}: child made no progress in ${CHILD_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, key, value] = line.split(' ');
        if (key === undefined) continue;
        const state = keys.get(key) ?? { expected: null, inFlight: false };
        keys.set(key, state);
        if (kind === 'begin') state.inFlight = true;
        else if (kind === 'put' || kind === 'gone') {
          state.inFlight = false;
          state.expected = kind === 'put' ? value! : null;
          acks++;
        }
      }
      if (!killed && acks >= killAfterLines) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve();
      else reject(new Error(`round ${round}: child exited with ${code ?? signal} before the kill; stderr: ${stderr}`));
    });
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
      const { engine, recovery } = await DurableStorageEngine.open({ dir, tokenOf: testTokenOf, registry: new Registry(), logger: silentLogger });
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
