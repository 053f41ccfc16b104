// The gRPC shell in front of a node assembly (src/node/node-assembly.ts): the ports,
// their TLS and call guards, the receive gate, health and reflection. It holds no node
// logic; every call goes to the assembly.
//
// Two gRPC ports (docs/operations/security.md): the client port serves KV, Admin and health to
// clients with a certificate and a role; the peer port serves the internal Replica
// service to members only (mutual TLS, each call's sender checked against its
// certificate). Neither guard runs with --insecure. A node whose peers reach it some
// other way (src/node/in-memory-cluster.ts: over a MemoryNetwork) opens no peer port.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Registry } from 'prom-client';
import type { QkvError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { clientPortGuard, clientRequestAuthorizer, peerPortGuard } from '../security/call-guards.js';
import type { ServedStreams } from '../protocol/multiplexed-stream-server.js';
import { ReceiveGate } from '../security/receive-gate.js';
import { clientPortCredentials, peerPortCredentials } from '../security/tls-credentials.js';
import type { ReplicaHandler } from '../replica/peer-transport.js';
import { addReplicaService, type ExchangeStreams } from '../transport/grpc/replica-service.js';
import { addAdminService, type ClusterView } from '../api/admin-service.js';
import { addKvService } from '../api/kv-service.js';
import { SERVER_OPTIONS } from '../protocol/grpc-options.js';
import { loadClientReflectionDefinition } from '../protocol/proto-package.js';
import { apiRequestCounter } from '../metrics/api-prometheus.js';
import { HealthService } from './health-service.js';
import type { ClientFacing } from './node-assembly.js';
import type { NodeSecurity } from './node-security.js';

/** At most one `call refused` log line per port and code in this time. */
const REFUSAL_LOG_INTERVAL_MS = 1_000;

/**
 * The gRPC services the client port's health reports on; '' is the whole server. The
 * peer port's Replica service is not among them: the client port does not serve it, and
 * naming it there would advertise the internal protocol to every client.
 */
const HEALTH_SERVICES = ['', 'quorumkv.v1.KV', 'quorumkv.v1.Admin'] as const;

/**
 * How often health is read again from the node between its status changes: the
 * readiness gate (docs/decisions/0163) opens when peers are heard, which is no status
 * change of this node. A Watch sees a change at most this much later; a Check is
 * answered from the node's state at that moment (the health service's beforeCheck).
 */
const HEALTH_REFRESH_MS = 500;

/** What the shell serves: the client-facing side and the admin facade of one node. */
export interface ShellNode extends ClusterView, ClientFacing {
  readonly replicaHandler: ReplicaHandler;
  peerSeen(peer: string): void;
  /** Why /readyz says no, or undefined when the node is ready. */
  unreadyReason(): string | undefined;
}

export interface GrpcShellOptions {
  readonly host: string;
  /** The client port; 0 picks a free one. */
  readonly clientPort: number;
  /** The peer port; 0 picks a free one; undefined opens none. */
  readonly peerPort: number | undefined;
  readonly reflection: boolean;
  readonly security: NodeSecurity;
  readonly registry: Registry;
  readonly logger: Logger;
}

export class GrpcShell {
  clientPort = 0;
  peerPort = 0;
  /**
   * A Check reads health from the node again first, so that a probe's answer is what
   * /readyz says at that moment, not what it said at the last refresh. This runs in the
   * Check handler rather than in an interceptor: an interceptor would wrap every call of
   * the port, KV calls included, in one more grpc-js ServerInterceptingCall for the sake
   * of one method (docs/decisions/0220-client-port-interceptors-per-call.md).
   */
  private readonly health = new HealthService(HEALTH_SERVICES, { beforeCheck: () => this.updateHealth() });
  private healthRefresh: NodeJS.Timeout | undefined;
  private readonly clientServer: grpc.Server;
  private readonly peerServer: grpc.Server | undefined;
  /** Peers' Exchange streams into this node; drained before the gRPC server shuts down. */
  private readonly replicaStreams: ExchangeStreams | undefined;
  /** Clients' Multiplex streams; drained with the peers' streams before the server shuts down. */
  private readonly clientStreams: ServedStreams;

  constructor(
    private readonly node: ShellNode,
    private readonly options: GrpcShellOptions,
  ) {
    const { security, logger } = options;
    const secure = security.certificates !== undefined;
    // Every refusal is counted; at most one a second per port and code is logged, so a
    // caller hammering the port cannot fill the disk with log lines.
    const refusalLoggedAtMs = new Map<string, number>();
    const onRefused = (port: 'client' | 'peer') => (error: QkvError, method: string) => {
      security.metrics.refused(port, error.code);
      const key = `${port} ${error.code}`;
      const nowMs = Date.now();
      if (nowMs - (refusalLoggedAtMs.get(key) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
      refusalLoggedAtMs.set(key, nowMs);
      logger.warn({ port, method, code: error.code, reason: error.message }, 'call refused (more like it within a second are counted in qkv_calls_refused_total, not logged)');
    };
    this.clientServer = new grpc.Server({
      ...SERVER_OPTIONS,
      // The guard first: a refused caller never takes a turn at the receive gate.
      interceptors: [
        ...(secure ? [clientPortGuard(() => security.users(), { onRefused: onRefused('client') })] : []),
        new ReceiveGate({ onRefused: onRefused('client') }).interceptor(),
      ],
    });
    const context = { logger, requests: apiRequestCounter(options.registry) };
    this.clientStreams = addKvService(this.clientServer, {
      coordinator: node.coordinator,
      placement: (key) => node.placementRings().placementOfKey(key),
      context,
      admit: () => node.admit(),
      ...(secure ? { authorizer: clientRequestAuthorizer(() => security.users(), { onRefused: onRefused('client') }) } : {}),
    });
    addAdminService(this.clientServer, node, context);
    this.health.addToServer(this.clientServer);
    if (options.reflection) new ReflectionService(loadClientReflectionDefinition()).addToServer(this.clientServer);

    if (options.peerPort !== undefined) {
      // Replica.Exchange's later messages take receive turns as on the client port: a
      // member certificate could otherwise make the node read any number of 16 MiB
      // messages at once (docs/decisions/0269-peer-stream-messages-take-receive-turns.md).
      this.peerServer = new grpc.Server({
        ...SERVER_OPTIONS,
        interceptors: [...(secure ? [peerPortGuard({ onRefused: onRefused('peer') })] : []), new ReceiveGate({ onRefused: onRefused('peer') }).interceptor()],
      });
      this.replicaStreams = addReplicaService(this.peerServer, {
        handler: node.replicaHandler,
        logger,
        onPeerSeen: (peer) => node.peerSeen(peer),
      });
    }
  }

  /** Opens the peer port (if any), then the client port. */
  async bind(): Promise<void> {
    const { host, security } = this.options;
    const certificates = security.certificates;
    if (this.peerServer !== undefined) {
      const credentials = certificates === undefined ? grpc.ServerCredentials.createInsecure() : peerPortCredentials(certificates);
      this.peerPort = await bind(this.peerServer, `${host}:${this.options.peerPort}`, credentials);
    }
    const credentials = certificates === undefined ? grpc.ServerCredentials.createInsecure() : clientPortCredentials(certificates);
    this.clientPort = await bind(this.clientServer, `${host}:${this.options.clientPort}`, credentials);
    this.healthRefresh = setInterval(() => this.updateHealth(), HEALTH_REFRESH_MS);
    this.healthRefresh.unref();
  }

  /**
   * Health follows the node. The KV service, which a gRPC readiness probe asks for, is
   * SERVING exactly when /readyz would say ready: serving, not JOINING, NORMAL heard by
   * every peer, and, at start-up, every member seen NORMAL (the gate of
   * docs/decisions/0163, bounded at 120 s). The whole server ('') and Admin are SERVING
   * while the node serves at all, so that a startup or liveness probe passes during a
   * long join instead of restarting the node. Draining, everything is NOT_SERVING.
   */
  updateHealth(): void {
    const serving = this.node.state() === 'SERVING';
    // Asked only while serving: the reason of a node that does not serve is not needed.
    const ready = serving && this.node.unreadyReason() === undefined;
    for (const name of HEALTH_SERVICES) {
      this.health.setStatus(name, (name === 'quorumkv.v1.KV' ? ready : serving) ? 'SERVING' : 'NOT_SERVING');
    }
  }

  /**
   * Refuses new calls at once and waits for the running ones; after `timeoutMs` the
   * rest are cancelled. Peers' Exchange streams, clients' Multiplex streams and health
   * Watches never end by themselves, so they are told to finish first.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    clearInterval(this.healthRefresh);
    // Health's Watches never end by themselves either: they hear NOT_SERVING, then end.
    this.updateHealth();
    this.health.close();
    const servers = [this.clientServer, this.peerServer].filter((server) => server !== undefined);
    this.clientStreams.drain();
    this.replicaStreams?.drain();
    const finished = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.tryShutdown(() => resolve()))));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([finished.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.options.logger.warn({ drainTimeoutMs: timeoutMs }, 'in-flight calls outlived the drain timeout; cancelling them');
      for (const server of servers) server.forceShutdown();
    }
  }
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))));
}
