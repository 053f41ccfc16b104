// Checks on everything a client hands the coordinator, made before any replica hears of
// the request, so bad input is refused whole with a clear error and nothing is half
// written. Each failure is an operating error with a stable code (src/errors/errors.ts).
import {
  BatchTooLargeError,
  InvalidArgumentError,
  KeyEmptyError,
  KeyTooLargeError,
  QuorumInvalidError,
  ValueTooLargeError,
} from '../errors/errors.js';
import { TTL_MS_MAX } from '../limits.js';

export function checkKey(key: unknown, keyBytesMax: number): asserts key is Buffer {
  if (!Buffer.isBuffer(key)) throw new InvalidArgumentError('key must be bytes');
  if (key.length === 0) throw new KeyEmptyError();
  if (key.length > keyBytesMax) throw new KeyTooLargeError(key.length, keyBytesMax);
}

export function checkValue(value: unknown, valueBytesMax: number): asserts value is Buffer {
  if (!Buffer.isBuffer(value)) throw new InvalidArgumentError('value must be bytes');
  if (value.length > valueBytesMax) throw new ValueTooLargeError(value.length, valueBytesMax);
}

export function checkBatch(items: readonly unknown[], batchItemsMax: number): void {
  if (items.length > batchItemsMax) throw new BatchTooLargeError(items.length, batchItemsMax);
}

/** The TTL in ms, 0 meaning none. */
export function checkTtlMs(ttlMs: number | undefined): number {
  if (ttlMs === undefined) return 0;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0 || ttlMs > TTL_MS_MAX) {
    throw new InvalidArgumentError(`ttlMs=${ttlMs} is outside 0..${TTL_MS_MAX}`);
  }
  return ttlMs;
}

/** W or R for one request: 0 or absent means the cluster default; otherwise 1..N. */
export function resolveQuorum(name: 'w' | 'r', requested: number | undefined, replicationFactor: number, fallback: number): number {
  if (requested === undefined || requested === 0) return fallback;
  if (!Number.isInteger(requested) || requested < 1 || requested > replicationFactor) {
    throw new QuorumInvalidError(name, requested, replicationFactor);
  }
  return requested;
}

export function checkDeadlineMs(deadlineMs: number | undefined): void {
  if (deadlineMs !== undefined && !Number.isFinite(deadlineMs)) {
    throw new InvalidArgumentError(`deadlineMs=${deadlineMs} is not a finite time`);
  }
}
