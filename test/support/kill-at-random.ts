// Runs a child process that prints one line per step it took (test/fixtures/*-writer.ts),
// hands each line to the test (all of them, those printed after the kill was decided
// too), and SIGKILLs the child as soon as the test says so: the
// crash tests' way of stopping a writer at a random moment. Resolves once the child is
// dead; rejects if it exits by itself first or prints nothing useful for `timeoutMs`.
import { spawn } from 'node:child_process';

export interface KillAtRandomOptions {
  /** The compiled fixture to run with Node. */
  readonly script: string;
  readonly args: readonly string[];
  /** Called for every whole line the child prints; returns true when the child must die now. */
  readonly onLine: (line: string) => boolean;
  readonly timeoutMs: number;
  /** Names the run in errors, e.g. `round 3`. */
  readonly label: string;
}

export function runUntilKilled(options: KillAtRandomOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.script, ...options.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.label}: child made no progress in ${options.timeoutMs} ms; stderr: ${stderr}`));
    }, options.timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        // Lines that arrive after the kill was decided still go to the test: the child
        // kept working until the signal landed, and a step it began or acknowledged
        // meanwhile is as real as any other (a key whose step began unseen would
        // otherwise be checked against its state before that step).
        const killNow = options.onLine(line);
        if (!killed && killNow) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve();
      else reject(new Error(`${options.label}: child exited with ${code ?? signal} before the kill; stderr: ${stderr}`));
    });
  });
}
