// Who may forget a member (docs/decisions/0268-forget-signed-by-an-admin.md): an admin
// user, and nobody else, not even a member.
//
// A forget travels: the node asked marks the member LEFT and every probe passes the mark
// on, so every node, and the forgotten member itself (which then stops for good), acts
// on a mark it heard from some member. The peer port's mutual TLS says only that a
// member sent the probe, and a stolen or misconfigured member certificate would then be
// enough to take live members out of every ring. So the mark carries its proof: the
// admin signs the member and the version with the key of its client certificate (the
// CLI does, src/cli), and every node checks the signature before it takes the mark,
// whoever passed it on. A member can pass a signed mark on, never make one.
//
// The check: the certificate chains to the cluster's CA, names a user (not a node)
// whose roles include `admin` in this node's live users list, was valid at the forget's
// version and is valid now, and its key signed exactly this member and version.
// The version is part of what is signed, so an old signature cannot be replayed against
// a member that joined again since (its JOINING is at a later version).
import { X509Certificate, createPrivateKey, sign, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { clientPaths } from './certificate-files.js';
import { identityOfCertificate } from './certificate-identity.js';
import type { UserRoles } from './user-roles.js';
import type { ForgetSignature } from '../ring/ring-state.js';

export type { ForgetSignature };

/** The bytes an admin signs to forget `member` at `version`. */
export function forgetStatement(member: string, version: number): Buffer {
  return Buffer.from(`quorumkv forget v1\n${member}\n${version}`, 'utf8');
}

/** Signs a forget with the client certificate and key of `user` in `certsDir` (the CLI's files). */
export async function signForgetAs(certsDir: string, user: string, member: string, version: number): Promise<ForgetSignature> {
  const paths = clientPaths(certsDir, user);
  const [certificatePem, privateKeyPem] = await Promise.all([readFile(paths.certificatePath), readFile(paths.keyPath)]);
  return signForget(member, version, certificatePem, privateKeyPem);
}

/** Signs a forget with a client certificate and its private key, both PEM. */
export function signForget(member: string, version: number, certificatePem: Buffer | string, privateKeyPem: Buffer | string): ForgetSignature {
  const certificate = new X509Certificate(certificatePem);
  const signature = sign('sha256', forgetStatement(member, version), createPrivateKey(privateKeyPem));
  return { certificate: certificate.raw, signature };
}

/** What a node checks a forget's signature against. */
export interface ForgetSignatureTrust {
  /** The cluster's CA certificates, PEM (one or more: two during a CA rotation). */
  readonly caPem: () => Buffer;
  /** The users and roles in force now. */
  readonly users: () => UserRoles;
  readonly nowMs?: () => number;
}

/**
 * Why the signature of a forget of `member` at `version` does not check out, or
 * undefined when an admin user of this cluster signed it.
 */
export function forgetSignatureRefusal(trust: ForgetSignatureTrust, member: string, version: number, signed: ForgetSignature | undefined): string | undefined {
  if (signed === undefined) return 'it is not signed by an admin user';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(signed.certificate);
  } catch {
    return 'its signer certificate cannot be read';
  }
  // The cheap checks first, the two signature checks last: a member sending forged marks
  // costs the node a certificate parse per mark, and the signature work only for marks
  // that name an admin user with a certificate valid now.
  const identity = identityOfCertificate(certificate);
  if (identity === undefined) return 'its signer certificate names no quorumkv identity';
  if (identity.kind !== 'user') return `its signer is ${identity.kind} ${identity.name}, not a user: only an admin user may forget a member`;
  const nowMs = (trust.nowMs ?? Date.now)();
  const fromMs = Date.parse(certificate.validFrom);
  const toMs = Date.parse(certificate.validTo);
  if (!(fromMs <= version && version <= toMs)) return `its signer certificate (user ${identity.name}) was not valid at the forget's version ${version}`;
  if (!(fromMs <= nowMs && nowMs <= toMs)) return `its signer certificate (user ${identity.name}) is not valid now (valid ${certificate.validFrom} to ${certificate.validTo})`;
  if (!trust.users().allows(identity.name, 'admin')) return `its signer, user ${identity.name}, does not hold the admin role here`;
  if (!certificateOfCa(certificate, trust.caPem())) return `its signer certificate (user ${identity.name}) is not signed by this cluster's CA`;
  let valid: boolean;
  try {
    valid = verify('sha256', forgetStatement(member, version), certificate.publicKey, signed.signature);
  } catch {
    valid = false;
  }
  if (!valid) return `its signature does not match the member and version with the key of user ${identity.name}`;
  return undefined;
}

/** Whether one of the CA certificates in `caPem` issued and signed `certificate`. */
function certificateOfCa(certificate: X509Certificate, caPem: Buffer): boolean {
  for (const authority of authoritiesOf(caPem)) {
    try {
      if (certificate.checkIssued(authority) && certificate.verify(authority.publicKey)) return true;
    } catch {
      // A key Node cannot use is no CA of ours; the others may still be.
    }
  }
  return false;
}

/** The CA bundle parsed once per bundle read: the node's watched set keeps one Buffer until it rotates. */
const parsedBundles = new WeakMap<Buffer, readonly X509Certificate[]>();

function authoritiesOf(caPem: Buffer): readonly X509Certificate[] {
  let authorities = parsedBundles.get(caPem);
  if (authorities === undefined) {
    authorities = splitPem(caPem).flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        // A bundle entry Node cannot read is no CA of ours; the others may still be.
        return [];
      }
    });
    parsedBundles.set(caPem, authorities);
  }
  return authorities;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function splitPem(pem: Buffer): string[] {
  return pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
}
