// The cluster's certificate authority: it creates the CA, and issues node and client
// certificates signed by it, into a certs directory (file names: ./certificate-files.ts).
// This is what `qkv certs` and the local cluster run; the TLS listeners only read the
// files. Why ECDSA P-256, the URI SAN identity and a pure-JS library:
// docs/decisions/0100-certificates-and-identity.md.
//
// What the certificates hold (every one signed ecdsa-with-SHA256 with a P-256 key, a
// random positive 16-byte serial, and a notBefore an hour in the past to forgive clock skew):
//   CA      subject CN=<commonName> (default "quorumkv CA"), self-signed;
//           basicConstraints CA:true (critical); keyUsage keyCertSign, cRLSign (critical);
//           10 years by default.
//   node    subject O=quorumkv, OU=node, CN=<nodeId>; SAN URI quorumkv://node/<nodeId>,
//           DNS localhost, IP 127.0.0.1 and ::1, and the given hosts; basicConstraints
//           CA:false; keyUsage digitalSignature (critical); extKeyUsage serverAuth,
//           clientAuth (a member is a server to its peers and a client of them);
//           1 year by default.
//   client  subject O=quorumkv, OU=client, CN=<user>; SAN URI quorumkv://user/<user>;
//           keyUsage digitalSignature (critical); extKeyUsage clientAuth only, so a
//           client certificate can never serve as a node; 1 year by default.
// No certificate outlives its CA: a longer lifetime is cut to the CA's notAfter.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, KeyObject, randomBytes, webcrypto, type KeyObject as KeyObjectType } from 'node:crypto';
import { CertificateExistsError, CertificateInvalidError, CertificateMissingError, CertificateNameInvalidError } from '../errors/errors.js';
import {
  CA_VALIDITY_DAYS_DEFAULT,
  CERTIFICATE_COMMON_NAME_CHARS_MAX,
  CERTIFICATE_VALIDITY_DAYS_DEFAULT,
  CERTIFICATE_VALIDITY_DAYS_MAX,
} from '../limits.js';
import { certificateHostsOf } from './certificate-hosts.js';
import {
  CA_CERTIFICATE_FILE,
  CERTIFICATE_FILE_MODE,
  KEY_FILE_MODE,
  caPaths,
  clientPaths,
  ensureCertsDir,
  fileExists,
  nodePaths,
  pemCertificateBlocks,
  readCertificateFile,
  writeFileAtomic,
  type CertificatePaths,
} from './certificate-files.js';
import { checkIdentityName, identityUri, type CertificateIdentity } from './certificate-identity.js';
import { x509 } from './x509-library.js';

export const CA_COMMON_NAME_DEFAULT = 'quorumkv CA';
/** The organization (O) of every node and client certificate's subject. */
export const CERTIFICATE_ORGANIZATION = 'quorumkv';

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
/** notBefore is set this far in the past, so a peer whose clock is a little behind accepts a new certificate. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A CA that can sign: its certificate and, kept in memory only, its key. */
export interface CertificateAuthority {
  readonly certificatePath: string;
  readonly keyPath: string;
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  readonly notAfter: Date;
  readonly signingKey: webcrypto.CryptoKey;
}

/** What issuing a node or client certificate wrote. */
export interface IssuedCertificate {
  readonly identity: CertificateIdentity;
  readonly certificatePath: string;
  readonly keyPath: string;
  /** The CA certificate copied into the output directory, when it was not there yet. */
  readonly caCertificateWrittenPath: string | undefined;
  readonly certificatePem: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
  /** True when the lifetime asked for was cut to the CA's notAfter. */
  readonly limitedByCa: boolean;
  /** The SANs as `DNS:...`, `IP:...`, `URI:...`. */
  readonly subjectAltNames: readonly string[];
}

export interface CreateCaOptions {
  readonly dir: string;
  readonly commonName?: string;
  readonly validityDays?: number;
  /** Replace an existing CA. Every certificate the old one issued stops being trusted. */
  readonly overwrite?: boolean;
  /** The clock; tests set it. */
  readonly now?: Date;
}

interface IssueOptionsBase {
  /** A CA from loadCa or createCa; or give caDir. */
  readonly ca?: CertificateAuthority;
  /** The directory holding ca.crt and ca.key; used when `ca` is not given. */
  readonly caDir?: string;
  /** Where the certificate, its key and a copy of ca.crt go; created when missing. */
  readonly outDir: string;
  readonly validityDays?: number;
  /** Replace an existing certificate and key (and a ca.crt of another CA) in outDir. */
  readonly overwrite?: boolean;
  readonly now?: Date;
}

