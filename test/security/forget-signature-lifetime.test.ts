// A signed forget over time (docs/decisions/0268-forget-signed-by-an-admin.md,
// docs/decisions/0270-forget-signed-again-when-its-signer-lapsed.md): the admin's
// certificate expires, the admin loses the role, the node restarts from
// ring-state.json, the member joins again under its old name. A legitimate forget must
// stay taken and must still reach the nodes that had not heard it; an old signature
// must not forget the member that joined again. Real certificates of a real CA (the
// project's own `qkv certs` code, issued with a clock 40 days back), real ECDSA
// signatures, the real ring-state table and the real ring-state.json file.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createClientCertificate } from '../../src/security/certificate-authority.js';
import { forgetSignatureRefusal, signForgetAs, type ForgetSignatureTrust } from '../../src/security/forget-signature.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { RingStateTable, type RingStateSnapshot } from '../../src/membership/ring-state-table.js';
import { RingStateFile } from '../../src/node/ring-state-file.js';
import { silentLogger } from '../../src/logging/logger.js';
import type { ForgetSignature } from '../../src/ring/ring-state.js';
import { tempDir } from '../support/temp-dir.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW_MS = Date.now();
/** When the admin `ops` forgot n2: 35 days ago, with a 30-day certificate that expired 5 days ago. */
const FORGOT_AT_MS = NOW_MS - 35 * DAY_MS;
let certsDir: string;
let trust: ForgetSignatureTrust;
const users = new UserRoles([
  { name: 'admin', roles: ['admin'] },
  { name: 'ops', roles: ['admin'] },
]);

before(async () => {
  certsDir = await tempDir(undefined, 'qkv-forget-lifetime-');
  const ca = await createCa({ dir: certsDir, now: new Date(NOW_MS - 60 * DAY_MS), validityDays: 365 });
  await createClientCertificate({ ca, outDir: certsDir, user: 'ops', validityDays: 30, now: new Date(NOW_MS - 40 * DAY_MS) });
  await createClientCertificate({ ca, outDir: certsDir, user: 'admin', validityDays: 30, now: new Date(NOW_MS - DAY_MS) });
  const caPem = await readFile(join(certsDir, 'ca.crt'));
  trust = { caPem: () => caPem, users: () => users, nowMs: () => NOW_MS };
});

function table(nodeId: string, initial: RingStateSnapshot) {
  const stops: string[] = [];
  const states = new RingStateTable({
    nodeId,
    initial,
    store: { save: async () => {} },
    isMember: () => true,
    onChange: () => {},
    onForgottenSelf: (error) => stops.push(error.code),
    checkForget: (member, version, signed) => forgetSignatureRefusal(trust, member, version, signed),
    logger: silentLogger,
    nowMs: () => NOW_MS,
  });
  return { states, stops };
}

/** Node n1, NORMAL, holding n2 forgotten by `ops` 35 days ago (its certificate has expired since). */
async function n1HoldingTheLapsedMark(): Promise<{ states: RingStateTable; lapsed: ForgetSignature }> {
  const lapsed = await signForgetAs(certsDir, 'ops', 'n2', FORGOT_AT_MS);
  const { states } = table('n1', {
    self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS },
    peers: new Map([
      ['n2', { state: 'LEFT', version: FORGOT_AT_MS, forgotten: true, signed: lapsed }],
      ['n3', { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }],
    ]),
  });
  return { states, lapsed };
}

test('the signer certificate of a real forget has expired since: the check says so (the premise of the tests below)', async () => {
  const lapsed = await signForgetAs(certsDir, 'ops', 'n2', FORGOT_AT_MS);
  assert.equal(forgetSignatureRefusal({ ...trust, nowMs: () => FORGOT_AT_MS }, 'n2', FORGOT_AT_MS, lapsed), undefined);
  assert.match(forgetSignatureRefusal(trust, 'n2', FORGOT_AT_MS, lapsed) ?? '', /is not valid now/);
});

