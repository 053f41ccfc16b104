// The memtable: the newest version of each key written since the last checkpoint,
// held in memory until a checkpoint moves it into the ordered store. It is a plain
// hash map; ordering is only needed by scans, which are rare (repair and streaming)
// and sort the entries of their range on demand.
import type { KvRecord } from '../record.js';
import { recordFootprintBytes, supersedes } from '../record.js';

/** Buffers as map keys: latin1 maps each byte to one UTF-16 unit, so it is lossless. */
export function mapKeyOf(key: Buffer): string {
  return key.toString('latin1');
}

export class Memtable {
  private readonly records = new Map<string, KvRecord>();
  private footprintBytes = 0;

  get bytes(): number {
    return this.footprintBytes;
  }

  get size(): number {
    return this.records.size;
  }

  /** `mapKey` is mapKeyOf(key), for callers that look the same key up more than once. */
  get(key: Buffer, mapKey = mapKeyOf(key)): KvRecord | undefined {
    return this.records.get(mapKey);
  }

  /** Stores the record when it supersedes the one held; returns whether it did. */
  put(record: KvRecord, mapKey = mapKeyOf(record.key)): boolean {
    const current = this.records.get(mapKey);
    if (!supersedes(record.version, current?.version)) return false;
    if (current) this.footprintBytes -= recordFootprintBytes(current);
    this.records.set(mapKey, record);
    this.footprintBytes += recordFootprintBytes(record);
    return true;
  }

  values(): IterableIterator<KvRecord> {
    return this.records.values();
  }
}