export interface CreateNodeCertificateOptions extends IssueOptionsBase {
  readonly nodeId: string;
  /** DNS names and IP addresses (each detected) besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
}

export interface CreateClientCertificateOptions extends IssueOptionsBase {
  readonly user: string;
}

/** Creates a self-signed CA in `dir` (ca.crt, ca.key); refuses to replace one unless `overwrite`. */
export async function createCa(options: CreateCaOptions): Promise<CertificateAuthority> {
  const commonName = checkCommonName(options.commonName ?? CA_COMMON_NAME_DEFAULT);
  const now = options.now ?? new Date();
  const paths = caPaths(options.dir);
  if (options.overwrite !== true) {
    for (const path of [paths.keyPath, paths.certificatePath]) {
      if (await fileExists(path)) {
        throw new CertificateExistsError(
          path,
          'refusing to replace the CA: every certificate it issued would stop being trusted (qkv certs create-ca --overwrite replaces it)',
        );
      }
    }
  }
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + validityMs(options.validityDays ?? CA_VALIDITY_DAYS_DEFAULT)),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certificatePem = certificate.toString('pem') + '\n';
  await ensureCertsDir(options.dir);
  await writeFileAtomic(paths.keyPath, privateKeyPem(keys.privateKey), KEY_FILE_MODE);
  await writeFileAtomic(paths.certificatePath, certificatePem, CERTIFICATE_FILE_MODE);
  const parsed = new X509Certificate(certificatePem);
  return { ...paths, certificatePem, certificate: parsed, notAfter: new Date(parsed.validTo), signingKey: keys.privateKey };
}

/**
 * Reads the CA of `dir`. CertificateMissingError when ca.crt or ca.key is not there;
 * CertificateInvalidError when either cannot be parsed, the key is not ECDSA P-256 or
 * not the certificate's, the certificate is not a CA, or it has expired.
 */
export async function loadCa(dir: string, now: Date = new Date()): Promise<CertificateAuthority> {
  const paths = caPaths(dir);
  const certificatePem = await readCertificateFile(paths.certificatePath);
  if (certificatePem === undefined) throw new CertificateMissingError(paths.certificatePath, 'create a CA with `qkv certs create-ca`, or name its directory with --ca-dir');
  const keyPem = await readCertificateFile(paths.keyPath);
  if (keyPem === undefined) throw new CertificateMissingError(paths.keyPath, 'certificates are issued where the CA key is; name that directory with --ca-dir');
  const certificate = parseCertificate(paths.certificatePath, certificatePem);
  if (!certificate.ca) throw new CertificateInvalidError(paths.certificatePath, 'is not a CA certificate (basicConstraints CA:true is missing)');
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() <= now.getTime()) throw new CertificateInvalidError(paths.certificatePath, `the CA expired on ${notAfter.toISOString()}`);
  const privateKey = parsePrivateKey(paths.keyPath, keyPem);
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new CertificateInvalidError(paths.keyPath, `is not the key of ${paths.certificatePath}`);
  }
  const signingKey = await webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), KEY_ALGORITHM, false, ['sign']);
  return { ...paths, certificatePem, certificate, notAfter, signingKey };
}

