// Certificates for the local cluster that `npm start` runs, made on first start so the
// cluster is secure by default without a setup step. The layout under `dir`:
//
//   dir/ca.crt, dir/ca.key                 the local CA
//   dir/<nodeId>/node.crt, node.key, ca.crt   one directory per member: what its TLS
//                                          listeners read (it never holds ca.key)
//   dir/client.<user>.crt, .key            client certificates; with dir/ca.crt this is
//                                          the certs directory the CLI uses
//
// Idempotent: a start finds what the last one made and writes nothing. A certificate
// is (re)issued only when it is missing, unreadable, not issued by this CA, for another
// name, expired or about to expire; a missing ca.crt copy is written back. The CA
// itself is created only when neither of its files exists: half a CA, or one that
// cannot be read, is an error for a person to look at, never something to replace.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { CertificateMissingError } from '../errors/errors.js';
import { createCa, createClientCertificate, createNodeCertificate, loadCa, type CertificateAuthority } from './certificate-authority.js';
import {
  CA_CERTIFICATE_FILE,
  CERTIFICATE_FILE_MODE,
  caPaths,
  clientPaths,
  ensureCertsDir,
  fileExists,
  nodePaths,
  readCertificateFile,
  writeFileAtomic,
  type CertificatePaths,
} from './certificate-files.js';
import { checkIdentityName, identityOfCertificate, type CertificateIdentity } from './certificate-identity.js';

/** A local certificate with less than this left is issued again at the next start. */
export const LOCAL_CERTIFICATE_RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

export interface LocalCertificatesOptions {
  readonly dir: string;
  readonly nodeIds: readonly string[];
  readonly users: readonly string[];
  /** Hosts every node certificate names besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  /** The clock; tests set it. */
  readonly now?: Date;
}

export interface LocalCertificates {
  /** The CA's directory, which is also the clients' certs directory. */
  readonly dir: string;
  readonly caCreated: boolean;
  /** Every file written by this call, in order; empty when all was there. */
  readonly written: readonly string[];
  /** Where each member's node.crt, node.key and ca.crt are. */
  readonly nodeDirs: ReadonlyMap<string, string>;
}

export async function ensureLocalCertificates(options: LocalCertificatesOptions): Promise<LocalCertificates> {
  const now = options.now ?? new Date();
  const nodeIds = options.nodeIds.map((nodeId) => checkIdentityName('node', nodeId));
  const users = options.users.map((user) => checkIdentityName('user', user));
  await ensureCertsDir(options.dir);
  const written: string[] = [];
  const { ca, created: caCreated } = await loadOrCreateCa(options.dir, now);
  if (caCreated) written.push(ca.keyPath, ca.certificatePath);

  const nodeDirs = new Map<string, string>();
  for (const nodeId of nodeIds) {
    const outDir = join(options.dir, nodeId);
    nodeDirs.set(nodeId, outDir);
    if (await usable(nodePaths(outDir), { kind: 'node', name: nodeId }, ca, now)) {
      await ensureCaCopy(outDir, ca, written);
      continue;
    }
    const issued = await createNodeCertificate({ ca, outDir, nodeId, hosts: options.hosts ?? [], overwrite: true, now });
    written.push(...(issued.caCertificateWrittenPath === undefined ? [] : [issued.caCertificateWrittenPath]), issued.keyPath, issued.certificatePath);
  }
  for (const user of users) {
    if (await usable(clientPaths(options.dir, user), { kind: 'user', name: user }, ca, now)) continue;
    const issued = await createClientCertificate({ ca, outDir: options.dir, user, overwrite: true, now });
    written.push(issued.keyPath, issued.certificatePath);
  }
  return { dir: options.dir, caCreated, written, nodeDirs };
}

async function loadOrCreateCa(dir: string, now: Date): Promise<{ ca: CertificateAuthority; created: boolean }> {
  const paths = caPaths(dir);
  const [certificateExists, keyExists] = await Promise.all([fileExists(paths.certificatePath), fileExists(paths.keyPath)]);
  if (!certificateExists && !keyExists) return { ca: await createCa({ dir, now }), created: true };
  if (!keyExists) {
    throw new CertificateMissingError(paths.keyPath, `${paths.certificatePath} is there without its key; restore the key, or remove the directory to start over with a new CA`);
  }
  return { ca: await loadCa(dir, now), created: false };
}

/** Whether the certificate and key at `paths` are this CA's, for `identity`, matching each other, and not near their end. */
async function usable(paths: CertificatePaths, identity: CertificateIdentity, ca: CertificateAuthority, now: Date): Promise<boolean> {
  const [certificatePem, keyPem] = await Promise.all([readCertificateFile(paths.certificatePath), readCertificateFile(paths.keyPath)]);
  if (certificatePem === undefined || keyPem === undefined) return false;
  try {
    const certificate = new X509Certificate(certificatePem);
    const found = identityOfCertificate(certificate);
    const keyMatches = certificate.checkPrivateKey(createPrivateKey(keyPem));
    return (
      found?.kind === identity.kind &&
      found.name === identity.name &&
      certificate.checkIssued(ca.certificate) &&
      certificate.verify(ca.certificate.publicKey) &&
      keyMatches &&
      new Date(certificate.validTo).getTime() - now.getTime() > LOCAL_CERTIFICATE_RENEW_BEFORE_MS
    );
  } catch {
    // Unreadable: it is ours to issue again, like a missing one.
    return false;
  }
}

async function ensureCaCopy(outDir: string, ca: CertificateAuthority, written: string[]): Promise<void> {
  const path = join(outDir, CA_CERTIFICATE_FILE);
  const existing = await readCertificateFile(path);
  if (existing !== undefined && existing.includes(ca.certificatePem.trim())) return;
  await writeFileAtomic(path, ca.certificatePem, CERTIFICATE_FILE_MODE);
  written.push(path);
}
