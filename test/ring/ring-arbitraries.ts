// fast-check generators shared by the ring tests: small memberships (few members, few
// vnodes, so each property runs in milliseconds) and the tokens worth probing on a ring.
import fc from 'fast-check';
import type { RingMember } from '../../src/ring/ring-member.js';
import { TOKEN_MAX } from '../../src/ring/token-range.js';

export const ZONES = ['zone-a', 'zone-b', 'zone-c', 'zone-d'] as const;

/** One member; `zoned` decides whether it may carry a zone. */
export function memberArbitrary(id: string, zoned: boolean): fc.Arbitrary<RingMember> {
  if (!zoned) return fc.constant({ id });
  return fc.option(fc.constantFrom(...ZONES), { nil: undefined, freq: 4 }).map((zone) => (zone === undefined ? { id } : { id, zone }));
}

/** 0..maxMembers members with distinct ids from a small pool; some runs without any zone. */
export function membershipArbitrary(maxMembers = 8, minMembers = 0): fc.Arbitrary<RingMember[]> {
  return fc
    .tuple(fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: minMembers, maxLength: maxMembers }), fc.boolean())
    .chain(([numbers, zoned]) => fc.tuple(...numbers.map((number) => memberArbitrary(`node-${number}`, zoned))));
}

export const vnodesArbitrary = fc.integer({ min: 1, max: 8 });
export const replicationArbitrary = fc.integer({ min: 1, max: 5 });
export const tokenArbitrary = fc.bigInt(0n, TOKEN_MAX);

/** Each boundary token, its neighbours, the ends of the token space and some random tokens. */
export function probeTokens(boundaries: readonly bigint[], random: readonly bigint[]): bigint[] {
  const probes = new Set<bigint>([0n, 1n, TOKEN_MAX, ...random]);
  for (const token of boundaries) {
    probes.add(token);
    probes.add(token === TOKEN_MAX ? 0n : token + 1n);
    probes.add(token === 0n ? TOKEN_MAX : token - 1n);
  }
  return [...probes];
}
