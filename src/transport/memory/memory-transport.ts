// The PeerTransport adapter over a MemoryNetwork. Each node has its own, bound to its id,
// so the network knows the sender of every message and partitions cut the right way.
// close() abandons the calls still in flight (they reject with PeerUnreachableError and
// their timers are cleared) and refuses later calls.
import { PeerUnreachableError } from '../../errors/errors.js';
import type { KvRecord } from '../../storage/record.js';
import type { PeerCallOptions, PeerTransport } from '../peer-transport.js';
import type { MemoryNetwork, Message, SentMessage } from './memory-network.js';

export class MemoryTransport implements PeerTransport {
  private readonly inFlight = new Set<SentMessage<unknown>>();
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly nodeId: string,
  ) {}

  apply(peer: string, records: readonly KvRecord[], options: PeerCallOptions): Promise<void> {
    return this.send({
      kind: 'apply',
      from: this.nodeId,
      to: peer,
      items: records.length,
      deadlineMs: options.deadlineMs,
      invoke: (handler) => handler.apply(copyRecords(records) as KvRecord[]),
    });
  }

  read(peer: string, keys: readonly Buffer[], options: PeerCallOptions): Promise<Array<KvRecord | undefined>> {
    return this.send({
      kind: 'read',
      from: this.nodeId,
      to: peer,
      items: keys.length,
      deadlineMs: options.deadlineMs,
      invoke: async (handler) => copyRecords(await handler.read(keys.map((key) => Buffer.from(key)))),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const message of [...this.inFlight]) message.cancel('closed');
  }

  private send<T>(message: Message<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(new PeerUnreachableError(message.to, { cause: new Error('memory transport is closed') }));
    }
    const sent = this.network.send(message);
    this.inFlight.add(sent);
    const forget = (): void => {
      this.inFlight.delete(sent);
    };
    sent.result.then(forget, forget);
    return sent.result;
  }
}

/** A deep copy of records, standing in for serialization on the wire. */
function copyRecords(records: readonly (KvRecord | undefined)[]): Array<KvRecord | undefined> {
  return records.map((record) =>
    record === undefined
      ? undefined
      : {
          key: Buffer.from(record.key),
          value: record.value === null ? null : Buffer.from(record.value),
          version: { stamp: record.version.stamp, nodeId: record.version.nodeId },
          expiresAtMs: record.expiresAtMs,
        },
  );
}
