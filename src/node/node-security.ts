// What a node's gRPC ports check callers against (docs/operations/security.md): its certificates,
// re-read when they change on disk, and the users and roles allowed on the client port.
// Without certificates the node refuses to start unless --insecure, and with --insecure
// it says so loudly at every start: anyone who reaches its ports may read and change
// every key and speak for any member.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { PrometheusSecurityMetrics } from '../metrics/security-prometheus.js';
import { WatchedCertificates } from '../security/watched-certificates.js';
import { loadUsersFile, UserRoles, type UserEntry } from '../security/user-roles.js';
import { forgetSignatureRefusal } from '../security/forget-signature.js';
import type { ForgetSignature } from '../ring/ring-state.js';
import type { NodeConfig } from '../config/node-config.js';
import { dataDirOf } from './node-storage.js';

export class NodeSecurity {
  /** Who may do what on the client port; replaced live from the QuorumKVCluster. */
  private currentUsers: UserRoles;
  /** The QuorumKVCluster's users as last applied, to log only changes. */
  private usersFromResource: string | undefined;

  private constructor(
    /** The node's certificates; undefined with --insecure. */
    readonly certificates: WatchedCertificates | undefined,
    users: UserRoles,
    readonly metrics: PrometheusSecurityMetrics,
    private readonly logger: Logger,
  ) {
    this.currentUsers = users;
  }

  static async open(
    config: Pick<NodeConfig, 'usersFile' | 'insecure' | 'tlsDir' | 'dataDir' | 'nodeId' | 'grpcPort' | 'peerPort'>,
    registry: Registry,
    logger: Logger,
  ): Promise<NodeSecurity> {
    const metrics = new PrometheusSecurityMetrics(registry);
    const users = config.usersFile !== '' ? new UserRoles(await loadUsersFile(config.usersFile)) : new UserRoles([]);
    if (config.insecure) {
      logger.warn(
        { grpcPort: config.grpcPort, peerPort: config.peerPort },
        'INSECURE MODE: TLS and authentication are off. Anyone who can reach the client or peer port can read, change and delete every key, ' +
          'and can speak for any member of the cluster. Use it only on a trusted machine or network (docs/operations/security.md).',
      );
      return new NodeSecurity(undefined, users, metrics, logger);
    }
    const dir = config.tlsDir !== '' ? config.tlsDir : join(dataDirOf(config), 'tls');
    const certificates = await WatchedCertificates.open({
      dir,
      expected: { kind: 'node', name: config.nodeId },
      onRotated: (set) => {
        metrics.reloaded('rotated');
        metrics.certificateInUse(set.notAfter);
        logger.info({ dir, notAfter: set.notAfter }, 'certificates changed on disk; new connections use them');
      },
      onRefused: (error) => {
        metrics.reloaded('refused');
        logger.error({ dir, err: error }, 'changed certificate files are not a whole set; still using the previous ones');
      },
    });
    metrics.certificateInUse(certificates.set.notAfter);
    logger.info({ dir, notAfter: certificates.set.notAfter, users: users.size }, 'TLS on: client certificates on the client port, mutual TLS on the peer port');
    return new NodeSecurity(certificates, users, metrics, logger);
  }

  users(): UserRoles {
    return this.currentUsers;
  }

  /**
   * Why a forget is not an admin user's, checked against the CA in use and the live
   * users list (ADR 0268); undefined with --insecure, where anyone may do anything.
   */
  forgetCheck(): ((member: string, version: number, signed: ForgetSignature | undefined) => string | undefined) | undefined {
    const certificates = this.certificates;
    if (certificates === undefined) return undefined;
    const trust = { caPem: () => certificates.set.ca, users: () => this.currentUsers };
    return (member, version, signed) => forgetSignatureRefusal(trust, member, version, signed);
  }

  /**
   * The QuorumKVCluster's users replace the whole table (a users file included): the
   * resource is the source of truth, and calls after this one see the new roles.
   */
  applyUsers(users: readonly UserEntry[]): void {
    const shown = users.map((user) => `${user.name}:${user.roles.join('+')}`);
    const changed = shown.join(',') !== this.usersFromResource;
    this.currentUsers = new UserRoles(users);
    this.usersFromResource = shown.join(',');
    if (changed) this.logger.info({ users: shown }, 'users and roles applied from the QuorumKVCluster');
  }

  close(): void {
    this.certificates?.close();
  }
}
