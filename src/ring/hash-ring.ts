// The consistent-hash ring with virtual nodes: where every key lives.
//
// Each member owns `vnodes` tokens, token i = xxh64(`${id}#${i}`) (token-hasher.ts). The
// tokens are sorted; position p owns the range (token[p-1], token[p]] and position 0 also
// the wrap-around past 2^64-1. A key belongs to the range holding xxh64(key), that is to
// the first token >= the key's token, wrapping to position 0. Its preference list is the
// replica set of that range (replica-sets.ts: N distinct nodes clockwise, distinct zones
// first when zones are known).
//
// The ring is a pure function of (member ids and zones, vnodes, N): input order does not
// matter and every process computes the same ring, which `digest` summarises
// (ring-digest.ts). Should two tokens ever be equal (a 64-bit hash collision), the one
// whose member id sorts first keeps the position and the other is dropped, so that
// ranges stay non-empty and the tie is broken the same way everywhere.
//
// Lookups are on the request path: a binary search over the tokens split into high and
// low 32-bit words (comparing numbers, not bigints) and a replica list cached per
// range, so a lookup allocates nothing once the range's list has been built.
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../errors/errors.js';
import {
  NODE_ID_BYTES_MAX,
  REPLICATION_FACTOR_DEFAULT,
  REPLICATION_FACTOR_MAX,
  RING_MEMBERS_MAX,
  RING_TOKENS_MAX,
  RING_VNODES_DEFAULT,
  RING_VNODES_MAX,
} from '../limits.js';
import { computeReplicaSets } from './replica-sets.js';
import { compareMemberIds, ringDigest } from './ring-digest.js';
import type { RingMember } from './ring-member.js';
import { loadXxHash64, writeVnodeTokens, type XxHash64 } from './token-hasher.js';
import type { TokenRange } from './token-range.js';
import { sortedTokenOrder, WORD_HIGH, WORD_LOW } from './token-sort.js';

export interface RingOptions {
  /** Tokens per member; default RING_VNODES_DEFAULT. */
  readonly vnodes?: number;
  /** Replicas per key (N); default REPLICATION_FACTOR_DEFAULT. */
  readonly replicationFactor?: number;
}

/** One token range and the nodes that hold it, primary first. */
export interface OwnedRange {
  readonly range: TokenRange;
  readonly replicas: readonly string[];
}

const EMPTY_LIST: readonly string[] = Object.freeze([]);

// Scratch space to split a bigint token into two 32-bit words without allocating.
// JavaScript is single-threaded and lookups do not re-enter, so one buffer suffices.
const splitToken = new BigUint64Array(1);
const splitWords = new Uint32Array(splitToken.buffer);

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkMembers(members: readonly RingMember[], vnodes: number): RingMember[] {
  if (members.length > RING_MEMBERS_MAX) {
    throw new InvalidArgumentError(`ring has ${members.length} members; the limit is ${RING_MEMBERS_MAX}`);
  }
  if (members.length * vnodes > RING_TOKENS_MAX) {
    throw new InvalidArgumentError(
      `ring would have ${members.length} members × ${vnodes} vnodes = ${members.length * vnodes} tokens; the limit is ${RING_TOKENS_MAX}`,
    );
  }
  const sorted = members.map((member) => ({ id: member.id, zone: member.zone })).sort(compareMemberIds);
  for (let index = 0; index < sorted.length; index++) {
    const member = sorted[index]!;
    const idBytes = Buffer.byteLength(member.id, 'utf8');
    if (idBytes === 0 || idBytes > NODE_ID_BYTES_MAX) {
      throw new InvalidArgumentError(`member id must be 1 to ${NODE_ID_BYTES_MAX} bytes, got ${idBytes} bytes`);
    }
    if (member.zone === '') {
      throw new InvalidArgumentError(`member ${member.id} has an empty zone; leave the zone out when it is not known`);
    }
    if (index > 0 && sorted[index - 1]!.id === member.id) {
      throw new InvalidArgumentError(`member id ${member.id} appears more than once`);
    }
  }
  return sorted;
}

