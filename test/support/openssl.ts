// The `openssl` command line, for tests that check our certificates with a second,
// independent implementation. Where it is missing the test is skipped on a developer's
// machine, but fails in CI (process.env.CI set): there a missing tool must not quietly
// turn a check into a pass.
import { execFile, spawnSync } from 'node:child_process';

export interface OpensslResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let available: boolean | undefined;

export function opensslAvailable(): boolean {
  available ??= spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
  return available;
}

/**
 * The `skip` option for a test that needs openssl: false when it is there or in CI
 * (where the test then fails on the first call), else the reason to skip.
 */
export function skipWithoutOpenssl(): string | false {
  if (opensslAvailable() || process.env['CI'] !== undefined) return false;
  return 'openssl is not on PATH';
}

export function openssl(args: readonly string[]): Promise<OpensslResult> {
  if (!opensslAvailable()) throw new Error('openssl is not on PATH (required when CI is set)');
  return new Promise((resolve) => {
    execFile('openssl', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
