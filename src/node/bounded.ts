// A drain step with a time limit: a drain that cannot finish (a storage engine that
// failed underneath, say) must end in a logged error and a non-zero exit, not in a
// process that ignores every further SIGTERM.
import { QkvError } from '../errors/errors.js';

/** `promise`, or an INTERNAL error naming `what` when it takes longer than `timeoutMs`. */
export async function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QkvError('INTERNAL', `drain: ${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
