// The replica set of every token range, computed once per ring build.
//
// Placement rule (ADR 0011): walking clockwise from a range's token, the replicas are
//   1. the first node met in each of the first min(N, Z) distinct zones met, in the
//      order met (Z = number of zones), then
//   2. when Z < N, the first nodes met that were not already taken, until N nodes (or
//      every node) are taken.
// A member without a zone counts as a zone of its own, so with no zones at all the rule
// is the plain Dynamo one: the first N distinct physical nodes clockwise. The first
// replica is always the owner of the range's token.
//
// Walking the ring from every range would cost O(ranges × walk length), and the walk can
// be long when one zone holds few tokens. Instead the ring is swept counter-clockwise
// while two move-to-front lists hold the zones and the nodes in order of first
// appearance clockwise from the current range; stepping back one range moves one zone
// and one node to the front. Reading a replica set then costs O(N). One sweep round
// the ring primes the lists so the wrap-around is already in them.

/** A doubly linked list over 0..size-1 in which any element can be moved to the front in O(1). */
class MoveToFrontList {
  head = -1;
  readonly next: Int32Array;
  private readonly previous: Int32Array;
  private readonly present: Uint8Array;

  constructor(size: number) {
    this.next = new Int32Array(size).fill(-1);
    this.previous = new Int32Array(size).fill(-1);
    this.present = new Uint8Array(size);
  }

  moveToFront(element: number): void {
    if (this.head === element) return;
    if (this.present[element] === 1) {
      // Not the head, so it has a predecessor.
      const before = this.previous[element]!;
      const after = this.next[element]!;
      this.next[before] = after;
      if (after !== -1) this.previous[after] = before;
    } else {
      this.present[element] = 1;
    }
    this.previous[element] = -1;
    this.next[element] = this.head;
    if (this.head !== -1) this.previous[this.head] = element;
    this.head = element;
  }
}

export interface ReplicaSetInput {
  /** Member index owning each token position, positions in ascending token order. */
  readonly owners: Uint32Array;
  /** Zone index of each member; members without a zone have a zone index of their own. */
  readonly zoneOfMember: Uint32Array;
  readonly zoneCount: number;
  readonly replicationFactor: number;
}

/**
 * Returns `width = min(N, members)` member indices per position, flattened: the replicas
 * of position p are `replicas[p * width .. p * width + width - 1]`, primary first.
 */
export function computeReplicaSets(input: ReplicaSetInput): { replicas: Uint32Array; width: number } {
  const { owners, zoneOfMember, zoneCount, replicationFactor } = input;
  const memberCount = zoneOfMember.length;
  const positions = owners.length;
  const width = Math.min(replicationFactor, memberCount);
  const zonePicks = Math.min(replicationFactor, zoneCount);
  const replicas = new Uint32Array(positions * width);
  if (positions === 0) return { replicas, width };

  const zones = new MoveToFrontList(zoneCount);
  const nodes = new MoveToFrontList(memberCount);
  // The first node met in each zone, clockwise from the current position.
  const zoneFront = new Uint32Array(zoneCount);
  // pickedIn[m] === sweep step when member m is already in the current replica set;
  // a stamp instead of a cleared set keeps the sweep free of allocation.
  const pickedIn = new Uint32Array(memberCount);

  const stepBack = (position: number): void => {
    const owner = owners[position]!;
    const zone = zoneOfMember[owner]!;
    zones.moveToFront(zone);
    zoneFront[zone] = owner;
    nodes.moveToFront(owner);
  };

  for (let position = positions - 1; position >= 0; position--) stepBack(position);

  let stamp = 0;
  for (let position = positions - 1; position >= 0; position--) {
    stepBack(position);
    stamp++;
    const base = position * width;
    let taken = 0;
    for (let zone = zones.head; taken < zonePicks; zone = zones.next[zone]!) {
      const member = zoneFront[zone]!;
      replicas[base + taken++] = member;
      pickedIn[member] = stamp;
    }
    for (let member = nodes.head; taken < width; member = nodes.next[member]!) {
      if (pickedIn[member] !== stamp) replicas[base + taken++] = member;
    }
  }
  return { replicas, width };
}
