// What checking the signatures of forgets passed on by peers may cost this node
// (docs/decisions/0268-forget-signed-by-an-admin.md, "Cost"). A full check is two ECDSA
// verifications, about 0.33 ms; a member sending probes of 128 forged marks with fresh
// versions could otherwise keep a core busy. Two bounds:
// - a refused mark is remembered for a minute, so a mark peers keep passing on (one
//   whose signer lapsed: ADR 0270) costs one lookup per probe, not a check;
// - at most FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND checks per peer and second:
//   one member's forgeries cannot take another's turn, and a mark beyond the budget is
//   not taken yet and comes again with that peer's next probe (every probe carries the
//   full list).
// A refusal is remembered by a digest of the member, the version and the signature, so a
// forger cannot make the memory grow past REFUSALS_REMEMBERED_MAX, and a minute later a
// users list or CA that changed since is asked again.
import { createHash } from 'node:crypto';
import { FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND } from '../limits.js';
import type { ForgetSignature } from '../ring/ring-state.js';

/** Why a forget is not an admin's, or undefined when it is (src/security/forget-signature.ts). */
export type CheckForget = (member: string, version: number, signed: ForgetSignature | undefined) => string | undefined;

/** How long a refusal is remembered: long enough to spare the checks, short enough to see a changed users list. */
export const REFUSAL_REMEMBERED_MS = 60_000;
/** Refusals remembered at most (the oldest is forgotten first): a digest and a time each, about 100 KiB. */
export const REFUSALS_REMEMBERED_MAX = 1024;
const BUDGET_WINDOW_MS = 1000;

export class ForgetSignatureChecks {
  /** Digest of a refused mark: why, and when. Oldest first (Map keeps insertion order). */
  private readonly refused = new Map<string, { readonly reason: string; readonly atMs: number }>();
  /** Checks spent per peer in the current second. */
  private readonly spent = new Map<string, { startMs: number; count: number }>();

  constructor(
    private readonly check: CheckForget,
    private readonly nowMs: () => number,
  ) {}

  /**
   * Why the mark of `member` at `version` that `peer` passed on is not taken now, or
   * undefined when an admin signed it. An unsigned mark costs nothing to refuse.
   */
  refusal(peer: string, member: string, version: number, signed: ForgetSignature | undefined): string | undefined {
    if (signed === undefined) return this.check(member, version, undefined);
    const nowMs = this.nowMs();
    const key = digestOf(member, version, signed);
    const remembered = this.refused.get(key);
    if (remembered !== undefined && nowMs - remembered.atMs < REFUSAL_REMEMBERED_MS) return remembered.reason;
    if (!this.spend(peer, nowMs)) {
      return `${peer} passed on more than ${FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND} signed marks to check in a second; checked when it passes them on again`;
    }
    const reason = this.check(member, version, signed);
    if (reason !== undefined) this.remember(key, reason, nowMs);
    return reason;
  }

  private spend(peer: string, nowMs: number): boolean {
    let window = this.spent.get(peer);
    if (window === undefined || nowMs - window.startMs >= BUDGET_WINDOW_MS) {
      window = { startMs: nowMs, count: 0 };
      this.spent.set(peer, window);
    }
    if (window.count >= FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND) return false;
    window.count += 1;
    return true;
  }

  private remember(key: string, reason: string, nowMs: number): void {
    this.refused.delete(key);
    this.refused.set(key, { reason, atMs: nowMs });
    while (this.refused.size > REFUSALS_REMEMBERED_MAX) {
      const oldest = this.refused.keys().next().value;
      if (oldest === undefined) break;
      this.refused.delete(oldest);
    }
  }
}

/** One digest per distinct mark; each part length-prefixed so no two marks share a digest input. */
function digestOf(member: string, version: number, signed: ForgetSignature): string {
  const hash = createHash('sha256');
  for (const part of [Buffer.from(member, 'utf8'), Buffer.from(String(version), 'utf8'), signed.certificate, signed.signature]) {
    hash.update(`${part.length}:`);
    hash.update(part);
  }
  return hash.digest('base64');
}
