// The files of a certs directory, and how they are written and read. The names are a
// contract with the TLS listeners and the CLI, which find their files by them:
//
//   ca.crt, ca.key                     the CA (ca.key only where certificates are issued)
//   node.crt, node.key                 one member's certificate and key
//   client.<user>.crt, client.<user>.key   one client user's certificate and key
//
// All are PEM. A key is created with mode 0600 from its first byte, never chmod-ed
// afterwards. Every file is written to a temporary name in the same directory, synced
// and renamed over the old one, so a process watching the directory for rotation sees
// the old file or the new one, never half a file (src/fs/atomic-file.ts, shared with the
// data directory's state files).
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateInvalidError } from '../errors/errors.js';
export { writeFileAtomic } from '../fs/atomic-file.js';
import { CERTIFICATE_FILE_BYTES_MAX } from '../limits.js';
import { checkIdentityName } from './certificate-identity.js';

export const CA_CERTIFICATE_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
export const NODE_CERTIFICATE_FILE = 'node.crt';
export const NODE_KEY_FILE = 'node.key';

/** File mode of a private key: readable and writable by its owner only. */
export const KEY_FILE_MODE = 0o600;
/** File mode of a certificate: public, but written by its owner only. */
export const CERTIFICATE_FILE_MODE = 0o644;
/** Mode of a certs directory we create: it holds keys. */
const CERTS_DIR_MODE = 0o700;

export function clientCertificateFile(user: string): string {
  return `client.${checkIdentityName('user', user)}.crt`;
}

export function clientKeyFile(user: string): string {
  return `client.${checkIdentityName('user', user)}.key`;
}

/** The paths of one certificate and its key. */
export interface CertificatePaths {
  readonly certificatePath: string;
  readonly keyPath: string;
}

export function caPaths(dir: string): CertificatePaths {
  return { certificatePath: join(dir, CA_CERTIFICATE_FILE), keyPath: join(dir, CA_KEY_FILE) };
}

export function nodePaths(dir: string): CertificatePaths {
  return { certificatePath: join(dir, NODE_CERTIFICATE_FILE), keyPath: join(dir, NODE_KEY_FILE) };
}

export function clientPaths(dir: string, user: string): CertificatePaths {
  return { certificatePath: join(dir, clientCertificateFile(user)), keyPath: join(dir, clientKeyFile(user)) };
}

/** Creates the directory (mode 0700) and its parents when missing; an existing one keeps its mode. */
export async function ensureCertsDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: CERTS_DIR_MODE });
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * The file's text, or undefined when it does not exist. CertificateInvalidError when it
 * cannot be read (permissions, a directory) or is too large to be a certificate or key.
 */
export async function readCertificateFile(path: string): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CertificateInvalidError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  if (size > CERTIFICATE_FILE_BYTES_MAX) {
    throw new CertificateInvalidError(path, `is ${size} bytes, more than the ${CERTIFICATE_FILE_BYTES_MAX} a certificate or key may hold`);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CertificateInvalidError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

/** The PEM certificate blocks of a file's text (a ca.crt may hold several CAs). */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
