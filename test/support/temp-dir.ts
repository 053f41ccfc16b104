// Temporary directories for tests. They are removed when the test file's tests are all
// done, not when each test ends: a test's own `t.after` hooks (closing an engine, say)
// run in registration order and must still find their files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const created: string[] = [];
let cleanupRegistered = false;

export async function tempDir(_context?: unknown, prefix = 'qkv-test-'): Promise<string> {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    after(() => Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true }))));
  }
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
