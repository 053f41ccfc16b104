// When an append counts as durable. `always` (the default) resolves an append only
// after the fdatasync that covers it, so an acknowledged write survives power loss.
// `interval:<ms>` resolves after the write() and syncs on a timer: a crash of the
// machine can lose up to that window. `never` leaves syncing to the kernel; for tests
// and throwaway data only.
import { ConfigInvalidError } from '../../errors/errors.js';

export type FsyncPolicy =
  | { readonly kind: 'always' }
  | { readonly kind: 'interval'; readonly intervalMs: number }
  | { readonly kind: 'never' };

export const FSYNC_INTERVAL_MS_MAX = 60_000;

export function parseFsyncPolicy(text: string): FsyncPolicy {
  if (text === 'always') return { kind: 'always' };
  if (text === 'never') return { kind: 'never' };
  const match = /^interval:(\d+)$/.exec(text);
  if (match) {
    const intervalMs = Number(match[1]);
    if (intervalMs >= 1 && intervalMs <= FSYNC_INTERVAL_MS_MAX) return { kind: 'interval', intervalMs };
  }
  throw new ConfigInvalidError(`fsync policy "${text}" is not one of always, never, interval:<1..${FSYNC_INTERVAL_MS_MAX} ms>`);
}

export function formatFsyncPolicy(policy: FsyncPolicy): string {
  return policy.kind === 'interval' ? `interval:${policy.intervalMs}` : policy.kind;
}