export class HashRing {
  /** Fingerprint of the ring's inputs; equal digests mean equal rings (ring-digest.ts). */
  readonly digest: string;
  readonly vnodes: number;
  readonly replicationFactor: number;
  /** Member ids in ascending order. */
  readonly memberIds: readonly string[];

  private readonly members: readonly RingMember[];
  private readonly memberIndex: ReadonlyMap<string, number>;
  private readonly hash: XxHash64;
  private readonly tokens: BigUint64Array;
  private readonly tokensHigh: Uint32Array;
  private readonly tokensLow: Uint32Array;
  private readonly replicas: Uint32Array;
  private readonly width: number;
  private readonly lists: Array<readonly string[] | undefined>;

  /** Builds a ring with the process-wide xxHash64 instance. */
  static async create(members: readonly RingMember[], options: RingOptions = {}): Promise<HashRing> {
    return HashRing.build(members, options, await loadXxHash64());
  }

  /** Builds a ring synchronously; `hash` is normally `await loadXxHash64()`. */
  static build(members: readonly RingMember[], options: RingOptions, hash: XxHash64): HashRing {
    const vnodes = options.vnodes ?? RING_VNODES_DEFAULT;
    const replicationFactor = options.replicationFactor ?? REPLICATION_FACTOR_DEFAULT;
    checkInteger('vnodes', vnodes, 1, RING_VNODES_MAX);
    checkInteger('replication factor', replicationFactor, 1, REPLICATION_FACTOR_MAX);
    const sorted = checkMembers(members, vnodes);
    return new HashRing(sorted, vnodes, replicationFactor, hash);
  }

  private constructor(members: RingMember[], vnodes: number, replicationFactor: number, hash: XxHash64) {
    this.vnodes = vnodes;
    this.replicationFactor = replicationFactor;
    this.hash = hash;
    this.members = Object.freeze(members.map((member) => Object.freeze(member)));
    this.memberIds = Object.freeze(members.map((member) => member.id));
    this.memberIndex = new Map(members.map((member, index) => [member.id, index]));
    this.digest = ringDigest(members, vnodes, replicationFactor, hash);

    // Zone indices: members sharing a zone share an index; a member without a zone
    // gets an index of its own, so it is a failure domain by itself.
    const zoneOfMember = new Uint32Array(members.length);
    const zoneIndex = new Map<string, number>();
    let zoneCount = 0;
    members.forEach((member, index) => {
      if (member.zone === undefined) {
        zoneOfMember[index] = zoneCount++;
        return;
      }
      let zone = zoneIndex.get(member.zone);
      if (zone === undefined) {
        zone = zoneCount++;
        zoneIndex.set(member.zone, zone);
      }
      zoneOfMember[index] = zone;
    });

    // Members are sorted by id and their tokens generated in vnode order, and the sort
    // is stable, so among equal tokens the first in sorted order has the lowest id.
    const unsorted = new BigUint64Array(members.length * vnodes);
    members.forEach((member, index) => writeVnodeTokens(hash, member.id, vnodes, unsorted, index * vnodes));
    const order = sortedTokenOrder(unsorted);
    const unsortedWords = new Uint32Array(unsorted.buffer);

    // Drop all but the first of equal tokens; `kept` is the ascending order without them.
    const kept = new Uint32Array(order.length);
    let positions = 0;
    for (let rank = 0; rank < order.length; rank++) {
      const element = order[rank]!;
      if (positions > 0) {
        const previous = kept[positions - 1]!;
        const sameHigh = unsortedWords[previous * 2 + WORD_HIGH] === unsortedWords[element * 2 + WORD_HIGH];
        if (sameHigh && unsortedWords[previous * 2 + WORD_LOW] === unsortedWords[element * 2 + WORD_LOW]) continue;
      }
      kept[positions++] = element;
    }

    this.tokens = new BigUint64Array(positions);
    const tokenWords = new Uint32Array(this.tokens.buffer);
    this.tokensHigh = new Uint32Array(positions);
    this.tokensLow = new Uint32Array(positions);
    const owners = new Uint32Array(positions);
    for (let position = 0; position < positions; position++) {
      const element = kept[position]!;
      const high = unsortedWords[element * 2 + WORD_HIGH]!;
      const low = unsortedWords[element * 2 + WORD_LOW]!;
      // Copying 32-bit words instead of bigints keeps the build free of per-token allocation.
      tokenWords[position * 2 + WORD_HIGH] = high;
      tokenWords[position * 2 + WORD_LOW] = low;
      this.tokensHigh[position] = high;
      this.tokensLow[position] = low;
      owners[position] = Math.floor(element / vnodes);
    }

    const { replicas, width } = computeReplicaSets({ owners, zoneOfMember, zoneCount, replicationFactor });
    this.replicas = replicas;
    this.width = width;
    this.lists = new Array<readonly string[] | undefined>(positions);
  }

