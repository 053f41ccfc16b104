// `qkv bench --target quorumkv`: the public KV API through the project's own gRPC client
// (src/client). Any node coordinates any request, so a client of a leaderless store
// spreads its calls: one client (one HTTP/2 connection) per given address, and the calls
// go round-robin over them. The same adapter drives the no-op server (the floor), which
// answers the same messages without doing anything.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { QuorumKvClient, type KvTransport } from '../../client/quorum-kv-client.js';
import type { BenchItem, BenchTarget } from '../bench-target.js';

export interface QuorumKvTargetOptions {
  readonly addresses: readonly string[];
  /** Acks per write; 0 = the cluster default. */
  readonly w: number;
  /** Replies per read; 0 = the cluster default. */
  readonly r: number;
  readonly timeoutMs: number;
  readonly description?: string;
  /** TLS with a client certificate; plaintext when not given (an --insecure cluster, the no-op server). */
  readonly credentials?: ChannelCredentials;
  /** How requests travel (src/client/quorum-kv-client.ts); the client's default, the stream, when not given. */
  readonly transport?: KvTransport;
}

export class QuorumKvTarget implements BenchTarget {
  readonly description: string;
  private readonly clients: QuorumKvClient[];
  private next = 0;

  constructor(private readonly options: QuorumKvTargetOptions) {
    this.clients = options.addresses.map(
      (address) =>
        new QuorumKvClient({
          addresses: [address],
          timeoutMs: options.timeoutMs,
          ...(options.transport === undefined ? {} : { transport: options.transport }),
          ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        }),
    );
    const quorum = `w=${options.w === 0 ? 'default' : options.w} r=${options.r === 0 ? 'default' : options.r}`;
    this.description = options.description ?? `quorumkv at ${options.addresses.join(',')} (${quorum}, ${this.clients[0]!.transport})`;
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    await this.client().put(key, value, { w: this.options.w });
  }

  async get(key: Buffer): Promise<boolean> {
    return (await this.client().get(key, { r: this.options.r })).found;
  }

  async batchPut(items: readonly BenchItem[]): Promise<number> {
    const response = await this.client().batchPut(items, { w: this.options.w });
    let failed = 0;
    for (const result of response.results) if (!result.ok) failed++;
    return failed + Math.max(0, items.length - response.results.length);
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
  }

  private client(): QuorumKvClient {
    const client = this.clients[this.next]!;
    this.next = (this.next + 1) % this.clients.length;
    return client;
  }
}
