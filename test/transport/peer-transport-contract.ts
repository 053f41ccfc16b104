// The contract every PeerTransport (src/replica/peer-transport.ts) must keep, exported
// abstract-level style: each adapter runs it with its own factory
// (peer-transport-contract.test.ts runs it over MemoryNetwork and over gRPC with mutual
// TLS). It pins what the coordinator, hinted handoff, anti-entropy and the prober rely
// on, whatever carries the messages:
// - a call reaches the peer's ReplicaHandler and its answer comes back, records intact
//   (64-bit stamps, tombstones, expiry); calls made in one turn each get their own answer,
//   however the transport batches them;
// - a read answers one record per key in order (none for no keys); under answerBytesMax
//   a non-empty prefix; a turn of more messages than one batch holds is still answered;
// - the handler's QkvError comes back with its code; a handler failure that is not a
//   QkvError is INTERNAL; an optional handler method the peer lacks is INTERNAL;
// - a peer that does not answer by the deadline fails DEADLINE_EXCEEDED, not before the
//   deadline; a deadline already passed fails DEADLINE_EXCEEDED and nothing is delivered;
// - an unknown or unreachable peer fails PEER_UNREACHABLE;
// - close() fails the calls in flight and every later call with SHUTTING_DOWN.
// The codes are the ones the coordinator and the failure detector sort failures by
// (src/membership/peer-prober.ts isAnswer), so a transport that answered differently
// would change who is marked down and what a client is told.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { QkvError, isQkvError, type ErrorCode } from '../../src/errors/errors.js';
import { FULL_RING, type TokenFunction, type TokenRange } from '../../src/ring/token-range.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { ScanCursor, ScanPage } from '../../src/storage/storage-engine.js';
import type { MerkleTreeSummary, PeerTransport, ProbeAnswer, ProbeHello, ReplicaHandler } from '../../src/replica/peer-transport.js';

/** Two ends of a transport: `transport` sends as `callerId`; `peer` is served by the handler given. */
export interface TransportPair {
  readonly transport: PeerTransport;
  readonly callerId: string;
  readonly peer: string;
  /** A member the transport knows but cannot reach (nothing listens, or it is cut off). */
  readonly unreachablePeer: string;
  /** Stops the peer's side; the suite closes `transport` itself when it needs to. */
  close(): Promise<void>;
}

export type MakeTransportPair = (handler: ReplicaHandler) => Promise<TransportPair>;

/** Token = the key's first 8 bytes, big-endian, as in the storage contract. */
const contractTokenOf: TokenFunction = (key) => {
  const head = Buffer.alloc(8);
  key.copy(head, 0, 0, Math.min(8, key.length));
  return head.readBigUInt64BE(0);
};

/**
 * A real LocalReplica over a MemoryStorageEngine, with knobs: `hold` keeps every call
 * waiting until released, `failWith` makes apply and read fail, and each call is counted.
 */
class ContractReplica implements ReplicaHandler {
  readonly engine = new MemoryStorageEngine(contractTokenOf);
  private readonly replica = new LocalReplica(this.engine, new HybridLogicalClock(), { tokenOf: contractTokenOf });
  readonly calls: string[] = [];
  failWith: Error | undefined;
  probeAnswer: ProbeAnswer | undefined;
  readonly probes: ProbeHello[] = [];
  private held: Promise<void> | undefined;
  private releaseHeld: (() => void) | undefined;

  hold(): void {
    this.held = new Promise((resolve) => (this.releaseHeld = resolve));
  }

  release(): void {
    this.releaseHeld?.();
    this.held = undefined;
  }

  async apply(records: readonly KvRecord[], encoding?: Buffer): Promise<void> {
    await this.enter('apply');
    return this.replica.apply(records, encoding);
  }

  async read(keys: readonly Buffer[], answerBytesMax?: number): Promise<Array<KvRecord | undefined>> {
    await this.enter('read');
    return this.replica.read(keys, answerBytesMax);
  }

