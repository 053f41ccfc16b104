// `qkv bench --target redis`: Redis through `ioredis`, SET and GET on one connection
// (Redis executes commands on one thread; concurrent requests are pipelined on the
// socket). Durability is the server's setting: the comparison runs it with
// `appendfsync always`, so a SET is answered after its AOF write is fsynced.
//
// ioredis is a development dependency, loaded only when this target is chosen.
import type { Redis } from 'ioredis';
import type { BenchTarget } from '../bench-target.js';

export interface RedisTargetOptions {
  /** host:port of the server. */
  readonly address: string;
  readonly timeoutMs: number;
}

export class RedisTarget implements BenchTarget {
  private constructor(
    readonly description: string,
    private readonly client: Redis,
  ) {}

  static async open(options: RedisTargetOptions): Promise<RedisTarget> {
    const { Redis: Client } = await import('ioredis');
    const [host, port] = splitAddress(options.address);
    const client = new Client({
      host,
      port,
      commandTimeout: options.timeoutMs,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    await client.connect();
    return new RedisTarget(`redis at ${options.address}`, client);
  }

  async put(key: Buffer, value: Buffer): Promise<void> {
    await this.client.set(key, value);
  }

  async get(key: Buffer): Promise<boolean> {
    return (await this.client.getBuffer(key)) !== null;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
