// The gRPC credentials of each end of each port (docs/operations/security.md):
//   client port  TLS with the node's certificate; asks for a client certificate but
//                does not require one in the handshake, so a caller without one gets
//                a clear UNAUTHENTICATED status from the guard instead of a bare
//                handshake failure (call-guards.ts).
//   peer port    mutual TLS: the handshake itself refuses a caller without a
//                certificate of this cluster's CA.
//   a peer call  the node's certificate as client certificate, and the server must
//                show the certificate of exactly the member being called.
//   a client     (CLI, `qkv bench`, QuorumKvClient) its user certificate, and the
//                server must show a node certificate of the CA. A short-lived client
//                reads its files once; a long-running one (the scale controller) watches
//                them like a node, so a renewed client certificate is used without a
//                restart.
// Servers and peers are addressed by IP address, which their certificates do not
// name (a pod's IP changes; its name does not), so the usual host-name check is
// replaced by a check of the quorumkv identity in the certificate (certificate-identity.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CertificateInvalidError, CertificateMissingError } from '../errors/errors.js';
import type { PeerCertificate } from 'node:tls';
import { WatchedCertificates, type WatchedCertificatesOptions } from './watched-certificates.js';
import { CA_CERTIFICATE_FILE, clientPaths } from './certificate-files.js';
import { identityOfCertificate } from './certificate-identity.js';

/**
 * The TLS server name every quorumkv channel sends: the certificates' identities, not
 * host names, are checked, and Node refuses an IP address as a server name.
 */
export const TLS_SERVER_NAME = 'quorumkv';
export const TLS_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': TLS_SERVER_NAME };

export function clientPortCredentials(files: WatchedCertificates): grpc.ServerCredentials {
  return grpc.experimental.createCertificateProviderServerCredentials(files, files, false);
}

export function peerPortCredentials(files: WatchedCertificates): grpc.ServerCredentials {
  return grpc.experimental.createCertificateProviderServerCredentials(files, files, true);
}

/** Credentials for calls to `peer`: refuses a server whose certificate names another node. */
export function peerChannelCredentials(files: WatchedCertificates, peer: string): grpc.ChannelCredentials {
  return grpc.experimental.createCertificateProviderChannelCredentials(files, files, {
    checkServerIdentity: (_host, certificate) => {
      const identity = identityOfCertificate(certificate);
      if (identity?.kind === 'node' && identity.name === peer) return undefined;
      return new Error(`expected the certificate of member ${peer}, got ${identity === undefined ? 'none of this cluster' : `${identity.kind} ${identity.name}`}`);
    },
  });
}


/** A server must show a node certificate of the CA (its host name is not checked, see above). */
function checkServerIsNode(_host: string, certificate: PeerCertificate): Error | undefined {
  const identity = identityOfCertificate(certificate);
  return identity?.kind === 'node' ? undefined : new Error('the server did not show a node certificate of this cluster\'s CA');
}

/**
 * Credentials of a long-running client user whose certificate files are watched
 * (WatchedCertificates); close `certificates` when done.
 */
export async function watchedClientCredentials(
  certsDir: string,
  user: string,
  options: Pick<WatchedCertificatesOptions, 'onRotated' | 'onRefused'> = {},
): Promise<{ readonly credentials: grpc.ChannelCredentials; readonly certificates: WatchedCertificates }> {
  const certificates = await WatchedCertificates.open({ dir: certsDir, expected: { kind: 'user', name: user }, ...options });
  const credentials = grpc.experimental.createCertificateProviderChannelCredentials(certificates, certificates, { checkServerIdentity: checkServerIsNode });
  return { credentials, certificates };
}

/** Credentials of a client user: `client.<user>.crt` and `.key` and `ca.crt` in `certsDir`. */
export function clientChannelCredentials(certsDir: string, user: string): grpc.ChannelCredentials {
  const files = { ...clientPaths(certsDir, user), caPath: join(certsDir, CA_CERTIFICATE_FILE) };
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CertificateMissingError(path, `create it with \`qkv certs create-client --user ${user}\`, point --certs-dir at its directory, or use --insecure for a cluster started with --insecure`);
      }
      throw new CertificateInvalidError(path, `cannot be read (${(error as Error).message})`, { cause: error });
    }
  };
  return grpc.credentials.createSsl(read(files.caPath), read(files.keyPath), read(files.certificatePath), { checkServerIdentity: checkServerIsNode });
}
