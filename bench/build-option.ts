// What the benchmarks that compare builds side by side share (`npm run bench:cpu`,
// `npm run bench:call`, `npm run bench:gate`): the `--build NAME=DIR` option, a bounded
// count flag, and the median they summarise rounds with.
import { resolve } from 'node:path';

export interface BuildOption {
  readonly name: string;
  /** The checkout, absolute; its compiled tree is under dist/. */
  readonly dir: string;
}

/** One `--build NAME=DIR` value. */
export function parseBuildOption(text: string): BuildOption {
  const at = text.indexOf('=');
  if (at <= 0) throw new Error(`--build must be NAME=DIR, got ${JSON.stringify(text)}`);
  return { name: text.slice(0, at), dir: resolve(text.slice(at + 1)) };
}

/** The middle value, or the mean of the two middle ones. */
export function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A count flag from 1 to `max`: the bound keeps a typo from running for hours. */
export function positiveInteger(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`--${flag} must be an integer from 1 to ${max}, not ${JSON.stringify(text)}`);
  return value;
}
