// Tokens are unsigned 64-bit integers (xxHash64 of the key) held as bigint. A token
// range is half-open on the left, (start, end], the usual ring convention: a node's
// token ends the range it owns. When start >= end the range wraps past 2^64-1 to 0;
// start === end is the whole ring.

export const TOKEN_MIN = 0n;
export const TOKEN_MAX = (1n << 64n) - 1n;

export interface TokenRange {
  readonly start: bigint;
  readonly end: bigint;
}

export const FULL_RING: TokenRange = { start: TOKEN_MIN, end: TOKEN_MIN };

export function rangeContains(range: TokenRange, token: bigint): boolean {
  if (range.start < range.end) return token > range.start && token <= range.end;
  // Wrapping or whole-ring range.
  return token > range.start || token <= range.end;
}

/** Splits a range into at most two non-wrapping closed intervals [low, high]. */
export function rangeIntervals(range: TokenRange): Array<{ low: bigint; high: bigint }> {
  if (range.start < range.end) return [{ low: range.start + 1n, high: range.end }];
  const intervals: Array<{ low: bigint; high: bigint }> = [];
  if (range.start < TOKEN_MAX) intervals.push({ low: range.start + 1n, high: TOKEN_MAX });
  intervals.push({ low: TOKEN_MIN, high: range.end });
  return intervals;
}

export type TokenFunction = (key: Buffer) => bigint;
