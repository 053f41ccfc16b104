// The quorumkv version this process runs, read once from package.json next to the
// compiled code, for the Admin status and `qkv --version`.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function softwareVersion(): string {
  if (cached === undefined) {
    try {
      const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
      const parsed: unknown = JSON.parse(text);
      const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
      cached = typeof version === 'string' ? version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
