// Only an admin user may forget a member (src/security/forget-signature.ts,
// docs/decisions/0268-forget-signed-by-an-admin.md): a forget's mark carries the
// admin's signature, and a node takes a mark, from Admin.Forget or from a peer's probe,
// only when the signature checks out. Real certificates of a real CA made by the
// project's own `qkv certs` code, real ECDSA signatures; the ring-state table is the
// real one, fed the probes a member certificate could send.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { createCa, createClientCertificate } from '../../src/security/certificate-authority.js';
import { forgetSignatureRefusal, forgetStatement, signForget, signForgetAs, type ForgetSignatureTrust } from '../../src/security/forget-signature.js';
import { UserRoles } from '../../src/security/user-roles.js';
import { RingStateTable } from '../../src/membership/ring-state-table.js';
import { silentLogger } from '../../src/logging/logger.js';
import { isQkvError } from '../../src/errors/errors.js';
import type { ForgetSignature } from '../../src/ring/ring-state.js';
import { tempDir } from '../support/temp-dir.js';
import { decodeForgottenMembers } from '../../src/protocol/wire-codec.js';
import { FORGET_SIGNATURE_BYTES_MAX, FORGET_SIGNER_CERTIFICATE_BYTES_MAX } from '../../src/limits.js';

const NOW_MS = Date.now();
let certsDir: string;
let otherCaDir: string;
let trust: ForgetSignatureTrust;
let users = new UserRoles([
  { name: 'reader', roles: ['read'] },
  { name: 'ops', roles: ['admin'] },
]);

before(async () => {
  const certs = await ensureLocalCertificates({ dir: join(await tempRoot(), 'certs'), nodeIds: ['n1', 'n2', 'n3'], users: ['admin', 'reader', 'ops'] });
  certsDir = certs.dir;
  // An admin of another CA: same name, not this cluster's.
  otherCaDir = join(await tempRoot(), 'other');
  await createCa({ dir: otherCaDir });
  await createClientCertificate({ caDir: otherCaDir, outDir: otherCaDir, user: 'admin' });
  const caPem = await readFile(join(certsDir, 'ca.crt'));
  trust = { caPem: () => caPem, users: () => users, nowMs: () => NOW_MS };
});

function tempRoot(): Promise<string> {
  return tempDir(undefined, 'qkv-forget-signature-');
}

/** A member's certificate and key (n3's), as a stolen one would sign. */
async function signedByMember(member: string, version: number): Promise<ForgetSignature> {
  const dir = join(certsDir, 'n3');
  return signForget(member, version, await readFile(join(dir, 'node.crt')), await readFile(join(dir, 'node.key')));
}

test('a forget signed by the built-in admin, or by a user holding the admin role, checks out', async () => {
  assert.equal(forgetSignatureRefusal(trust, 'n2', NOW_MS, await signForgetAs(certsDir, 'admin', 'n2', NOW_MS)), undefined);
  assert.equal(forgetSignatureRefusal(trust, 'n2', NOW_MS, await signForgetAs(certsDir, 'ops', 'n2', NOW_MS)), undefined);
});

test('a forget that no admin user signed is refused, and the reason says why', async () => {
  const refusal = async (signed: ForgetSignature | undefined, member = 'n2', version = NOW_MS): Promise<string> => {
    const reason = forgetSignatureRefusal(trust, member, version, signed);
    assert.ok(reason !== undefined, 'accepted');
    return reason;
  };
  assert.match(await refusal(undefined), /not signed by an admin user/);
  // A member certificate, however valid: a member passes marks on, it never makes one.
  assert.match(await refusal(await signedByMember('n2', NOW_MS)), /its signer is node n3, not a user/);
  // A user of this CA without the admin role.
  assert.match(await refusal(await signForgetAs(certsDir, 'reader', 'n2', NOW_MS)), /user reader, does not hold the admin role/);
  // An `admin` of another CA.
  assert.match(await refusal(await signForgetAs(otherCaDir, 'admin', 'n2', NOW_MS)), /not signed by this cluster's CA/);
  // The admin's certificate with another key (the reader's): the signature does not match.
  const admin = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS);
  const reader = await signForgetAs(certsDir, 'reader', 'n2', NOW_MS);
  assert.match(await refusal({ certificate: admin.certificate, signature: reader.signature }), /signature does not match/);
  // The admin's real signature, replayed for another member or a later version.
  assert.match(await refusal(admin, 'n1'), /signature does not match/);
  assert.match(await refusal(admin, 'n2', NOW_MS + 1), /signature does not match/);
  // Garbage where the certificate goes.
  assert.match(await refusal({ certificate: Buffer.from('not a certificate'), signature: admin.signature }), /cannot be read/);
});

