// The two rings a node routes by while members join or leave
// (docs/decisions/0080-ring-states-and-range-movement.md):
//
//   read ring   the members that hold their ranges' data now (NORMAL and LEAVING);
//   write ring  the members that will hold it once every move is done (NORMAL and JOINING).
//
// A key's natural replicas are its preference list in the read ring; its pending
// replicas are the nodes of its write-ring list that are not natural replicas. Reads go
// to the natural replicas only. Writes go to both and need W + |pending| acks
// (Cassandra's rule): any ack set of that size holds at least W natural replicas, and
// at least W of the key's final owners, whichever way the move ends.
//
// Outside a move both rings have the same members and a lookup is the ring's own
// (one binary search, a cached list). During a move a lookup is two binary searches and
// a placement cached per pair of ring positions.
import type { HashRing } from './hash-ring.js';
import { diffRings, type RangeChange } from './ring-diff.js';

/** Where a key goes: the replicas to read from and the extra ones writes must reach too. */
export interface KeyPlacement {
  /** The key's preference list in the read ring, primary first. */
  readonly natural: readonly string[];
  /** Write-ring replicas that are not natural ones (joining nodes, new owners of a leaver's ranges). */
  readonly pending: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);

export class PlacementRings {
  /** The rings have the same members: nothing is moving. */
  readonly settled: boolean;
  private readonly naturalOnly: Array<KeyPlacement | undefined>;
  private readonly duringMove = new Map<number, KeyPlacement>();
  private movesCache: readonly RangeChange[] | undefined;

  constructor(
    readonly read: HashRing,
    readonly write: HashRing,
  ) {
    this.settled = read.digest === write.digest;
    this.naturalOnly = new Array<KeyPlacement | undefined>(this.settled ? read.rangeCount : 0);
  }

  /** The ring of the members that hold data now; what Status and `qkv ring` show. */
  get current(): HashRing {
    return this.read;
  }

  placementOfKey(key: Uint8Array): KeyPlacement {
    return this.placementOfToken(this.read.tokenOf(key));
  }

  placementOfToken(token: bigint): KeyPlacement {
    const readPosition = this.read.positionOf(token);
    if (this.settled) {
      if (readPosition === -1) return { natural: NONE, pending: NONE };
      let placement = this.naturalOnly[readPosition];
      if (placement === undefined) {
        placement = Object.freeze({ natural: this.read.preferenceListAt(readPosition), pending: NONE });
        this.naturalOnly[readPosition] = placement;
      }
      return placement;
    }
    const writePosition = this.write.positionOf(token);
    // Positions are below RING_TOKENS_MAX (2^20) each, so the pair fits a safe integer.
    const cacheKey = (readPosition + 1) * (this.write.rangeCount + 1) + (writePosition + 1);
    let placement = this.duringMove.get(cacheKey);
    if (placement === undefined) {
      const natural = readPosition === -1 ? NONE : this.read.preferenceListAt(readPosition);
      const final = writePosition === -1 ? NONE : this.write.preferenceListAt(writePosition);
      const pending = final.filter((id) => !natural.includes(id));
      placement = Object.freeze({ natural, pending: pending.length === 0 ? NONE : Object.freeze(pending) });
      this.duringMove.set(cacheKey, placement);
    }
    return placement;
  }

  /**
   * The ranges whose replica set differs between the rings: `before` is who holds the
   * range now (read ring), `after` who holds it once the moves are done (write ring).
   * Empty when nothing is moving.
   */
  moves(): readonly RangeChange[] {
    this.movesCache ??= this.settled ? [] : diffRings(this.read, this.write);
    return this.movesCache;
  }
}
