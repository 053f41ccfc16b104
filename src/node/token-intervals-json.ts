// Closed token intervals in the data directory's JSON files (stream-progress.json,
// held-ranges.json): a list of [low, high] pairs of decimal strings, ascending and
// merged, since JSON numbers cannot hold 64-bit tokens.
import { StateFileCorruptError } from '../errors/errors.js';
import { TOKEN_MAX } from '../ring/token-range.js';
import type { TokenInterval } from '../streaming/completed-ranges.js';

const DECIMAL = /^[0-9]{1,20}$/;

export function intervalsToJson(intervals: readonly TokenInterval[]): string[][] {
  return intervals.map(({ low, high }) => [String(low), String(high)]);
}

/** The intervals of `value`, the field `field` of the file at `path`; a bad one is STATE_FILE_CORRUPT. */
export function intervalsFromJson(path: string, field: string, value: unknown): TokenInterval[] {
  if (!Array.isArray(value)) throw new StateFileCorruptError(path, `${field} is not a list`);
  return value.map((entry: unknown, index): TokenInterval => {
    const [low, high] = Array.isArray(entry) ? (entry as unknown[]) : [];
    if (typeof low !== 'string' || typeof high !== 'string' || !DECIMAL.test(low) || !DECIMAL.test(high)) {
      throw new StateFileCorruptError(path, `${field}[${index}] is not a pair of decimal tokens`);
    }
    const interval = { low: BigInt(low), high: BigInt(high) };
    if (interval.low > interval.high || interval.high > TOKEN_MAX) throw new StateFileCorruptError(path, `${field}[${index}] is not a token interval`);
    return interval;
  });
}
