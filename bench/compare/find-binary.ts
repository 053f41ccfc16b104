// Locates a server binary on PATH (etcd, redis-server) and says how to install it when
// it is missing, instead of failing later with a bare ENOENT.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findBinary(name: string, installHint: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not on PATH; install it with: ${installHint}`);
}

export function hasBinary(name: string): boolean {
  try {
    findBinary(name, '');
    return true;
  } catch {
    return false;
  }
}
