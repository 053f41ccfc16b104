// A brute-force model of the ring for tests: every token in a plain array sorted with a
// comparator, and each preference list found by walking the whole ring from the key's
// token. It shares no code with src/ring beyond the hash, so agreement between the two
// means something.
import type { RingMember } from '../../src/ring/ring-member.js';
import type { XxHash64 } from '../../src/ring/token-hasher.js';

interface ReferenceToken {
  readonly token: bigint;
  readonly id: string;
}

export class ReferenceRing {
  private readonly tokens: ReferenceToken[];
  private readonly zoneOf: Map<string, string>;

  constructor(members: readonly RingMember[], vnodes: number, private readonly replicationFactor: number, hash: XxHash64) {
    const all: ReferenceToken[] = [];
    for (const member of members) {
      for (let vnode = 0; vnode < vnodes; vnode++) all.push({ token: hash.text(`${member.id}#${vnode}`), id: member.id });
    }
    all.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Equal tokens: the lowest id keeps the position.
    this.tokens = all.filter((entry, index) => index === 0 || all[index - 1]!.token !== entry.token);
    // A member without a zone is a zone of its own; the prefix cannot clash with a real zone name.
    this.zoneOf = new Map(members.map((member) => [member.id, member.zone ?? `\u0000own:${member.id}`]));
  }

  /** Every distinct node in clockwise order from `token`. */
  walk(token: bigint): string[] {
    const start = this.tokens.findIndex((entry) => entry.token >= token);
    const order: string[] = [];
    for (let step = 0; step < this.tokens.length; step++) {
      const entry = this.tokens[((start === -1 ? 0 : start) + step) % this.tokens.length]!;
      if (!order.includes(entry.id)) order.push(entry.id);
    }
    return order;
  }

  preferenceList(token: bigint): string[] {
    const walk = this.walk(token);
    const zones = new Set<string>();
    const picks: string[] = [];
    const zoneCount = new Set(this.zoneOf.values()).size;
    for (const id of walk) {
      if (picks.length === Math.min(this.replicationFactor, zoneCount)) break;
      const zone = this.zoneOf.get(id)!;
      if (zones.has(zone)) continue;
      zones.add(zone);
      picks.push(id);
    }
    for (const id of walk) {
      if (picks.length >= this.replicationFactor) break;
      if (!picks.includes(id)) picks.push(id);
    }
    return picks;
  }

  boundaryTokens(): bigint[] {
    return this.tokens.map((entry) => entry.token);
  }
}
