// NodeAdmin over gRPC: the member's Admin service (proto/quorumkv/v1/admin.proto) at
// its pod address. One channel per address, kept while the address is in use and
// closed once a look at the cluster no longer needs it, so a long-running controller
// does not collect channels to pods that are gone.
import * as grpc from '@grpc/grpc-js';
import { CLIENT_CHANNEL_OPTIONS } from '../protocol/grpc-options.js';
import { errorOfServiceError } from '../protocol/error-status.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import { TLS_CHANNEL_OPTIONS } from '../security/tls-credentials.js';
import type { AdminClient } from '../protocol/generated/quorumkv/v1/Admin.js';
import type { StatusResponse__Output } from '../protocol/generated/quorumkv/v1/StatusResponse.js';
import type { DecommissionResponse__Output } from '../protocol/generated/quorumkv/v1/DecommissionResponse.js';
import type { CleanupResponse__Output } from '../protocol/generated/quorumkv/v1/CleanupResponse.js';
import type { CleanupResult, NodeAdmin, NodeStatusView } from './node-admin.js';

export class GrpcNodeAdmin implements NodeAdmin {
  private readonly clients = new Map<string, AdminClient>();

  constructor(
    private readonly options: {
      readonly timeoutMs: number;
      /** TLS with an admin client certificate (clientChannelCredentials); plaintext when not given. */
      readonly credentials?: grpc.ChannelCredentials;
    },
  ) {}

  async status(address: string): Promise<NodeStatusView> {
    const response = await this.call<StatusResponse__Output>(address, (client, deadline, callback) => client.Status({}, { deadline }, callback));
    const stream = response.stream;
    const cleanup = response.cleanup;
    return {
      nodeId: response.nodeId,
      ringState: response.ringState,
      stream: stream === null || stream === undefined ? undefined : {
        rangesDone: stream.rangesDone,
        rangesTotal: stream.rangesTotal,
        keys: Number(stream.keys),
        bytes: Number(stream.bytes),
      },
      ...(cleanup === null || cleanup === undefined
        ? {}
        : { cleanup: { needed: cleanup.needed, running: cleanup.running, rangesDone: cleanup.rangesDone, rangesTotal: cleanup.rangesTotal, recordsRemoved: Number(cleanup.recordsRemoved) } }),
    };
  }

  async cleanup(address: string): Promise<CleanupResult> {
    const response = await this.call<CleanupResponse__Output>(address, (client, deadline, callback) => client.Cleanup({}, { deadline }, callback));
    return { recordsScanned: Number(response.recordsScanned), recordsRemoved: Number(response.recordsRemoved), elapsedMs: Number(response.elapsedMs) };
  }

  async decommission(address: string): Promise<string> {
    const response = await this.call<DecommissionResponse__Output>(address, (client, deadline, callback) => client.Decommission({}, { deadline }, callback));
    return response.ringState;
  }

  /** Closes the channels of every address not in `addresses`. */
  retain(addresses: ReadonlySet<string>): void {
    for (const [address, client] of this.clients) {
      if (addresses.has(address)) continue;
      client.close();
      this.clients.delete(address);
    }
  }

  close(): void {
    this.retain(new Set());
  }

  private call<T>(address: string, start: (client: AdminClient, deadline: Date, callback: grpc.requestCallback<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start(this.client(address), new Date(Date.now() + this.options.timeoutMs), (error, response) => {
        if (error !== null) reject(errorOfServiceError(error));
        else resolve(response as T);
      });
    });
  }

  private client(address: string): AdminClient {
    let client = this.clients.get(address);
    if (client === undefined) {
      const { grpcObject } = loadQuorumKvProtocol();
      const { credentials } = this.options;
      client =
        credentials === undefined
          ? new grpcObject.quorumkv.v1.Admin(address, grpc.credentials.createInsecure(), CLIENT_CHANNEL_OPTIONS)
          : new grpcObject.quorumkv.v1.Admin(address, credentials, { ...CLIENT_CHANNEL_OPTIONS, ...TLS_CHANNEL_OPTIONS });
      this.clients.set(address, client);
    }
    return client;
  }
}
