// Kubernetes resource quantities of storage ("10Gi", "500M", "1.5Ti", "10737418240") as
// exact byte counts, so that the scale controller can tell whether a volume claim asks
// for less than the QuorumKVCluster's spec.persistence.size. Only the forms a storage
// request uses are accepted: a non-negative decimal number and an optional binary
// (Ki..Ei) or decimal (k..E) suffix; exponents ("1e9") and milli ("m") are refused with
// a clear error rather than guessed at.
import { ConfigInvalidError } from '../errors/errors.js';

const MULTIPLIERS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n],
  ['Ki', 1n << 10n], ['Mi', 1n << 20n], ['Gi', 1n << 30n], ['Ti', 1n << 40n], ['Pi', 1n << 50n], ['Ei', 1n << 60n],
  ['k', 10n ** 3n], ['M', 10n ** 6n], ['G', 10n ** 9n], ['T', 10n ** 12n], ['P', 10n ** 15n], ['E', 10n ** 18n],
]);

/** Characters of a quantity; the API server's own limit on any quantity is far above. */
const QUANTITY_CHARS_MAX = 64;

/** The bytes a storage quantity names, rounded up to a whole byte as Kubernetes does. */
export function storageBytesOf(text: string, what: string): bigint {
  const match = text.length <= QUANTITY_CHARS_MAX ? /^([0-9]+)(?:\.([0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(text) : null;
  if (match === null) throw new ConfigInvalidError(`${what} "${text.slice(0, QUANTITY_CHARS_MAX)}" is not a storage quantity such as 10Gi, 500M or 10737418240`);
  const [, whole, fraction = '', suffix = ''] = match;
  const multiplier = MULTIPLIERS.get(suffix)!;
  const scale = 10n ** BigInt(fraction.length);
  const scaled = (BigInt(whole!) * scale + BigInt(fraction === '' ? '0' : fraction)) * multiplier;
  return (scaled + scale - 1n) / scale;
}