  /** Number of token ranges (tokens after dropping collisions); 0 for an empty ring. */
  get rangeCount(): number {
    return this.tokens.length;
  }

  /** Members as the ring sees them, ascending by id. */
  ringMembers(): readonly RingMember[] {
    return this.members;
  }

  has(memberId: string): boolean {
    return this.memberIndex.has(memberId);
  }

  zoneOf(memberId: string): string | undefined {
    const index = this.memberIndex.get(memberId);
    return index === undefined ? undefined : this.members[index]!.zone;
  }

  /** The key's token: xxh64 of its bytes. */
  tokenOf(key: Uint8Array): bigint {
    return this.hash.bytes(key);
  }

  /** The position of the range holding `token` (first token >= it, wrapping); -1 when empty. */
  positionOf(token: bigint): number {
    const positions = this.tokensHigh.length;
    if (positions === 0) return -1;
    splitToken[0] = token;
    const high = splitWords[WORD_HIGH]!;
    const low = splitWords[WORD_LOW]!;
    let first = 0;
    let last = positions;
    while (first < last) {
      const middle = (first + last) >>> 1;
      const middleHigh = this.tokensHigh[middle]!;
      if (middleHigh < high || (middleHigh === high && this.tokensLow[middle]! < low)) first = middle + 1;
      else last = middle;
    }
    return first === positions ? 0 : first;
  }

  /** The token that ends the range at `position`. */
  tokenAt(position: number): bigint {
    assert.ok(Number.isInteger(position) && position >= 0 && position < this.tokens.length, 'position out of range');
    return this.tokens[position]!;
  }

  /** The range (previous token, token] at `position`; the whole ring when it has one token. */
  rangeAt(position: number): TokenRange {
    const end = this.tokenAt(position);
    const start = this.tokens[position === 0 ? this.tokens.length - 1 : position - 1]!;
    return { start, end };
  }

  /** The replicas of the range at `position`, primary first. Cached: do not mutate. */
  preferenceListAt(position: number): readonly string[] {
    assert.ok(Number.isInteger(position) && position >= 0 && position < this.tokens.length, 'position out of range');
    let list = this.lists[position];
    if (list === undefined) {
      // Sized up front: a list grown by push reserves room for 17 elements, and a large
      // ring caches one list per range.
      const ids = new Array<string>(this.width);
      const base = position * this.width;
      for (let offset = 0; offset < this.width; offset++) ids[offset] = this.memberIds[this.replicas[base + offset]!]!;
      list = Object.freeze(ids);
      this.lists[position] = list;
    }
    return list;
  }

  /** The nodes that hold `token`: N distinct nodes (all of them when fewer), primary first. */
  preferenceListForToken(token: bigint): readonly string[] {
    const position = this.positionOf(token);
    return position === -1 ? EMPTY_LIST : this.preferenceListAt(position);
  }

  /** The nodes that hold `key`. */
  preferenceListForKey(key: Uint8Array): readonly string[] {
    return this.preferenceListForToken(this.hash.bytes(key));
  }

  /** Every range with its replica set, in ascending token order; streaming and repair walk this. */
  ownedRanges(): OwnedRange[] {
    const ranges: OwnedRange[] = [];
    for (let position = 0; position < this.tokens.length; position++) {
      ranges.push({ range: this.rangeAt(position), replicas: this.preferenceListAt(position) });
    }
    return ranges;
  }

  /** The ranges that `memberId` holds a replica of, in ascending token order. */
  rangesReplicatedOn(memberId: string): OwnedRange[] {
    return this.ownedRanges().filter((owned) => owned.replicas.includes(memberId));
  }
}