test('a user whose admin role was taken away can no longer forget, with the same signature', async () => {
  const signed = await signForgetAs(certsDir, 'ops', 'n2', NOW_MS);
  assert.equal(forgetSignatureRefusal(trust, 'n2', NOW_MS, signed), undefined);
  const before = users;
  users = new UserRoles([{ name: 'ops', roles: ['read'] }]);
  try {
    assert.match(forgetSignatureRefusal(trust, 'n2', NOW_MS, signed) ?? '', /does not hold the admin role/);
  } finally {
    users = before;
  }
});

/** A table of node `me`, NORMAL, whose peers n2 and n3 are NORMAL, checking forgets like a node with TLS. */
function tableWithTls(nodeId = 'n1') {
  const stops: string[] = [];
  const peers = new Map(['n1', 'n2', 'n3'].filter((id) => id !== nodeId).map((id) => [id, { state: 'NORMAL' as const, version: NOW_MS - 60_000 }]));
  const states = new RingStateTable({
    nodeId,
    initial: { self: { state: 'NORMAL', version: NOW_MS - 60_000 }, peers },
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

test('a member certificate cannot forget a live member through a probe or a probe answer: the mark is not taken and not passed on', async () => {
  const { states } = tableWithTls('n1');
  const forged = [
    { node: 'n2', version: NOW_MS },
    { node: 'n2', version: NOW_MS, signed: await signedByMember('n2', NOW_MS) },
    { node: 'n2', version: NOW_MS, signed: await signForgetAs(certsDir, 'reader', 'n2', NOW_MS) },
  ];
  for (const entry of forged) {
    states.onProbe({ sender: 'n3', ringState: { state: 'NORMAL', version: NOW_MS - 60_000 }, heardRingState: undefined, forgotten: [entry] });
    states.onAnswer('n3', { ringState: { state: 'NORMAL', version: NOW_MS - 60_000 }, forgotten: [entry] });
  }
  assert.equal(states.stateOf('n2'), 'NORMAL');
  assert.equal(states.isForgotten('n2'), false);
  assert.deepEqual(states.forgottenMembers(), []);
  assert.deepEqual(states.rereplicationPending(), []);
});

test('a member certificate cannot make a live member stop for good by telling it that it was forgotten', async () => {
  const { states, stops } = tableWithTls('n2');
  states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: [{ node: 'n2', version: NOW_MS, signed: await signedByMember('n2', NOW_MS) }] });
  states.onAnswer('n3', { ringState: undefined, forgotten: [{ node: 'n2', version: NOW_MS }] });
  assert.deepEqual(stops, []);
  // The admin's signed mark does stop it: the check refuses forgeries, not forgets.
  states.onProbe({ sender: 'n3', ringState: undefined, heardRingState: undefined, forgotten: [{ node: 'n2', version: NOW_MS, signed: await signForgetAs(certsDir, 'admin', 'n2', NOW_MS) }] });
  assert.deepEqual(stops, ['MEMBER_FORGOTTEN']);
});

test('an admin-signed mark passed on by a member is taken, kept with its signature and passed on again', async () => {
  const { states } = tableWithTls('n1');
  const signed = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS);
  states.onProbe({ sender: 'n3', ringState: { state: 'NORMAL', version: NOW_MS - 60_000 }, heardRingState: undefined, forgotten: [{ node: 'n2', version: NOW_MS, signed }] });
  assert.equal(states.isForgotten('n2'), true);
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS, signed }]);
  assert.deepEqual(states.rereplicationPending(), ['n2']);
});

test('Admin.Forget on the node asked: refused FORGET_NOT_AUTHORIZED without an admin signature, taken at the signed version with one', async () => {
  const { states } = tableWithTls('n1');
  for (const decision of [undefined, { version: NOW_MS, signed: undefined }, { version: NOW_MS, signed: await signedByMember('n2', NOW_MS) }]) {
    await assert.rejects(states.forget('n2', decision), (error) => isQkvError(error) && error.code === 'FORGET_NOT_AUTHORIZED');
  }
  assert.equal(states.isForgotten('n2'), false);
  const signed = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS);
  await states.forget('n2', { version: NOW_MS, signed });
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS, signed }]);
});

