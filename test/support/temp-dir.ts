// Temporary directories for tests, removed when the test process exits. Not removed in
// a node:test hook: a hook registered from inside a running test or beforeEach attaches
// to that test and can run while the test's own cleanup (closing an engine that still
// writes its final checkpoint) is in progress.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export async function tempDir(_context?: unknown, prefix = 'qkv-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
