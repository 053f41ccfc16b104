// The PeerTransport adapter over a MemoryNetwork. Each node has its own, bound to its id,
// so the network knows the sender of every message and partitions cut the right way.
// close() abandons the calls still in flight (they reject with SHUTTING_DOWN and their
// timers are cleared) and refuses later calls the same way, as GrpcTransport does.
import { QkvError, ShuttingDownError } from '../../errors/errors.js';
import type { TokenRange } from '../../ring/token-range.js';
import type { ScanCursor, ScanPage } from '../../storage/storage-engine.js';
import type { KvRecord } from '../../storage/record.js';
import type { ApplyCallOptions, MerkleTreeSummary, PeerCallOptions, PeerTransport, ProbeAnswer, ProbeHello, ReadCallOptions } from '../../replica/peer-transport.js';
import type { Message, MessageCarrier, SentMessage } from './memory-message.js';

export class MemoryTransport implements PeerTransport {
  private readonly inFlight = new Set<SentMessage<unknown>>();
  private closed = false;

  constructor(
    private readonly network: MessageCarrier,
    readonly nodeId: string,
  ) {}

  apply(peer: string, records: readonly KvRecord[], options: ApplyCallOptions): Promise<void> {
    // The encoding travels as the gRPC transport's Apply carries it: a copy the replica owns.
    const encoding = options.encoding === undefined ? undefined : Buffer.from(options.encoding);
    return this.send({
      kind: 'apply',
      from: this.nodeId,
      to: peer,
      items: records.length,
      deadlineMs: options.deadlineMs,
      invoke: (handler) => handler.apply(copyRecords(records) as KvRecord[], encoding),
    });
  }

  read(peer: string, keys: readonly Buffer[], options: ReadCallOptions): Promise<Array<KvRecord | undefined>> {
    return this.send({
      kind: 'read',
      from: this.nodeId,
      to: peer,
      items: keys.length,
      deadlineMs: options.deadlineMs,
      invoke: async (handler) => copyRecords(await handler.read(keys.map((key) => Buffer.from(key)), options.answerBytesMax)),
    });
  }

  merkleTree(peer: string, range: TokenRange, depth: number, options: PeerCallOptions): Promise<MerkleTreeSummary> {
    return this.send({
      kind: 'merkle_tree',
      from: this.nodeId,
      to: peer,
      items: 1,
      deadlineMs: options.deadlineMs,
      invoke: async (handler) => {
        if (handler.merkleTree === undefined) throw new QkvError('INTERNAL', `replica ${peer} serves no Merkle trees`);
        const tree = await handler.merkleTree({ ...range }, depth);
        return { root: Buffer.from(tree.root), leaves: tree.leaves.map((leaf) => Buffer.from(leaf)), records: tree.records };
      },
    });
  }

  scan(peer: string, range: TokenRange, limit: number, resumeAfter: ScanCursor | undefined, options: PeerCallOptions): Promise<ScanPage> {
    return this.send({
      kind: 'scan',
      from: this.nodeId,
      to: peer,
      items: 1,
      deadlineMs: options.deadlineMs,
      invoke: async (handler) => {
        if (handler.scan === undefined) throw new QkvError('INTERNAL', `replica ${peer} serves no scans`);
        const cursor = resumeAfter === undefined ? undefined : { token: resumeAfter.token, key: Buffer.from(resumeAfter.key) };
        const page = await handler.scan({ ...range }, limit, cursor);
        const records = copyRecords(page.records) as KvRecord[];
        return page.resumeAfter === undefined
          ? { records }
          : { records, resumeAfter: { token: page.resumeAfter.token, key: Buffer.from(page.resumeAfter.key) } };
      },
    });
  }

  probe(peer: string, hello: ProbeHello, options: PeerCallOptions): Promise<ProbeAnswer> {
    return this.send({
      kind: 'probe',
      from: this.nodeId,
      to: peer,
      items: 0,
      deadlineMs: options.deadlineMs,
      // A replica that serves only the request path still answers: it is alive.
      invoke: async (handler) => (handler.probe === undefined ? { ringState: undefined } : { ...(await handler.probe({ ...hello })) }),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const message of [...this.inFlight]) message.cancel('closed');
  }

  private send<T>(message: Message<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(new ShuttingDownError());
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
