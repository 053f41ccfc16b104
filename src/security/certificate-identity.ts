// Who a certificate says its holder is. A quorumkv certificate names its holder in one
// URI subject alternative name, `quorumkv://node/<nodeId>` for a member and
// `quorumkv://user/<user>` for a client, the way SPIFFE puts a workload's identity in a
// `spiffe://` URI SAN (docs/decisions/0100-certificates-and-identity.md). The subject's
// CN repeats the name for people reading `openssl x509 -text`, but only the URI counts:
// it cannot be confused with a host name, and its kind cannot be forged by choosing a
// user name that equals a node id.
//
// This module reads the identity; it does not check the chain. Call it only on a
// certificate that TLS has already verified against the cluster's CA.
import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { CertificateNameInvalidError } from '../errors/errors.js';
import { CERTIFICATE_NAME_CHARS_MAX } from '../limits.js';

export type IdentityKind = 'node' | 'user';

export interface CertificateIdentity {
  readonly kind: IdentityKind;
  readonly name: string;
}

/** The URI scheme of an identity SAN; any URI SAN of this scheme counts as an identity claim. */
export const IDENTITY_URI_SCHEME = 'quorumkv';

/**
 * A node id or user name: 1..63 characters of lower-case letters, digits, '-', '.' and
 * '_', starting with a letter or digit. Lower case and 63 characters are a Kubernetes
 * pod name's rules, so every StatefulSet member name fits; the first character keeps a
 * name from being read as a flag or a relative path (`..`), since names become file
 * and directory names (`client.<user>.crt`, `<dir>/<nodeId>/`).
 */
export const IDENTITY_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const NAME = IDENTITY_NAME_PATTERN;

const IDENTITY_URI = /^quorumkv:\/\/(node|user)\/([^/?#]*)$/;

export function isIdentityName(name: string): boolean {
  return name.length >= 1 && name.length <= CERTIFICATE_NAME_CHARS_MAX && NAME.test(name);
}

/** The name, or CertificateNameInvalidError saying what is wrong with it. */
export function checkIdentityName(kind: IdentityKind, name: string): string {
  const what = kind === 'node' ? 'node id' : 'user name';
  if (name.length < 1 || name.length > CERTIFICATE_NAME_CHARS_MAX) {
    throw new CertificateNameInvalidError(what, name, `must be 1 to ${CERTIFICATE_NAME_CHARS_MAX} characters long`);
  }
  if (!NAME.test(name)) {
    throw new CertificateNameInvalidError(what, name, "must hold only a-z, 0-9, '-', '.' and '_', and start with a letter or digit");
  }
  return name;
}

/** `quorumkv://node/<name>` or `quorumkv://user/<name>`. */
export function identityUri(identity: CertificateIdentity): string {
  checkIdentityName(identity.kind, identity.name);
  return `${IDENTITY_URI_SCHEME}://${identity.kind}/${identity.name}`;
}

/** The identity a URI names, or undefined when it is not exactly an identity URI with a valid name. */
export function identityOfUri(uri: string): CertificateIdentity | undefined {
  const match = IDENTITY_URI.exec(uri);
  if (match === null) return undefined;
  const kind = match[1] as IdentityKind;
  const name = match[2]!;
  return isIdentityName(name) ? { kind, name } : undefined;
}

/**
 * The identity of a certificate: its one `quorumkv://` URI SAN. Undefined when the
 * certificate has none, more than one (which of two claims would be meant?), or one
 * that is not exactly `quorumkv://node/<name>` or `quorumkv://user/<name>` with a valid
 * name. Takes what a TLS socket's getPeerCertificate() returns as well as a parsed
 * node:crypto X509Certificate.
 */
export function identityOfCertificate(certificate: PeerCertificate | X509Certificate): CertificateIdentity | undefined {
  const text = 'subjectaltname' in certificate ? certificate.subjectaltname : (certificate as X509Certificate).subjectAltName;
  if (typeof text !== 'string' || text === '') return undefined;
  const names = parseSubjectAltNames(text);
  if (names === undefined) return undefined;
  const claims = names.filter((name) => name.type === 'URI' && isIdentityScheme(name.value));
  if (claims.length !== 1) return undefined;
  return identityOfUri(claims[0]!.value);
}

export interface SubjectAltName {
  /** As Node prints it: `DNS`, `IP Address`, `URI`, `email`, `DirName`, ... */
  readonly type: string;
  readonly value: string;
}

/**
 * Splits Node's text form of the subjectAltName extension, e.g.
 * `DNS:localhost, URI:quorumkv://node/qkv-1, IP Address:127.0.0.1`. Since Node 17.3
 * (CVE-2021-44532) a value holding a comma, a quote or another special character is
 * printed as a JSON string (`URI:"a, URI:quorumkv://node/x"`), so that a forged value
 * cannot pose as a second entry; this parser honours the quotes. Undefined when the
 * text does not have that form.
 */
export function parseSubjectAltNames(text: string): SubjectAltName[] | undefined {
  const names: SubjectAltName[] = [];
  let position = 0;
  while (position < text.length) {
    const colon = text.indexOf(':', position);
    if (colon < 0) return undefined;
    const type = text.slice(position, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = endOfJsonString(text, colon + 1);
      if (end < 0) return undefined;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        return undefined;
      }
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    names.push({ type, value });
    if (end === text.length) break;
    if (!text.startsWith(', ', end)) return undefined;
    position = end + 2;
  }
  return names;
}

/** The index just past the JSON string literal that starts at `start`, or -1. */
function endOfJsonString(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === '"') return index + 1;
  }
  return -1;
}

/** URI schemes are case-insensitive (RFC 3986), so `QuorumKV://...` is a claim too, and refused as malformed. */
function isIdentityScheme(uri: string): boolean {
  return uri.slice(0, IDENTITY_URI_SCHEME.length + 1).toLowerCase() === `${IDENTITY_URI_SCHEME}:`;
}
