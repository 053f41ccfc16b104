// The KvClient port (src/kv/kv-client.ts) over a Coordinator in this process: what a
// whole cluster in one process (MemoryNetwork) offers to code written against KvClient,
// and what the KV client contract runs against besides the gRPC client. A relative
// timeout becomes the coordinator's absolute deadline on the coordinator's own clock.
import type { Clock } from '../clock/clock.js';
import type { KvBatchRead, KvBatchWritten, KvClient, KvPutItem, KvPutOptions, KvRead, KvReadOptions, KvWriteOptions, KvWritten } from '../kv/kv-client.js';
import type { Coordinator, GetResult, WriteResult } from './coordinator.js';

export type KvCoordinatorCalls = Pick<Coordinator, 'put' | 'get' | 'delete' | 'batchPut' | 'batchGet'>;

export class CoordinatorKvClient implements KvClient {
  constructor(
    private readonly coordinator: KvCoordinatorCalls,
    /** The clock the coordinator measures deadlines on (CoordinatorPorts.time). */
    private readonly clock: Clock,
  ) {}

  async put(key: Buffer, value: Buffer, options: KvPutOptions = {}): Promise<KvWritten> {
    return written(await this.coordinator.put(key, value, { ...this.writeOptions(options), ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }) }));
  }

  async get(key: Buffer, options: KvReadOptions = {}): Promise<KvRead> {
    return read(await this.coordinator.get(key, this.readOptions(options)));
  }

  async delete(key: Buffer, options: KvWriteOptions = {}): Promise<KvWritten> {
    return written(await this.coordinator.delete(key, this.writeOptions(options)));
  }

  async batchPut(items: readonly KvPutItem[], options: KvWriteOptions = {}): Promise<KvBatchWritten[]> {
    const results = await this.coordinator.batchPut(items, this.writeOptions(options));
    return results.map((result) => (result.ok ? { ok: true, ...written(result) } : result));
  }

  async batchGet(keys: readonly Buffer[], options: KvReadOptions = {}): Promise<KvBatchRead[]> {
    const results = await this.coordinator.batchGet(keys, this.readOptions(options));
    return results.map((result) => (result.ok ? { ok: true, ...read(result) } : result));
  }

  private writeOptions(options: KvWriteOptions): { w?: number; deadlineMs?: number } {
    return { ...(options.w === undefined ? {} : { w: options.w }), ...this.deadline(options.timeoutMs) };
  }

  private readOptions(options: KvReadOptions): { r?: number; deadlineMs?: number } {
    return { ...(options.r === undefined ? {} : { r: options.r }), ...this.deadline(options.timeoutMs) };
  }

  private deadline(timeoutMs: number | undefined): { deadlineMs?: number } {
    return timeoutMs === undefined ? {} : { deadlineMs: this.clock.nowMs() + timeoutMs };
  }
}

function written(result: WriteResult): KvWritten {
  return { version: { stamp: result.version.stamp, nodeId: result.version.nodeId }, acks: result.acks };
}

/** The coordinator already answers undefined for a tombstone or an expired record; the null check is for the type. */
function read(result: GetResult): KvRead {
  const record = result.record;
  if (record === undefined || record.value === null) return { found: false, acks: result.acks };
  return { found: true, value: record.value, version: { stamp: record.version.stamp, nodeId: record.version.nodeId }, acks: result.acks };
}
