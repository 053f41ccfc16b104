// The grpc.health.v1 service of the client port: Check, Watch and List over a fixed set
// of service names whose status the gRPC shell sets (grpc-shell.ts updateHealth). It
// replaces grpc-health-check's HealthImplementation, which does the same over the same
// .proto, for two reasons:
//
// - A Watch never ends by itself, and grpc's graceful shutdown waits for every open
//   call: one open Watch held a node's SIGTERM for the whole drain timeout (10 s by
//   default). close() tells each Watch its last status and ends it.
// - HealthImplementation keeps a watcher for any name a caller sends, without a bound;
//   here the names are the shell's and open Watches are at most HEALTH_WATCHES_MAX.
import type * as grpc from '@grpc/grpc-js';
import { service as HEALTH_SERVICE_DEFINITION } from 'grpc-health-check';
import { OverloadedError } from '../errors/errors.js';
import { serviceErrorOf } from '../protocol/error-status.js';
import { HEALTH_WATCHES_MAX } from '../limits.js';

export type HealthStatus = 'SERVING' | 'NOT_SERVING';
type WatchReply = { status: HealthStatus | 'SERVICE_UNKNOWN' };

/** gRPC's NOT_FOUND (5): the health protocol's answer to a Check of an unknown name. */
const STATUS_NOT_FOUND = 5;

interface Watch {
  readonly name: string;
  readonly call: grpc.ServerWritableStream<{ service: string }, WatchReply>;
}

export interface HealthServiceOptions {
  /**
   * Runs before a Check is answered, so that the answer can follow state that changed
   * since the last setStatus (the shell reads the node's health again here). It runs in
   * the handler, after the port's guards: a refused caller makes the node compute nothing.
   */
  readonly beforeCheck?: () => void;
}

export class HealthService {
  private readonly statuses: Map<string, HealthStatus>;
  private readonly watches = new Set<Watch>();
  private closed = false;

  /** Every name starts NOT_SERVING. */
  constructor(
    names: readonly string[],
    private readonly options: HealthServiceOptions = {},
  ) {
    this.statuses = new Map(names.map((name) => [name, 'NOT_SERVING']));
  }

  /** Sets a known name's status; its Watches hear it when it changed. */
  setStatus(name: string, status: HealthStatus): void {
    const before = this.statuses.get(name);
    if (before === undefined) throw new Error(`health reports no service ${JSON.stringify(name)}`);
    if (before === status) return;
    this.statuses.set(name, status);
    for (const watch of this.watches) if (watch.name === name) watch.call.write({ status });
  }

  status(name: string): HealthStatus | undefined {
    return this.statuses.get(name);
  }

  addToServer(server: grpc.Server): void {
    server.addService(HEALTH_SERVICE_DEFINITION, {
      check: (call: grpc.ServerUnaryCall<{ service: string }, WatchReply>, callback: grpc.sendUnaryData<WatchReply>) => {
        this.options.beforeCheck?.();
        const status = this.statuses.get(call.request.service);
        if (status === undefined) callback({ code: STATUS_NOT_FOUND, details: `health reports no service ${JSON.stringify(call.request.service)}` });
        else callback(null, { status });
      },
      watch: (call: grpc.ServerWritableStream<{ service: string }, WatchReply>) => this.watch(call),
      list: (_call: grpc.ServerUnaryCall<object, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        callback(null, { statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])) });
      },
    });
  }

  /** Ends every Watch with the status it has now; later Watches end at once. */
  close(): void {
    this.closed = true;
    for (const watch of this.watches) watch.call.end();
    this.watches.clear();
  }

  private watch(call: grpc.ServerWritableStream<{ service: string }, WatchReply>): void {
    const name = call.request.service;
    if (!this.closed && this.watches.size >= HEALTH_WATCHES_MAX) {
      call.emit('error', serviceErrorOf(new OverloadedError('health Watch calls', HEALTH_WATCHES_MAX)));
      return;
    }
    // An unknown name is answered SERVICE_UNKNOWN and watched like any other, as the
    // health protocol asks; it never changes, since the names are fixed.
    call.write({ status: this.statuses.get(name) ?? 'SERVICE_UNKNOWN' });
    if (this.closed) {
      call.end();
      return;
    }
    const watch: Watch = { name, call };
    this.watches.add(watch);
    call.on('cancelled', () => this.watches.delete(watch));
  }
}
