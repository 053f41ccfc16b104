// A stolen or misconfigured member certificate cannot take another member out of the
// cluster (docs/decisions/0268-forget-signed-by-an-admin.md). Against three real
// `qkv server` processes with TLS and the certificates `qkv certs` makes, qkv-3's own
// node certificate and key (what a thief of that pod's volume holds) send every probe a
// member can send: a forget of the live qkv-2 with no signature, signed with the member
// key itself, and signed by a user without the admin role, to qkv-1 (which would
// pass it on to every node) and to qkv-2 itself (which would stop for good). None is
// taken: qkv-2 stays NORMAL in qkv-1's view and in ring-state.json, and keeps serving.
// On the client port, Admin.Forget needs the admin role and, with TLS, an admin's
// signature. Without the signature check, qkv-1 marks qkv-2 forgotten and qkv-2 exits
// with MEMBER_FORGOTTEN (checked by taking the check out).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProcessCluster } from '../support/process-cluster.js';
import { encodeRequest } from '../support/raw-grpc.js';
import { tempDir } from '../support/temp-dir.js';
import { signForget, signForgetAs } from '../../src/security/forget-signature.js';
import type { ForgetSignature } from '../../src/ring/ring-state.js';
import { isQkvError } from '../../src/errors/errors.js';

let cluster: ProcessCluster;
/** How often the nodes probe each other here: a forged mark has several rounds to spread. */
const PROBE_INTERVAL_MS = 200;

before(async () => {
  const dataRoot = await tempDir(undefined, 'qkv-forget-admin-');
  const usersFile = join(dataRoot, 'users.json');
  await writeFile(usersFile, JSON.stringify({ users: [{ name: 'reader', roles: ['read'] }, { name: 'writer', roles: ['write'] }] }));
  cluster = await ProcessCluster.start({ size: 3, dataRoot, users: ['reader', 'writer'], extraArgs: ['--users-file', usersFile, '--probe-interval-ms', String(PROBE_INTERVAL_MS)] });
  await cluster.awaitRingViews(['qkv-1', 'qkv-2', 'qkv-3']);
});

after(async () => {
  await cluster?.stopAll();
});

/** A forget signed with qkv-3's node certificate and key, as its thief would. */
async function signedByMember(member: string, version: number): Promise<ForgetSignature> {
  const dir = cluster.node('qkv-3').tlsDir!;
  return signForget(member, version, await readFile(join(dir, 'node.crt')), await readFile(join(dir, 'node.key')));
}

/** qkv-2 as qkv-1 sees it, and whether qkv-2 still answers and says it is NORMAL. */
async function qkv2State(): Promise<{ readonly inQkv1: string | undefined; readonly own: string; readonly savedByQkv1: unknown }> {
  const viewer = cluster.client(['qkv-1']);
  const victim = cluster.client(['qkv-2']);
  try {
    const status = await viewer.status();
    const saved = JSON.parse(await readFile(join(cluster.node('qkv-1').dataDir, 'ring-state.json'), 'utf8')) as { peers: Record<string, unknown> };
    return { inQkv1: status.members.find((member) => member.id === 'qkv-2')?.ringState, own: (await victim.status()).ringState, savedByQkv1: saved.peers['qkv-2'] };
  } finally {
    viewer.close();
    victim.close();
  }
}

test('qkv-3\'s member certificate cannot forget the live qkv-2: not through qkv-1, not by telling qkv-2 itself', async () => {
  const before = await qkv2State();
  assert.equal(before.inQkv1, 'NORMAL');
  assert.equal(before.own, 'NORMAL');
  const version = Date.now();
  const forgeries: Array<{ readonly what: string; readonly signed: ForgetSignature | undefined }> = [
    { what: 'unsigned', signed: undefined },
    { what: 'signed with the member\'s own key', signed: await signedByMember('qkv-2', version) },
    { what: 'signed by a reader', signed: await signForgetAs(cluster.certsDir!, 'reader', 'qkv-2', version) },
  ];
  for (const target of ['qkv-1', 'qkv-2']) {
    const raw = cluster.rawPeerClient(target, 'qkv-3');
    try {
      for (const { what, signed } of forgeries) {
        const probe = encodeRequest('Replica', 'Probe', {
          sender: 'qkv-3',
          ringState: 'NORMAL',
          ringStateVersion: '1',
          forgotten: [{ nodeId: 'qkv-2', version: String(version), ...(signed === undefined ? {} : { signerCertificate: signed.certificate, signature: signed.signature }) }],
        });
        const outcome = await raw.call('/quorumkv.v1.Replica/Probe', probe, 10_000);
        // The probe itself is a member's and is answered; only its mark is not taken.
        assert.equal(outcome.status, 'OK', `${what} to ${target}: ${JSON.stringify(outcome)}`);
      }
    } finally {
      raw.close();
    }
  }
  // Several probe rounds: time for a taken mark to spread and for qkv-2 to stop.
  await new Promise((resolve) => setTimeout(resolve, 10 * PROBE_INTERVAL_MS));
  assert.equal(cluster.node('qkv-2').child?.exitCode, null, `qkv-2 exited: ${cluster.node('qkv-2').output.slice(-2000)}`);
  const afterwards = await qkv2State();
  assert.deepEqual(afterwards, before);
  assert.doesNotMatch(cluster.node('qkv-1').output, /member forgotten|passed on that a member was forgotten/);
  assert.match(cluster.node('qkv-1').output, /a peer passed on a forgotten member that no admin signed; ignored/);
});

test('Admin.Forget on the client port: a writer is refused by role, an admin without a signature or with a member\'s is refused FORGET_NOT_AUTHORIZED', async () => {
  const writer = cluster.client(['qkv-1'], 5_000, 'writer');
  const admin = cluster.client(['qkv-1']);
  try {
    await assert.rejects(writer.forget('qkv-2'), (error) => isQkvError(error) && error.code === 'PERMISSION_DENIED');
    await assert.rejects(admin.forget('qkv-2'), (error) => isQkvError(error) && error.code === 'FORGET_NOT_AUTHORIZED' && /carries no version and signature/.test(error.message));
    const version = Date.now();
    await assert.rejects(
      admin.forget('qkv-2', { version, signed: await signedByMember('qkv-2', version) }),
      (error) => isQkvError(error) && error.code === 'FORGET_NOT_AUTHORIZED' && /its signer is node qkv-3, not a user/.test(error.message),
    );
    // The admin's own signature passes the check, and the forget is then refused because
    // qkv-2 is alive: the signature decides who, the liveness check still decides when.
    await assert.rejects(
      admin.forget('qkv-2', { version, signed: await signForgetAs(cluster.certsDir!, 'admin', 'qkv-2', version) }),
      (error) => isQkvError(error) && error.code === 'FORGET_REFUSED' && /is not down/.test(error.message),
    );
  } finally {
    writer.close();
    admin.close();
  }
  assert.equal((await qkv2State()).inQkv1, 'NORMAL');
});
