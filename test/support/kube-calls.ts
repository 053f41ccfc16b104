// Small helpers the Kubernetes tests share: running the real helm binary, and the text
// of a call the API server (or helm) refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findHelm } from './kube-api-server.js';

const run = promisify(execFile);

/** Runs helm (found by findHelm) with `args`; rejects on a non-zero exit. */
export async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(findHelm()!, [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

/** The status code, message, body and stderr of a refused call; fails the test if it was allowed. */
export async function refusedWith(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { code?: number; body?: unknown; stderr?: string };
    return `${failure.code ?? ''} ${failure.message} ${String(failure.body ?? '')} ${failure.stderr ?? ''}`;
  }
  assert.fail('the call was allowed');
}
