// Runs one `qkv bench --json` in its own process and returns its JSON summary. The
// load generator gets a process (an event loop) of its own, as a real client would,
// and what is measured is exactly what `qkv bench` reports.
import { spawn } from 'node:child_process';
import { QKV_MAIN } from './quorumkv-cluster.js';
import { RUN_MARK } from '../../src/cli/commands/bench-command.js';
import type { LatencySummary } from '../../src/bench/latency-histogram.js';

export interface BenchSummary {
  readonly target: string;
  readonly workload: string;
  readonly batchItems: number;
  readonly opsPerSecond: number;
  readonly keysPerSecond: number;
  readonly errorCount: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly load: { readonly keys: number; readonly keysPerSecond: number } | null;
  readonly read: { readonly operations: number; readonly opsPerSecond: number; readonly latency: LatencySummary };
  readonly update: { readonly operations: number; readonly opsPerSecond: number; readonly latency: LatencySummary };
  readonly all: { readonly operations: number; readonly opsPerSecond: number; readonly latency: LatencySummary };
}

export interface BenchProcessHooks {
  /** Receives a way to kill the run (Ctrl-C, errors). */
  readonly onChild?: (kill: () => void) => void;
  /** Called when the measured phase starts and ends (`qkv bench --marks`). */
  readonly onMark?: (event: 'start' | 'end') => void;
  /** Node.js flags for the load generator's process (`--cpu-prof` to profile the client too). */
  readonly nodeArgs?: readonly string[];
  /** The `qkv` entry point that runs `qkv bench`; this build's when absent. */
  readonly main?: string;
}

/** Runs `qkv bench <args> --json --marks` and returns its JSON summary. */
export function runBenchProcess(args: readonly string[], hooks: BenchProcessHooks = {}): Promise<BenchSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(hooks.nodeArgs ?? []), hooks.main ?? QKV_MAIN, 'bench', ...args, '--json', '--marks'], { stdio: ['ignore', 'pipe', 'pipe'] });
    hooks.onChild?.(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line === `${RUN_MARK} start`) hooks.onMark?.('start');
        else if (line === `${RUN_MARK} end`) hooks.onMark?.('end');
        else stderr += line + '\n';
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        // Exit code 1 with a summary means some operations failed; the summary says which.
        resolve(JSON.parse(stdout) as BenchSummary);
      } catch {
        reject(new Error(`qkv bench ${args.join(' ')} exited with ${signal ?? code}: ${stderr.trim() || stdout.trim()}`));
      }
    });
  });
}
