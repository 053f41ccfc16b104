// Which members stay in the rings when discovery stops reporting them
// (docs/decisions/0081-retain-members-until-left.md).
//
// Discovery says who is running now; the ring says who owns data. The two differ while a
// pod is deleted and re-created under the same name (a rolling restart): discovery drops
// the old pod object and reports the new one only once it has an IP. Had the ring
// followed discovery, every node would have moved the member's ranges to stand-in nodes
// with no streaming, and a write acked by a stand-in would be invisible to a quorum read
// once the member is back. So only the member itself takes itself out, by announcing
// LEFT at the end of a decommission:
//
// - heard NORMAL or LEAVING (it owns ranges): kept, with the address discovery last gave
//   it, not ready; it does not answer probes, so the failure detector holds it down and
//   writes to it are hinted as for any down replica. When a member discovery reports has
//   that address now (pod IPs are reused), the retained one keeps no address (''): calls
//   meant for it must not reach, and be acked by, another node;
// - heard LEFT, JOINING (it never owned ranges), or never heard: dropped with discovery.
import type { Member } from '../ring/member.js';
import type { RingState } from '../ring/ring-state.js';

/** Owns ranges until it announces LEFT, so discovery dropping it does not take it out. */
export function isRetainedState(state: RingState | undefined): boolean {
  return state === 'NORMAL' || state === 'LEAVING';
}

/**
 * The member list to route and probe by: every member `discovered` reports, plus each of
 * `previous` that discovery no longer reports but whose state (`stateOf`) is retained,
 * marked `retained` and not ready. Sorted by id.
 */
export function retainMembers(
  discovered: readonly Member[],
  previous: readonly Member[],
  stateOf: (id: string) => RingState | undefined,
): Member[] {
  const reported = new Set(discovered.map((member) => member.id));
  const taken = new Set(discovered.map((member) => member.address));
  const kept = previous
    .filter((member) => !reported.has(member.id) && isRetainedState(stateOf(member.id)))
    .map((member): Member => ({ ...member, address: taken.has(member.address) ? '' : member.address, ready: false, retained: true }));
  return [...discovered, ...kept].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Same ids, addresses, zones, readiness and retention, in the same order. */
export function sameMemberList(a: readonly Member[], b: readonly Member[]): boolean {
  return (
    a.length === b.length &&
    a.every((member, i) => {
      const other = b[i]!;
      return member.id === other.id && member.address === other.address && member.zone === other.zone && member.ready === other.ready && member.retained === other.retained;
    })
  );
}