test('a node restarting with a signed mark in ring-state.json whose signer has expired since keeps the member forgotten and passes the mark on', async () => {
  const dataDir = await tempDir(undefined, 'qkv-forget-lifetime-data-');
  const file = new RingStateFile(dataDir);
  const lapsed = await signForgetAs(certsDir, 'ops', 'n2', FORGOT_AT_MS);
  await file.save({ self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, peers: new Map([['n2', { state: 'LEFT', version: FORGOT_AT_MS, forgotten: true, signed: lapsed }]]), rereplicate: [] });
  const saved = await file.load();
  const { states } = table('n1', saved);
  assert.equal(states.isForgotten('n2'), true);
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: FORGOT_AT_MS, signed: lapsed }]);
  // Its own announcement from before the forget does not bring it back either.
  states.onProbe({ sender: 'n2', ringState: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, heardRingState: undefined, forgotten: [] });
  assert.equal(states.isForgotten('n2'), true);
});

test('qkv forget again with a current admin certificate, on a node holding a mark whose signer lapsed, signs it anew: a late node and the forgotten member take it', async () => {
  const { states, lapsed } = await n1HoldingTheLapsedMark();
  // n3 was down 40 days and the forgotten n2 comes back: both refuse the lapsed mark.
  const n3 = table('n3', { self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, peers: new Map([['n2', { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }]]) });
  const n2 = table('n2', { self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, peers: new Map() });
  n3.states.onAnswer('n1', { ringState: undefined, forgotten: states.forgottenMembers() });
  n2.states.onAnswer('n1', { ringState: undefined, forgotten: states.forgottenMembers() });
  assert.equal(n3.states.isForgotten('n2'), false);
  assert.deepEqual(n2.stops, []);

  // The remedy ADR 0268 names: qkv forget with a current admin certificate, on n1.
  const signed = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS);
  await states.forget('n2', { version: NOW_MS, signed });
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS, signed }]);
  assert.notDeepEqual(states.forgottenMembers()[0]!.signed, lapsed);
  n3.states.onAnswer('n1', { ringState: undefined, forgotten: states.forgottenMembers() });
  n2.states.onAnswer('n1', { ringState: undefined, forgotten: states.forgottenMembers() });
  assert.equal(n3.states.isForgotten('n2'), true);
  assert.deepEqual(n2.stops, ['MEMBER_FORGOTTEN']);
});

test('a mark whose signature still checks out is not replaced by forgetting again: the first forget stands', async () => {
  const current = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS - 1000);
  const { states } = table('n1', { self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, peers: new Map([['n2', { state: 'LEFT', version: NOW_MS - 1000, forgotten: true, signed: current }]]) });
  await states.forget('n2', { version: NOW_MS, signed: await signForgetAs(certsDir, 'admin', 'n2', NOW_MS) });
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS - 1000, signed: current }]);
});

test('an admin\'s old signed mark replayed after the member joined again forgets nobody: not on a node that heard the join, not on the member itself', async () => {
  const old = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS - 20_000);
  const rejoinedAt = NOW_MS - 10_000;
  const n1 = table('n1', { self: { state: 'NORMAL', version: NOW_MS - 50 * DAY_MS }, peers: new Map([['n2', { state: 'LEFT', version: NOW_MS - 20_000, forgotten: true, signed: old }]]) });
  n1.states.onProbe({ sender: 'n2', ringState: { state: 'JOINING', version: rejoinedAt }, heardRingState: undefined, forgotten: [] });
  assert.equal(n1.states.isForgotten('n2'), false);
  // A member certificate replays the admin's real mark in a probe to n1 and to n2.
  const replay = [{ node: 'n2', version: NOW_MS - 20_000, signed: old }];
  n1.states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: replay });
  assert.equal(n1.states.isForgotten('n2'), false);
  assert.equal(n1.states.stateOf('n2'), 'JOINING');
  const n2 = table('n2', { self: { state: 'JOINING', version: rejoinedAt }, peers: new Map() });
  n2.states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: replay });
  assert.deepEqual(n2.stops, []);
});