  async merkleTree(range: TokenRange, depth: number): Promise<MerkleTreeSummary> {
    await this.enter('merkleTree');
    return this.replica.merkleTree(range, depth);
  }

  async scan(range: TokenRange, limit: number, resumeAfter?: ScanCursor): Promise<ScanPage> {
    await this.enter('scan');
    return this.replica.scan(range, limit, resumeAfter);
  }

  async probe(hello: ProbeHello): Promise<ProbeAnswer> {
    await this.enter('probe');
    this.probes.push(hello);
    return this.probeAnswer ?? { ringState: undefined };
  }

  private async enter(call: string): Promise<void> {
    this.calls.push(call);
    if (this.held !== undefined) await this.held;
    if (this.failWith !== undefined) throw this.failWith;
  }
}

/** Real-time stamps, so the replica's refusal of stamps from the future does not apply. */
function record(key: Buffer, value: string | null, options: { stamp?: bigint; expiresAtMs?: number } = {}): KvRecord {
  const stamp = options.stamp ?? BigInt(Date.now()) << 16n;
  return { key, value: value === null ? null : Buffer.from(value), version: { stamp, nodeId: 'node-a' }, expiresAtMs: options.expiresAtMs ?? 0 };
}

function keyAt(token: bigint, suffix: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(token);
  return Buffer.concat([head, Buffer.from(suffix)]);
}

