// `qkv bench --target etcd`: etcd v3 through the `etcd3` npm client (gRPC, like ours).
// Puts go through Raft and are fsynced by etcd's WAL before the answer; gets use etcd's
// default, linearizable reads (a quorum round via ReadIndex), the counterpart of a
// quorum read. The client balances over the given endpoints.
//
// etcd3 is a development dependency: it is loaded only when this target is chosen, so a
// production install of quorumkv does not carry it.
import type { Etcd3 } from 'etcd3';
import type { BenchTarget } from '../bench-target.js';

export interface EtcdTargetOptions {
  /** host:port of the client URLs. */
  readonly addresses: readonly string[];
  readonly timeoutMs: number;
}

export class EtcdTarget implements BenchTarget {
  private constructor(
    readonly description: string,
    private readonly client: Etcd3,
  ) {}

  static async open(options: EtcdTargetOptions): Promise<EtcdTarget> {
    const { Etcd3: Client } = await import('etcd3');
    const client = new Client({
      hosts: options.addresses.map((address) => `http://${address}`),
      defaultCallOptions: () => ({ deadline: new Date(Date.now() + options.timeoutMs) }),
    });
    return new EtcdTarget(`etcd at ${options.addresses.join(',')}`, client);
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    await this.client.put(key).value(value).exec();
  }

  async get(key: Buffer): Promise<boolean> {
    return (await this.client.get(key).buffer()) !== null;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