test('Admin.Forget at a version not after the member\'s last announcement is refused FORGET_REFUSED (a clock behind)', async () => {
  const { states } = tableWithTls('n1');
  const version = NOW_MS - 120_000;
  await assert.rejects(
    states.forget('n2', { version, signed: await signForgetAs(certsDir, 'admin', 'n2', version) }),
    (error) => isQkvError(error) && error.code === 'FORGET_REFUSED' && /not after n2's last announcement/.test(error.message),
  );
});

test('a signature\'s parts are bounded when decoded: a longer certificate or signature is INVALID_ARGUMENT, none at all is an unsigned mark', () => {
  const entry = (certificate: number, signature: number) => [{ nodeId: 'n2', version: String(NOW_MS), signerCertificate: Buffer.alloc(certificate, 1), signature: Buffer.alloc(signature, 1) }];
  assert.equal(decodeForgottenMembers(entry(0, 0), 'forgotten')[0]!.signed, undefined);
  assert.equal(decodeForgottenMembers(entry(FORGET_SIGNER_CERTIFICATE_BYTES_MAX, FORGET_SIGNATURE_BYTES_MAX), 'forgotten')[0]!.signed?.certificate.length, FORGET_SIGNER_CERTIFICATE_BYTES_MAX);
  assert.throws(() => decodeForgottenMembers(entry(FORGET_SIGNER_CERTIFICATE_BYTES_MAX + 1, 72), 'forgotten'), (error) => isQkvError(error) && error.code === 'INVALID_ARGUMENT' && /signer_certificate is longer than 2048 bytes/.test(error.message));
  assert.throws(() => decodeForgottenMembers(entry(600, FORGET_SIGNATURE_BYTES_MAX + 1), 'forgotten'), (error) => isQkvError(error) && error.code === 'INVALID_ARGUMENT' && /signature is longer than 512 bytes/.test(error.message));
});

test('a mark saved before forgets were signed gets the admin\'s signature when the admin forgets the member again, so peers that check take it', async () => {
  const states = new RingStateTable({
    nodeId: 'n1',
    initial: { self: { state: 'NORMAL', version: NOW_MS - 60_000 }, peers: new Map([['n2', { state: 'LEFT', version: NOW_MS - 30_000, forgotten: true }]]) },
    store: { save: async () => {} },
    isMember: () => true,
    onChange: () => {},
    checkForget: (member, version, signed) => forgetSignatureRefusal(trust, member, version, signed),
    logger: silentLogger,
    nowMs: () => NOW_MS,
  });
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS - 30_000 }]);
  const signed = await signForgetAs(certsDir, 'admin', 'n2', NOW_MS);
  await states.forget('n2', { version: NOW_MS, signed });
  assert.deepEqual(states.forgottenMembers(), [{ node: 'n2', version: NOW_MS, signed }]);
  // A peer that ignored the unsigned mark takes the signed one.
  const { states: peer } = tableWithTls('n3');
  peer.onAnswer('n1', { ringState: undefined, forgotten: [{ node: 'n2', version: NOW_MS - 30_000 }] });
  assert.equal(peer.isForgotten('n2'), false);
  peer.onAnswer('n1', { ringState: undefined, forgotten: states.forgottenMembers() });
  assert.equal(peer.isForgotten('n2'), true);
});

test('the signed statement names one member and one version: no other pair, however its id is spelled, has the same bytes', async () => {
  // A node id on the wire is any string up to 253 bytes, line breaks and digits included;
  // the version is the last line and only digits, so the split is unique.
  const pairs: Array<[string, number]> = [['n2', 12], ['n2\n1', 2], ['n2\n12', 0], ['n', 212], ['n2\n', 12], ['quorumkv forget v1\nn2', 12]];
  const statements = new Set(pairs.map(([member, version]) => forgetStatement(member, version).toString('hex')));
  assert.equal(statements.size, pairs.length);
  assert.ok(forgetStatement('n2', 12).toString('utf8').startsWith('quorumkv forget v1\n'), 'domain separation: the statement says what it is and its format version');
  // The admin's signature of one pair checks out for it and for no neighbour of it.
  const signed = await signForgetAs(certsDir, 'admin', 'n2\n1', NOW_MS);
  assert.equal(forgetSignatureRefusal(trust, 'n2\n1', NOW_MS, signed), undefined);
  for (const [member, version] of [['n2', NOW_MS], ['n2\n', NOW_MS], ['n2\n1\n', NOW_MS], ['n2\n1', NOW_MS + 1]] as const) {
    assert.match(forgetSignatureRefusal(trust, member, version, signed) ?? '', /signature does not match/, JSON.stringify([member, version]));
  }
});
