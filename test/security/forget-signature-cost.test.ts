// What a member can make a node spend checking forget signatures
// (src/membership/forget-signature-checks.ts, docs/decisions/0268-forget-signed-by-an-admin.md):
// a member certificate sending probe after probe of 128 forged marks with fresh versions
// gets at most FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND checks a second, an honest
// peer's marks are checked all the same, and a mark refused once is not checked again
// for a minute. Real certificates and ECDSA signatures; the real ring-state table; the
// checks counted by wrapping the real check.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { forgetSignatureRefusal, signForgetAs, type ForgetSignatureTrust } from '../../src/security/forget-signature.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { RingStateTable } from '../../src/membership/ring-state-table.js';
import { REFUSAL_REMEMBERED_MS } from '../../src/membership/forget-signature-checks.js';
import { silentLogger } from '../../src/logging/logger.js';
import { FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND, FORGOTTEN_MEMBERS_MAX } from '../../src/limits.js';
import type { ForgetSignature, ForgottenMember } from '../../src/ring/ring-state.js';
import { tempDir } from '../support/temp-dir.js';

const NOW_MS = Date.now();
let certsDir: string;
let trust: ForgetSignatureTrust;

before(async () => {
  const certs = await ensureLocalCertificates({ dir: join(await tempDir(undefined, 'qkv-forget-cost-'), 'certs'), nodeIds: ['n1', 'n2', 'n3'], users: ['admin'] });
  certsDir = certs.dir;
  const caPem = await readFile(join(certsDir, 'ca.crt'));
  trust = { caPem: () => caPem, users: () => new UserRoles([]), nowMs: () => NOW_MS };
});

/** Node n1's table with a clock the test moves, counting the full signature checks it makes. */
function n1() {
  const clock = { ms: NOW_MS };
  const checks = { count: 0 };
  const states = new RingStateTable({
    nodeId: 'n1',
    initial: { self: { state: 'NORMAL', version: NOW_MS - 60_000 }, peers: new Map() },
    store: { save: async () => {} },
    isMember: () => true,
    onChange: () => {},
    checkForget: (member, version, signed) => {
      if (signed !== undefined) checks.count += 1;
      return forgetSignatureRefusal(trust, member, version, signed);
    },
    logger: silentLogger,
    nowMs: () => clock.ms,
  });
  return { states, clock, checks };
}

/**
 * 128 marks of live members with fresh versions, each with the admin's real certificate
 * (every node holds and passes it on) and a signature of something else: they pass the
 * cheap checks and fail only the ECDSA ones, the most a forger can make a node spend.
 */
function forgedList(admin: ForgetSignature, firstVersion: number): ForgottenMember[] {
  return Array.from({ length: FORGOTTEN_MEMBERS_MAX }, (_, index) => ({ node: `live-${index}`, version: firstVersion + index, signed: admin }));
}

test('a member sending probe after probe of 128 forged marks gets at most the per-second budget of checks; another peer\'s real mark is taken at once', async () => {
  const { states, checks } = n1();
  const admin = await signForgetAs(certsDir, 'admin', 'someone-else', NOW_MS - 5000);
  for (let probe = 0; probe < 5; probe++) {
    states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: forgedList(admin, NOW_MS - 10_000 + probe * FORGOTTEN_MEMBERS_MAX) });
  }
  assert.equal(checks.count, FORGET_SIGNATURE_CHECKS_PER_PEER_PER_SECOND);
  assert.deepEqual(states.forgottenMembers(), []);
  // n2 is an honest peer: its budget is its own.
  const real = await signForgetAs(certsDir, 'admin', 'gone', NOW_MS - 1000);
  states.onProbe({ sender: 'n2', ringState: undefined, heardRingState: undefined, forgotten: [{ node: 'gone', version: NOW_MS - 1000, signed: real }] });
  assert.equal(states.isForgotten('gone'), true);
});

test('a real mark beyond a peer\'s budget is not lost: taken when the peer passes it on again a second later', async () => {
  const { states, clock } = n1();
  const admin = await signForgetAs(certsDir, 'admin', 'someone-else', NOW_MS - 5000);
  const real = await signForgetAs(certsDir, 'admin', 'gone', NOW_MS - 1000);
  const list = [...forgedList(admin, NOW_MS - 10_000).slice(0, FORGOTTEN_MEMBERS_MAX - 1), { node: 'gone', version: NOW_MS - 1000, signed: real }];
  states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: forgedList(admin, NOW_MS - 20_000) });
  states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: list });
  assert.equal(states.isForgotten('gone'), false);
  clock.ms += 1000;
  states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: list });
  assert.equal(states.isForgotten('gone'), true);
});

test('a refused mark a peer keeps passing on is checked once a minute, not in every probe', async () => {
  const { states, clock, checks } = n1();
  // A forgery (the admin's certificate, a signature of another member) that an honest
  // peer would not hold; an honest peer's lapsed mark repeats the same way (ADR 0270).
  const forged = { node: 'live-0', version: NOW_MS - 1000, signed: await signForgetAs(certsDir, 'admin', 'someone-else', NOW_MS - 1000) };
  for (let probe = 0; probe < 100; probe++) {
    states.onProbe({ sender: 'n2', ringState: undefined, heardRingState: undefined, forgotten: [forged] });
    clock.ms += 50;
  }
  assert.equal(checks.count, 1);
  clock.ms = NOW_MS + REFUSAL_REMEMBERED_MS;
  states.onProbe({ sender: 'n2', ringState: undefined, heardRingState: undefined, forgotten: [forged] });
  assert.equal(checks.count, 2);
  assert.equal(states.isForgotten('live-0'), false);
});
