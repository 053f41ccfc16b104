// A node's certificate files as a grpc-js CertificateProvider: ca.crt, node.crt and
// node.key in one directory, read at start and again every
// CERTIFICATE_REFRESH_INTERVAL_MS. New connections use whatever was read last, so a
// certificate is rotated by replacing the files (cert-manager renewing a Secret, an
// operator running `qkv certs create-node` again) with no restart; connections already
// open keep the certificate they were made with.
//
// grpc-js ships a FileWatcherCertificateProvider, but it publishes whatever it read —
// a certificate written before its key is a pair that fails every handshake — and its
// timer keeps the process alive after the servers close. This one publishes a new
// set only when it is whole: the certificate chains to the CA, the key matches the
// certificate, and the certificate names a node. A set that is not whole is logged and
// the previous one stays in use.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { experimental } from '@grpc/grpc-js';
import { CertificateInvalidError, CertificateMissingError } from '../errors/errors.js';
import { CERTIFICATE_REFRESH_INTERVAL_MS } from '../limits.js';
import { identityOfCertificate } from './certificate-identity.js';
import { CA_CERTIFICATE_FILE, NODE_CERTIFICATE_FILE, NODE_KEY_FILE } from './certificate-files.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;


export interface CertificateSet {
  readonly ca: Buffer;
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  /** The node the certificate names. */
  readonly nodeId: string;
  readonly notAfter: string;
}

export interface NodeCertificatesOptions {
  readonly dir: string;
  readonly refreshIntervalMs?: number;
  /** Told when a new set is in use, and when a changed set is refused (the old one stays). */
  readonly onRotated?: (set: CertificateSet) => void;
  readonly onRefused?: (error: Error) => void;
}

export class NodeCertificates implements experimental.CertificateProvider {
  private current: CertificateSet;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly timer: NodeJS.Timeout;
  private reading = false;

  private constructor(
    private readonly options: NodeCertificatesOptions,
    first: CertificateSet,
  ) {
    this.current = first;
    this.timer = setInterval(() => void this.refresh(), options.refreshIntervalMs ?? CERTIFICATE_REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reads the directory; a missing or inconsistent set is TLS_NOT_CONFIGURED. */
  static async open(options: NodeCertificatesOptions): Promise<NodeCertificates> {
    return new NodeCertificates(options, await readCertificateSet(options.dir));
  }

  get set(): CertificateSet {
    return this.current;
  }

  /** Reads the files now; resolves once a changed, whole set is in use (or refused). */
  async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const next = await readCertificateSet(this.options.dir);
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

async function readOne(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CertificateMissingError(join(dir, name), NODE_CERTIFICATE_HINT);
    throw new CertificateInvalidError(join(dir, name), `cannot be read (${(error as Error).message})`, { cause: error });
  }
}

const NODE_CERTIFICATE_HINT =
  'create the node\'s certificate with `qkv certs create-node` (docs/security.md) and point --tls-dir at it, ' +
  'or run without TLS with --insecure (anyone who reaches the ports can then read and change every key)';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Reads and checks one directory's CA, node certificate and key. */
export async function readCertificateSet(dir: string): Promise<CertificateSet> {
  const [ca, certificate, privateKey] = await Promise.all([readOne(dir, CA_CERTIFICATE_FILE), readOne(dir, NODE_CERTIFICATE_FILE), readOne(dir, NODE_KEY_FILE)]);
  let caCertificates: X509Certificate[];
  let nodeCertificate: X509Certificate;
  try {
    // ca.crt may hold several CAs (the old and the new one while a CA is rotated).
    caCertificates = (ca.toString('latin1').match(PEM_CERTIFICATE) ?? []).map((pem) => new X509Certificate(pem));
    nodeCertificate = new X509Certificate(certificate);
  } catch (error) {
    throw new CertificateInvalidError(dir, `a certificate is not valid PEM (${(error as Error).message})`, { cause: error });
  }
  if (!caCertificates.some((caCertificate) => nodeCertificate.verify(caCertificate.publicKey))) {
    throw new CertificateInvalidError(join(dir, NODE_CERTIFICATE_FILE), `not signed by the CA in ${join(dir, CA_CERTIFICATE_FILE)}`);
  }
  let keyMatches: boolean;
  try {
    keyMatches = nodeCertificate.checkPrivateKey(createPrivateKey(privateKey));
  } catch (error) {
    throw new CertificateInvalidError(join(dir, NODE_KEY_FILE), `not a valid private key (${(error as Error).message})`, { cause: error });
  }
  if (!keyMatches) throw new CertificateInvalidError(join(dir, NODE_KEY_FILE), `does not belong to ${join(dir, NODE_CERTIFICATE_FILE)}`);
  const identity = identityOfCertificate(nodeCertificate);
  if (identity?.kind !== 'node') throw new CertificateInvalidError(join(dir, NODE_CERTIFICATE_FILE), 'names no node (a node certificate carries the URI quorumkv://node/<id>)');
  return { ca, certificate, privateKey, nodeId: identity.name, notAfter: nodeCertificate.validTo };
}
