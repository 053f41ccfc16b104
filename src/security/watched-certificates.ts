// Certificate files as a grpc-js CertificateProvider: ca.crt and one certificate with
// its key in one directory (a node's node.crt and node.key, or a client's
// client.<user>.crt and .key), read at start and again every
// CERTIFICATE_REFRESH_INTERVAL_MS. New connections use whatever was read last, so a
// certificate is rotated by replacing the files (cert-manager renewing a Secret, an
// operator running `qkv certs create-node` again) with no restart; connections already
// open keep the certificate they were made with. The node uses it for its listeners
// and its peer channels, the scale controller for its calls to the members.
//
// grpc-js ships a FileWatcherCertificateProvider, but it publishes whatever it read —
// a certificate written before its key is a pair that fails every handshake — and its
// timer keeps the process alive after the servers close. This one publishes a new
// set only when it is whole and right: the certificate chains to the CA, the key
// matches it, it names the expected identity (this node, or this user), and it is valid
// now. Anything else is reported and the previous set stays in use: a node that took
// another member's certificate would be cut off by every peer.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import type { experimental } from '@grpc/grpc-js';
import { CertificateInvalidError, CertificateMissingError } from '../errors/errors.js';
import { CERTIFICATE_REFRESH_INTERVAL_MS } from '../limits.js';
import { identityOfCertificate, type CertificateIdentity } from './certificate-identity.js';
import { CA_CERTIFICATE_FILE, NODE_CERTIFICATE_FILE, NODE_KEY_FILE, clientCertificateFile, clientKeyFile, pemCertificateBlocks, readCertificateFile } from './certificate-files.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;


export interface CertificateSet {
  readonly ca: Buffer;
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly notAfter: string;
}

/** Which certificate of the directory, and whom it must name. */
export interface CertificateChoice {
  readonly dir: string;
  readonly expected: CertificateIdentity;
}

export interface WatchedCertificatesOptions extends CertificateChoice {
  readonly refreshIntervalMs?: number;
  /** Told when a new set is in use, and when a changed set is refused (the old one stays). */
  readonly onRotated?: (set: CertificateSet) => void;
  readonly onRefused?: (error: Error) => void;
}

export class WatchedCertificates implements experimental.CertificateProvider {
  private current: CertificateSet;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly timer: NodeJS.Timeout;
  private reading = false;

  private constructor(
    private readonly options: WatchedCertificatesOptions,
    first: CertificateSet,
  ) {
    this.current = first;
    this.timer = setInterval(() => void this.refresh(), options.refreshIntervalMs ?? CERTIFICATE_REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reads the directory; a missing set is CERTIFICATE_MISSING, a wrong one CERTIFICATE_INVALID. */
  static async open(options: WatchedCertificatesOptions): Promise<WatchedCertificates> {
    return new WatchedCertificates(options, await readCertificateSet(options));
  }

  get set(): CertificateSet {
    return this.current;
  }

  /** Reads the files now; resolves once a changed, whole set is in use (or refused). */
  async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const next = await readCertificateSet(this.options);
      if (sameSet(next, this.current)) return;
      this.current = next;
      for (const listener of this.caListeners) listener({ caCertificate: next.ca });
      for (const listener of this.identityListeners) listener({ certificate: next.certificate, privateKey: next.privateKey });
      this.options.onRotated?.(next);
    } catch (error) {
      this.options.onRefused?.(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.reading = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.caListeners.clear();
    this.identityListeners.clear();
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(listener, { caCertificate: this.current.ca });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(listener, { certificate: this.current.certificate, privateKey: this.current.privateKey });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

function sameSet(a: CertificateSet, b: CertificateSet): boolean {
  return a.ca.equals(b.ca) && a.certificate.equals(b.certificate) && a.privateKey.equals(b.privateKey);
}

async function readOne(dir: string, name: string, expected: CertificateIdentity): Promise<Buffer> {
  const text = await readCertificateFile(join(dir, name));
  if (text === undefined) throw new CertificateMissingError(join(dir, name), hintFor(expected));
  return Buffer.from(text);
}

function hintFor(expected: CertificateIdentity): string {
  return expected.kind === 'node'
    ? 'create the node\'s certificate with `qkv certs create-node` (docs/operations/security.md) and point --tls-dir at it, ' +
        'or run without TLS with --insecure (anyone who reaches the ports can then read and change every key)'
    : `create it with \`qkv certs create-client --user ${expected.name}\` (docs/operations/security.md)`;
}

/** The certificate and key files of `identity` in a certs directory. */
export function certificateFilesOf(identity: CertificateIdentity): { readonly certificate: string; readonly key: string } {
  return identity.kind === 'node' ? { certificate: NODE_CERTIFICATE_FILE, key: NODE_KEY_FILE } : { certificate: clientCertificateFile(identity.name), key: clientKeyFile(identity.name) };
}

/** Reads and checks one directory's CA, and the certificate and key of `expected`. */
export async function readCertificateSet(choice: CertificateChoice, now: Date = new Date()): Promise<CertificateSet> {
  const { dir, expected } = choice;
  const files = certificateFilesOf(expected);
  const [ca, certificate, privateKey] = await Promise.all([readOne(dir, CA_CERTIFICATE_FILE, expected), readOne(dir, files.certificate, expected), readOne(dir, files.key, expected)]);
  const certificatePath = join(dir, files.certificate);
  let caCertificates: X509Certificate[];
  let leaf: X509Certificate;
  try {
    // ca.crt may hold several CAs (the old and the new one while a CA is rotated).
    caCertificates = pemCertificateBlocks(ca.toString('utf8')).map((pem) => new X509Certificate(pem));
    leaf = new X509Certificate(certificate);
  } catch (error) {
    throw new CertificateInvalidError(dir, `a certificate is not valid PEM (${(error as Error).message})`, { cause: error });
  }
  if (!caCertificates.some((caCertificate) => leaf.verify(caCertificate.publicKey))) {
    throw new CertificateInvalidError(certificatePath, `not signed by the CA in ${join(dir, CA_CERTIFICATE_FILE)}`);
  }
  let keyMatches: boolean;
  try {
    keyMatches = leaf.checkPrivateKey(createPrivateKey(privateKey));
  } catch (error) {
    throw new CertificateInvalidError(join(dir, files.key), `not a valid private key (${(error as Error).message})`, { cause: error });
  }
  if (!keyMatches) throw new CertificateInvalidError(join(dir, files.key), `does not belong to ${certificatePath}`);
  const identity = identityOfCertificate(leaf);
  if (identity?.kind !== expected.kind || identity.name !== expected.name) {
    const named = identity === undefined ? 'no quorumkv identity' : `${identity.kind} ${identity.name}`;
    throw new CertificateInvalidError(certificatePath, `names ${named}, not ${expected.kind} ${expected.name}`);
  }
  if (now < new Date(leaf.validFrom)) throw new CertificateInvalidError(certificatePath, `not valid before ${leaf.validFrom}`);
  if (now > new Date(leaf.validTo)) throw new CertificateInvalidError(certificatePath, `expired on ${leaf.validTo}`);
  return { ca, certificate, privateKey, notAfter: leaf.validTo };
}