const within = (ms: number): { deadlineMs: number } => ({ deadlineMs: Date.now() + ms });
/** A rejection with a QkvError of this code: a plain Error is not "INTERNAL", it is a transport that lost the code. */
const failsWith =
  (code: ErrorCode) =>
  (error: unknown): boolean => {
    assert.ok(isQkvError(error), `a QkvError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };

/** Generous for a call that should succeed, even on a loaded machine. */
const CALL_MS = 10_000;
/** Short deadlines, for the calls that are meant to run out of time. */
const DEADLINE_MS = 150;

export function peerTransportContract(name: string, makeTransportPair: MakeTransportPair): void {
  describe(`PeerTransport contract: ${name}`, () => {
    let replica: ContractReplica;
    let pair: TransportPair | undefined;

    const setUp = async (handler?: ReplicaHandler): Promise<TransportPair> => {
      replica = new ContractReplica();
      pair = await makeTransportPair(handler ?? replica);
      return pair;
    };

    afterEach(async () => {
      replica.release();
      if (pair === undefined) return;
      await pair.transport.close();
      await pair.close();
      await replica.engine.close();
      pair = undefined;
    });

    it('apply reaches the handler, resolves once it applied, and read brings the records back intact', async () => {
      const { transport, peer } = await setUp();
      const bigStamp = (1n << 63n) + 12_345n; // beyond 2^53: a Number would round it
      const written = [
        record(keyAt(1n, 'live'), 'one', { stamp: bigStamp }),
        record(keyAt(2n, 'tombstone'), null),
        record(keyAt(3n, 'expiring'), 'three', { expiresAtMs: 1_900_000_000_123 }),
      ];
      await transport.apply(peer, written.slice(1), within(CALL_MS));
      assert.deepEqual(replica.engine.get(written[1]!.key), written[1], 'applied before the call resolved');
      // A replica refuses to store a stamp this far ahead (record-from-future.ts), so it
      // goes straight into the engine; reading it back tests the wire's 64 bits.
      await replica.engine.apply([written[0]!]);
      const answers = await transport.read(peer, [...written.map((r) => r.key), keyAt(4n, 'missing')], within(CALL_MS));
      assert.deepEqual(answers, [...written, undefined]);
    });

    it('calls made in one turn each get their own answer, in order', async () => {
      const { transport, peer } = await setUp();
      const records = Array.from({ length: 20 }, (_, i) => record(keyAt(BigInt(i + 1), `k${i}`), `v${i}`));
      await Promise.all(records.map((r) => transport.apply(peer, [r], within(CALL_MS))));
      const answers = await Promise.all(records.map((r, i) => transport.read(peer, [r.key, records[(i + 1) % 20]!.key], within(CALL_MS))));
      answers.forEach((answer, i) => {
        assert.equal(answer.length, 2);
        assert.equal(answer[0]?.value?.toString(), `v${i}`);
        assert.equal(answer[1]?.value?.toString(), `v${(i + 1) % 20}`);
      });
    });

    it('more messages in one turn than one batch may carry are all delivered and answered', async () => {
      const { transport, peer } = await setUp();
      // Past REPLICA_BATCH_ITEMS_MAX (4096): the gRPC transport must split the turn.
      const records = Array.from({ length: 5_000 }, (_, i) => record(keyAt(BigInt(i + 1), 'many'), `v${i}`));
      await Promise.all(records.map((r) => transport.apply(peer, [r], within(CALL_MS))));
      assert.equal(replica.engine.scan(FULL_RING, 10_000).records.length, records.length);
      const answers = await Promise.all(records.map((r) => transport.read(peer, [r.key], within(CALL_MS))));
      answers.forEach((answer, i) => assert.equal(answer[0]?.value?.toString(), `v${i}`));
    });

    it('a read of no keys answers no records', async () => {
      const { transport, peer } = await setUp();
      assert.deepEqual(await transport.read(peer, [], within(CALL_MS)), []);
    });

    it('a read under answerBytesMax answers a non-empty prefix of the keys, in order', async () => {
      const { transport, peer } = await setUp();
      const records = Array.from({ length: 5 }, (_, i) => record(keyAt(BigInt(i + 1), `big${i}`), 'x'.repeat(1_000)));
      await transport.apply(peer, records, within(CALL_MS));
      const answers = await transport.read(peer, records.map((r) => r.key), { ...within(CALL_MS), answerBytesMax: 1 });
      assert.ok(answers.length >= 1, 'never empty for a non-empty read');
      assert.ok(answers.length <= records.length);
      answers.forEach((answer, i) => assert.deepEqual(answer, records[i]));
    });

    it("the handler's QkvError comes back with its code, for apply and for read", async () => {
      const { transport, peer } = await setUp();
      replica.failWith = new QkvError('STORE_CLOSED', 'the store is closed');
      await assert.rejects(transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], within(CALL_MS)), failsWith('STORE_CLOSED'));
      await assert.rejects(transport.read(peer, [keyAt(1n, 'k')], within(CALL_MS)), failsWith('STORE_CLOSED'));
    });

    it('a handler failure that is not a QkvError arrives as INTERNAL', async () => {
      const { transport, peer } = await setUp();
      replica.failWith = new Error('a bug in the replica');
      await assert.rejects(transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], within(CALL_MS)), failsWith('INTERNAL'));
    });

    it('a peer whose handler lacks Merkle trees and scans answers INTERNAL', async () => {
      const bare = new ContractReplica();
      const { transport, peer } = await setUp({ apply: (records) => bare.apply(records), read: (keys) => bare.read(keys) });
      await assert.rejects(transport.merkleTree(peer, FULL_RING, 2, within(CALL_MS)), failsWith('INTERNAL'));
      await assert.rejects(transport.scan(peer, FULL_RING, 10, undefined, within(CALL_MS)), failsWith('INTERNAL'));
      await bare.engine.close();
    });

    it('a peer that does not answer by the deadline fails DEADLINE_EXCEEDED, not before it', async () => {
      const { transport, peer } = await setUp();
      replica.hold();
      for (const call of [
        (options: { deadlineMs: number }) => transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], options),
        (options: { deadlineMs: number }) => transport.read(peer, [keyAt(1n, 'k')], options),
        (options: { deadlineMs: number }) => transport.scan(peer, FULL_RING, 10, undefined, options),
      ]) {
        const options = within(DEADLINE_MS);
        await assert.rejects(call(options), failsWith('DEADLINE_EXCEEDED'));
        // Timers may fire a millisecond early by the wall clock's rounding, never more.
        assert.ok(Date.now() >= options.deadlineMs - 2, 'the call waited for its deadline');
      }
    });

    it('a deadline already passed fails DEADLINE_EXCEEDED and nothing reaches the handler', async () => {
      const { transport, peer } = await setUp();
      await assert.rejects(transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], { deadlineMs: Date.now() - 1 }), failsWith('DEADLINE_EXCEEDED'));
      await assert.rejects(transport.read(peer, [keyAt(1n, 'k')], { deadlineMs: Date.now() - 1 }), failsWith('DEADLINE_EXCEEDED'));
      assert.deepEqual(replica.calls, []);
    });

    it('an unknown peer and an unreachable one fail PEER_UNREACHABLE', async () => {
      const { transport, unreachablePeer } = await setUp();
      await assert.rejects(transport.apply('no-such-member', [record(keyAt(1n, 'k'), 'v')], within(CALL_MS)), failsWith('PEER_UNREACHABLE'));
      await assert.rejects(transport.read(unreachablePeer, [keyAt(1n, 'k')], within(CALL_MS)), failsWith('PEER_UNREACHABLE'));
      await assert.rejects(transport.probe(unreachablePeer, { sender: '', ringState: undefined, heardRingState: undefined }, within(CALL_MS)), failsWith('PEER_UNREACHABLE'));
    });

    it("merkleTree and scan answer from the peer's records", async () => {
      const { transport, peer } = await setUp();
      const records = Array.from({ length: 12 }, (_, i) => record(keyAt(BigInt(i + 1) << 56n, `k${i}`), `v${i}`));
      await transport.apply(peer, records, within(CALL_MS));
      const tree = await transport.merkleTree(peer, FULL_RING, 3, within(CALL_MS));
      assert.deepEqual(tree, await replica.merkleTree(FULL_RING, 3));
      assert.equal(tree.records, 12);
      const scanned: KvRecord[] = [];
      let page = await transport.scan(peer, FULL_RING, 5, undefined, within(CALL_MS));
      for (;;) {
        assert.ok(page.records.length <= 5);
        scanned.push(...page.records);
        if (page.resumeAfter === undefined) break;
        page = await transport.scan(peer, FULL_RING, 5, page.resumeAfter, within(CALL_MS));
      }
      assert.deepEqual(scanned, records, 'every record once, in token order');
    });

    it("probe carries the caller's hello and brings the peer's ring state back", async () => {
      const { transport, peer, callerId } = await setUp();
      replica.probeAnswer = { ringState: { state: 'LEAVING', version: 7 }, ringDigests: { read: 'read-digest', write: 'write-digest' } };
      const hello: ProbeHello = { sender: callerId, ringState: { state: 'NORMAL', version: 3 }, heardRingState: { state: 'JOINING', version: 1 } };
      assert.deepEqual(await transport.probe(peer, hello, within(CALL_MS)), replica.probeAnswer);
      assert.deepEqual(replica.probes, [hello]);
    });

    it('close() fails the calls in flight and every later call with SHUTTING_DOWN', async () => {
      const { transport, peer } = await setUp();
      await transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], within(CALL_MS)); // connected
      replica.hold();
      const inFlight = transport.read(peer, [keyAt(1n, 'k')], within(CALL_MS));
      // The read is on its way to the peer before the transport closes.
      while (!replica.calls.includes('read')) await new Promise<void>((resolve) => setImmediate(resolve));
      await transport.close();
      await assert.rejects(inFlight, failsWith('SHUTTING_DOWN'));
      await assert.rejects(transport.apply(peer, [record(keyAt(1n, 'k'), 'v')], within(CALL_MS)), failsWith('SHUTTING_DOWN'));
      await assert.rejects(transport.read(peer, [keyAt(1n, 'k')], within(CALL_MS)), failsWith('SHUTTING_DOWN'));
      await assert.rejects(transport.probe(peer, { sender: '', ringState: undefined, heardRingState: undefined }, within(CALL_MS)), failsWith('SHUTTING_DOWN'));
    });
  });
}