/** Issues `node.crt` and `node.key` for `nodeId` into outDir, with ca.crt beside them. */
export async function createNodeCertificate(options: CreateNodeCertificateOptions): Promise<IssuedCertificate> {
  const identity: CertificateIdentity = { kind: 'node', name: checkIdentityName('node', options.nodeId) };
  const hosts = certificateHostsOf(options.hosts ?? []);
  const altNames: x509.JsonGeneralName[] = [
    { type: 'url', value: identityUri(identity) },
    ...hosts.dnsNames.map((value): x509.JsonGeneralName => ({ type: 'dns', value })),
    ...hosts.ipAddresses.map((value): x509.JsonGeneralName => ({ type: 'ip', value })),
  ];
  return issue(options, identity, nodePaths(options.outDir), altNames, [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
}

/** Issues `client.<user>.crt` and `client.<user>.key` into outDir, with ca.crt beside them. */
export async function createClientCertificate(options: CreateClientCertificateOptions): Promise<IssuedCertificate> {
  const identity: CertificateIdentity = { kind: 'user', name: checkIdentityName('user', options.user) };
  const altNames: x509.JsonGeneralName[] = [{ type: 'url', value: identityUri(identity) }];
  return issue(options, identity, clientPaths(options.outDir, identity.name), altNames, [x509.ExtendedKeyUsage.clientAuth]);
}

async function issue(
  options: IssueOptionsBase,
  identity: CertificateIdentity,
  paths: CertificatePaths,
  altNames: x509.JsonGeneralName[],
  extendedKeyUsages: x509.ExtendedKeyUsage[],
): Promise<IssuedCertificate> {
  const now = options.now ?? new Date();
  const requestedNotAfterMs = now.getTime() + validityMs(options.validityDays ?? CERTIFICATE_VALIDITY_DAYS_DEFAULT);
  if (options.overwrite !== true) {
    for (const path of [paths.keyPath, paths.certificatePath]) {
      if (await fileExists(path)) throw new CertificateExistsError(path, 'pass --overwrite to replace it');
    }
  }
  const ca = options.ca ?? (await loadCa(caDirOf(options), now));
  if (ca.notAfter.getTime() <= now.getTime()) throw new CertificateInvalidError(ca.certificatePath, `the CA expired on ${ca.notAfter.toISOString()}`);
  const caCertificatePath = `${options.outDir}/${CA_CERTIFICATE_FILE}`;
  const caCopyNeeded = await caCopyNeededAt(caCertificatePath, ca, options.overwrite === true);

  const limitedByCa = requestedNotAfterMs > ca.notAfter.getTime();
  const caCertificate = new x509.X509Certificate(ca.certificate.raw);
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ O: [CERTIFICATE_ORGANIZATION] }, { OU: [identity.kind === 'node' ? 'node' : 'client'] }, { CN: [identity.name] }],
    // The CA's subject as encoded in its certificate, byte for byte, so that chain building matches it exactly.
    issuer: caCertificate.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(limitedByCa ? ca.notAfter.getTime() : requestedNotAfterMs),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(extendedKeyUsages, false),
      new x509.SubjectAlternativeNameExtension(altNames, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
    ],
  });
  const certificatePem = certificate.toString('pem') + '\n';
  const parsed = new X509Certificate(certificatePem);
  // Checked before anything is written: the certificate must name the CA as its issuer and carry its signature.
  assert.ok(parsed.checkIssued(ca.certificate));
  assert.ok(parsed.verify(ca.certificate.publicKey));

  await ensureCertsDir(options.outDir);
  if (caCopyNeeded) await writeFileAtomic(caCertificatePath, ca.certificatePem, CERTIFICATE_FILE_MODE);
  // The key first: a watcher that reloads when the certificate changes then finds the new key already there.
  await writeFileAtomic(paths.keyPath, privateKeyPem(keys.privateKey), KEY_FILE_MODE);
  await writeFileAtomic(paths.certificatePath, certificatePem, CERTIFICATE_FILE_MODE);
  return {
    identity,
    ...paths,
    caCertificateWrittenPath: caCopyNeeded ? caCertificatePath : undefined,
    certificatePem,
    serialNumber: parsed.serialNumber,
    notAfter: new Date(parsed.validTo),
    limitedByCa,
    subjectAltNames: altNames.map((name) => `${{ url: 'URI', dns: 'DNS', ip: 'IP' }[name.type as 'url' | 'dns' | 'ip']}:${name.value}`),
  };
}

function caDirOf(options: IssueOptionsBase): string {
  assert.ok(options.caDir !== undefined, 'give either ca or caDir');
  return options.caDir;
}

/**
 * Whether outDir needs the CA certificate written: when it has no ca.crt. A ca.crt
 * that already holds this CA (alone or in a bundle, as during a CA rotation) is kept;
 * one without it is replaced only with `overwrite`, since the certificate about to be
 * written would not verify against it.
 */
async function caCopyNeededAt(path: string, ca: CertificateAuthority, overwrite: boolean): Promise<boolean> {
  const existing = await readCertificateFile(path);
  if (existing === undefined) return true;
  if (pemCertificateBlocks(existing).some((block) => sameCertificate(block, ca.certificate))) return false;
  if (overwrite) return true;
  throw new CertificateExistsError(path, `it does not hold the CA ${ca.certificatePath}, so the new certificate would not verify against it; pass --overwrite to replace it`);
}

function sameCertificate(pem: string, certificate: X509Certificate): boolean {
  try {
    return new X509Certificate(pem).raw.equals(certificate.raw);
  } catch {
    return false;
  }
}

function parseCertificate(path: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new CertificateInvalidError(path, 'is not a PEM certificate', { cause: error });
  }
}

function parsePrivateKey(path: string, pem: string): KeyObjectType {
  let key: KeyObjectType;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new CertificateInvalidError(path, 'is not a PEM private key (or is encrypted)', { cause: error });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new CertificateInvalidError(path, `is a ${key.asymmetricKeyType ?? 'unknown'} key; quorumkv CAs use ECDSA P-256`);
  }
  return key;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** 16 random bytes, the top bit clear (positive) and the first byte non-zero (no shorter DER encoding): 126 random bits. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validityMs(days: number): number {
  assert.ok(Number.isInteger(days), 'validityDays must be an integer');
  assert.ok(days >= 1 && days <= CERTIFICATE_VALIDITY_DAYS_MAX, `validityDays must be in 1..${CERTIFICATE_VALIDITY_DAYS_MAX}`);
  return days * DAY_MS;
}

function checkCommonName(name: string): string {
  if (name.trim() === '' || name.length > CERTIFICATE_COMMON_NAME_CHARS_MAX) {
    throw new CertificateNameInvalidError('CA common name', name, `must be 1 to ${CERTIFICATE_COMMON_NAME_CHARS_MAX} characters, not all blank`);
  }
  if (/\p{Cc}/u.test(name)) throw new CertificateNameInvalidError('CA common name', name, 'must not hold control characters');
  return name;
}
