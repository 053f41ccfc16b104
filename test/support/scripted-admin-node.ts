// A real gRPC server that implements the Admin service of proto/quorumkv/v1/admin.proto
// for one pod, with a ring state the test scripts: it stands in for a quorumkv node
// where the test needs a member to decommission on cue, to fail, or to hang, which
// real nodes cannot be made to do (and, until node-side decommission lands, cannot
// decommission at all). The scale controller talks to it exactly as to a node: over
// gRPC, at the pod's IP and gRPC port, with TLS when it is given a node certificate
// directory (node.crt, node.key, ca.crt), where it requires a client certificate of
// the same CA as a secure node's client port does of the controller.
//
// Every Decommission and Cleanup call and every Status answer is appended to a shared event log
// with its time, so a test can put the members' view and the StatefulSet's history on
// one time line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import type { AdminHandlers } from '../../src/protocol/generated/quorumkv/v1/Admin.js';

export type ScriptedRingState = 'JOINING' | 'NORMAL' | 'LEAVING' | 'LEFT';

/** What Decommission does: start streaming, refuse with an error, or never answer. */
export type DecommissionBehaviour = 'stream' | 'fail' | 'hang';

export interface AdminEvent {
  readonly at: number;
  readonly node: string;
  readonly call: 'Decommission' | 'Status' | 'Cleanup';
  /** The ring state the call answered with ('' when it failed or hung). */
  readonly ringState: string;
}

export const DECOMMISSION_FAILURE = 'streaming range (100, 200] to qkv-1 failed: no space left on device';

export class ScriptedAdminNode {
  ringState: ScriptedRingState = 'NORMAL';
  behaviour: DecommissionBehaviour = 'stream';
  /** While LEAVING: the ranges streamed so far; LEAVING ends only through `finishLeaving`. */
  rangesDone = 0;
  readonly rangesTotal = 8;
  decommissionCalls = 0;
  statusCalls = 0;
  /** What Status says of the member's cleanup; a Cleanup call clears it. */
  cleanupNeeded = false;
  cleanupCalls = 0;
  private readonly hung: Array<() => void> = [];

  private constructor(
    readonly nodeId: string,
    readonly address: string,
    private readonly server: grpc.Server,
    private readonly log: AdminEvent[],
  ) {}

  /** Serves on `host:port`: with TLS and the node certificate in `tlsDir`, or plaintext without. */
  static async start(nodeId: string, host: string, port: number, log: AdminEvent[], tlsDir?: string): Promise<ScriptedAdminNode> {
    const server = new grpc.Server();
    const node = new ScriptedAdminNode(nodeId, `${host}:${port}`, server, log);
    server.addService(loadQuorumKvProtocol().grpcObject.quorumkv.v1.Admin.service, node.handlers());
    const read = (name: string): Buffer => readFileSync(join(tlsDir!, name));
    const credentials =
      tlsDir === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(read('ca.crt'), [{ cert_chain: read('node.crt'), private_key: read('node.key') }], true);
    await new Promise<void>((resolve, reject) => server.bindAsync(`${host}:${port}`, credentials, (error) => (error ? reject(error) : resolve())));
    return node;
  }

  /** The member has streamed everything: LEAVING becomes LEFT. */
  finishLeaving(): void {
    if (this.ringState !== 'LEAVING') throw new Error(`${this.nodeId} is ${this.ringState}, not LEAVING`);
    this.rangesDone = this.rangesTotal;
    this.ringState = 'LEFT';
  }

  /** A new pod of this ordinal started: a fresh member in the given state. */
  reset(state: ScriptedRingState): void {
    this.ringState = state;
    this.behaviour = 'stream';
    this.rangesDone = 0;
  }

  async stop(): Promise<void> {
    for (const release of this.hung.splice(0)) release();
    this.server.forceShutdown();
  }

  private handlers(): AdminHandlers {
    const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>): void => callback({ code: grpc.status.UNIMPLEMENTED, details: 'not scripted' });
    return {
      Status: (_call, callback) => {
        this.statusCalls += 1;
        // Progress moves a little on every look while LEAVING, as a real stream would.
        if (this.ringState === 'LEAVING' && this.rangesDone < this.rangesTotal - 1) this.rangesDone += 1;
        const moving = this.ringState === 'LEAVING' || this.ringState === 'JOINING';
        this.record('Status', this.ringState);
        callback(null, {
          nodeId: this.nodeId,
          state: 'SERVING',
          version: 'scripted',
          ringState: this.ringState,
          stream: moving ? { rangesDone: this.rangesDone, rangesTotal: this.rangesTotal, keys: String(this.rangesDone * 100), bytes: String(this.rangesDone * 10_000) } : null,
          cleanup: { needed: this.cleanupNeeded, running: false, rangesDone: 0, rangesTotal: 0, recordsScanned: '0', recordsRemoved: '0', lastError: '' },
        });
      },
      Cleanup: (_call, callback) => {
        this.cleanupCalls += 1;
        const removed = this.cleanupNeeded ? 100 : 0;
        this.cleanupNeeded = false;
        this.record('Cleanup', this.ringState);
        callback(null, { ranges: 4, recordsScanned: String(removed), recordsRemoved: String(removed), elapsedMs: '1', ringDigest: 'scripted' });
      },
      Decommission: (_call, callback) => {
        this.decommissionCalls += 1;
        if (this.behaviour === 'fail') {
          this.record('Decommission', '');
          callback({ code: grpc.status.FAILED_PRECONDITION, details: DECOMMISSION_FAILURE });
          return;
        }
        if (this.behaviour === 'hang') {
          this.record('Decommission', '');
          // Never answered; released (as CANCELLED) only when the server stops.
          this.hung.push(() => callback({ code: grpc.status.CANCELLED, details: 'server stopped' }));
          return;
        }
        if (this.ringState === 'NORMAL') this.ringState = 'LEAVING';
        this.record('Decommission', this.ringState);
        callback(null, { ringState: this.ringState });
      },
      Ring: unimplemented,
      Repair: unimplemented,
      Forget: unimplemented,
      Backup: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not scripted' }),
      Restore: (call) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'not scripted' }),
    };
  }

  private record(call: AdminEvent['call'], ringState: string): void {
    this.log.push({ at: Date.now(), node: this.nodeId, call, ringState });
  }
}
