// A FROZEN COPY of src/coordinator/coordinator.ts as it was before ADR 0266 (commit
// 50fe3ef^1, imports rewritten), kept only as the reference that
// test/coordinator/read-path-differential.test.ts compares today's read path with. It is
// not built into anything else (docs/decisions/0271-read-path-differential-against-a-frozen-copy.md). When the read path changes its behaviour on purpose,
// delete this directory and that test together rather than editing this copy. The one
// edit since the freeze fixes a bug both copies shared, so that they still compare equal:
// the blocking read repair counts a node as repaired only once it sent the repair
// (repairBeforeAnswer; test/coordinator/read-at-deadline.test.ts).
// The quorum coordinator (docs/architecture.md follows a request through it). Any node
// coordinates any request: it finds the key's N replicas through the placement port,
// stamps writes with the hybrid logical clock, sends to all N in parallel (its own
// replica directly, the others through the PeerTransport) and answers at W acks for a
// write or R replies for a read.
//
// - While nodes join or leave, a key may also have pending replicas (the nodes taking
//   it over). Writes go to them too and need W + |pending| acks, which always leaves W
//   copies on the natural replicas and W on the final owners; reads ask only the
//   natural replicas (docs/decisions/0080-ring-states-and-range-movement.md).
// - A missed quorum fails fast with QUORUM_NOT_MET once W (or R) can no longer be
//   reached, or with DEADLINE_EXCEEDED at the deadline; both name the acks in hand.
// - Replies after the answer are still counted (metrics) and awaited by close(); every
//   timer belongs to a fan-out and is cleared when its keys are done.
// - Reads return the newest version by (stamp, nodeId) and repair stale replicas: the
//   ones among the first R replies before answering, the later ones in the background
//   (docs/decisions/0020-read-repair.md). A version no honest node writes (stamped
//   further ahead of this node's clock than the drift bound, record-from-future.ts) is
//   never taken as the newest: one replica holding such a record can neither have it
//   returned nor have it repaired onto the others.
// - Batches group keys per replica, so each replica gets one message per batch. A
//   BatchGet bounded in answer bytes is read in chunks, each replica read bounded too,
//   and stops once the answer is full (docs/decisions/0040-bounded-batch-get-memory.md).
//   A BatchPut sends a key repeated in it once, as its last item, and counts acks per
//   replica set, not per key (docs/decisions/0255-batch-writes-counted-per-replica-set.md,
//   docs/decisions/0256-superseded-batch-records-not-sent.md).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../../../src/clock/clock.js';
import type { HybridLogicalClock } from '../../../src/clock/hybrid-logical-clock.js';
import {
  DeadlineExceededError,
  OverloadedError,
  PeerUnreachableError,
  QuorumNotMetError,
  ResponseTooLargeError,
  ShuttingDownError,
  isQkvError,
  type ErrorCode,
  type QkvError,
} from '../../../src/errors/errors.js';
import { REQUEST_TIMEOUT_MS_CEILING } from '../../../src/limits.js';
import type { Logger } from '../../../src/logging/logger.js';
import { compareVersions, isExpired, isTombstone, type KvRecord, type Version } from '../../../src/storage/record.js';
import type { PeerTransport, ReplicaHandler } from '../../../src/replica/peer-transport.js';
import {
  resolveCoordinatorConfig,
  type CoordinatorConfig,
  type CoordinatorPorts,
  type HintSink,
  type KeyPlacement,
  type Placement,
  type ResolvedCoordinatorConfig,
} from '../../../src/coordinator/coordinator-config.js';
import {
  noopCoordinatorMetrics,
  type CoordinatorMetrics,
  type CoordinatorOp,
  type Outcome,
  type QuorumFailureReason,
  type ReplicaOp,
} from '../../../src/coordinator/coordinator-metrics.js';
import { isAnswer, type PeerLiveness } from '../../../src/replica/peer-liveness.js';
import { errorCodeOf, fanOut, type FanoutItemResult, type ReplyOutcome } from '../../../src/coordinator/replica-fanout.js';
import { nextChunkKeys } from '../../../src/coordinator/batch-get-chunks.js';
import { ReplicaReadLatency } from '../../../src/coordinator/replica-read-latency.js';
import { SpeculationBudget } from '../../../src/coordinator/speculation-budget.js';
import { checkBatch, checkDeadlineMs, checkKey, checkTtlMs, checkValue, resolveQuorum } from '../../../src/coordinator/request-validation.js';
import { isFromFuture } from '../../../src/replica/record-from-future.js';
import { SharedBatchEncoding } from '../../../src/replica/shared-batch-encoding.js';
import { encodeBatch } from '../../../src/storage/record-codec.js';
import { callLocalReplica } from '../../../src/coordinator/local-replica-call.js';
import { ReplicaSetGroups, WriteReplicaCache } from '../../../src/coordinator/replica-set-groups.js';
import { lastWriteOfEachKey } from '../../../src/coordinator/superseded-writes.js';

export interface PutOptions {
  /** Acks to wait for; 0 or absent = the cluster default. */
  readonly w?: number;
  /** Time to live; 0 or absent = forever. */
  readonly ttlMs?: number;
  /** Absolute deadline (on the coordinator's Clock, epoch ms); absent = now + writeTimeoutMs. */
  readonly deadlineMs?: number;
}

export interface DeleteOptions {
  readonly w?: number;
  readonly deadlineMs?: number;
}

export interface GetOptions {
  /** Replies to wait for; 0 or absent = the cluster default. */
  readonly r?: number;
  /** Fill `replicas` with what each replica answered. */
  readonly includeReplicas?: boolean;
  readonly deadlineMs?: number;
}

export interface WriteResult {
  readonly version: Version;
  /** Replicas that had acknowledged when the call returned (at least W). */
  readonly acks: number;
}

/** What one replica answered to a read, as far as the coordinator knew when it returned. */
export interface ReplicaReport {
  readonly nodeId: string;
  /** The replica held a live value (not a tombstone, not expired). */
  readonly found: boolean;
  /** The version it held, tombstones and expired records included. */
  readonly version?: Version;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

export interface GetResult {
  /** The newest live record, or undefined when the newest is a tombstone, expired, or absent. */
  readonly record: KvRecord | undefined;
  /** Successful replies in hand when the call returned (at least R). */
  readonly acks: number;
  /** Replicas that had answered (or failed) when the call returned; empty unless asked for. */
  readonly replicas: readonly ReplicaReport[];
}

export interface BatchPutItem {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly ttlMs?: number;
}

export interface BatchWriteOptions {
  readonly w?: number;
  readonly deadlineMs?: number;
}

export interface BatchGetOptions {
  readonly r?: number;
  readonly includeReplicas?: boolean;
  readonly deadlineMs?: number;
  /**
   * Key and value bytes the answer may hold (a positive integer). The keys are then read
   * in chunks, each replica read bounded in bytes, and reading stops once the answer is
   * full: the items after it come back RESPONSE_TOO_LARGE without having been read, so
   * the node never holds much more than this bound from each replica
   * (docs/decisions/0040-bounded-batch-get-memory.md). Absent: every key is read.
   */
  readonly answerBytesMax?: number;
}

/** A batch answers per key: each key meets or misses its own quorum. */
export type BatchWriteItemResult = ({ readonly ok: true } & WriteResult) | BatchItemFailure;
export type BatchGetItemResult = ({ readonly ok: true } & GetResult) | BatchItemFailure;
export interface BatchItemFailure {
  readonly ok: false;
  readonly error: QkvError;
  readonly acks: number;
}

type ReadReply = ReadonlyMap<number, KvRecord | undefined>;

interface Deadline {
  readonly deadlineMs: number;
  readonly timeoutMs: number;
}

/** Per key of a read: the answers in hand when its quorum was met. */
interface ReadItem {
  readonly replicas: readonly string[];
  readonly quorum: FanoutItemResult;
  readonly inHand: readonly Answer[];
  /** A reply bounded in bytes left this key out. */
  readonly leftOut: boolean;
  readonly newest: KvRecord | undefined;
  /** Nodes already sent `newest` by the blocking repair; the background pass skips them. */
  readonly repairedNodes: Set<string>;
}

/** The settings a running coordinator may take on without a restart: not N, not its id. */
export type LiveCoordinatorSettings = Partial<Omit<CoordinatorConfig, 'nodeId' | 'replicationFactor'>>;

export class Coordinator {
  private settings: ResolvedCoordinatorConfig;
  private readonly placement: Placement;
  private readonly transport: PeerTransport;
  private readonly localReplica: ReplicaHandler;
  private readonly clock: HybridLogicalClock;
  private readonly logger: Logger;
  private readonly metrics: CoordinatorMetrics;
  private readonly time: Clock;
  private readonly wallClock: () => number;
  private readonly liveness: PeerLiveness | undefined;
  private readonly hints: HintSink | undefined;
  private readonly readLatency = new ReplicaReadLatency();
  private readonly speculationBudget = new SpeculationBudget();
  private readonly writeReplicas = new WriteReplicaCache();
  private inFlight = 0;
  private closing = false;
  /** Client calls, late replies and background repairs still running; close() waits for them. */
  private pendingWork = 0;
  /** Callers of idle() waiting for pendingWork to reach 0. */
  private idleWaiters: Array<() => void> = [];

  constructor(config: CoordinatorConfig, ports: CoordinatorPorts) {
    this.settings = resolveCoordinatorConfig(config);
    this.placement = ports.placement;
    this.transport = ports.transport;
    this.localReplica = ports.localReplica;
    this.clock = ports.clock;
    this.logger = ports.logger;
    this.metrics = ports.metrics ?? noopCoordinatorMetrics;
    this.time = ports.time ?? systemClock;
    this.wallClock = ports.wallClock ?? (() => this.time.nowMs());
    this.liveness = ports.liveness;
    this.hints = ports.hints;
  }

  get config(): ResolvedCoordinatorConfig {
    return this.settings;
  }

  /**
   * Applies new live settings (quorum defaults, timeouts, read repair, limits) to the
   * requests that start from now on; a request already running keeps what it read.
   * Checked like the first config: a bad value throws ConfigInvalidError and nothing
   * changes.
   */
  reconfigure(settings: LiveCoordinatorSettings): void {
    this.settings = resolveCoordinatorConfig({ ...this.settings, ...settings, nodeId: this.settings.nodeId, replicationFactor: this.settings.replicationFactor });
  }

  /** Client calls running now. */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  async put(key: Buffer, value: Buffer, options: PutOptions = {}): Promise<WriteResult> {
    checkKey(key, this.config.keyBytesMax);
    checkValue(value, this.config.valueBytesMax);
    const ttlMs = checkTtlMs(options.ttlMs);
    const w = this.writeQuorum(options.w);
    checkDeadlineMs(options.deadlineMs);
    return this.run('put', w, async () => {
      const record = this.newRecord(key, value, ttlMs);
      const deadline = this.deadline(options.deadlineMs, 'write');
      if (this.onlyLocalReplica(key, w)) return single(await this.writeLocally('put', record, deadline));
      const [result] = await this.write('put', [record], w, deadline);
      return single(result!);
    });
  }

  /** Writes a tombstone: the key reads as not found until a newer put. */
  async delete(key: Buffer, options: DeleteOptions = {}): Promise<WriteResult> {
    checkKey(key, this.config.keyBytesMax);
    const w = this.writeQuorum(options.w);
    checkDeadlineMs(options.deadlineMs);
    return this.run('delete', w, async () => {
      const record = this.newRecord(key, null, 0);
      const deadline = this.deadline(options.deadlineMs, 'write');
      if (this.onlyLocalReplica(key, w)) return single(await this.writeLocally('delete', record, deadline));
      const [result] = await this.write('delete', [record], w, deadline);
      return single(result!);
    });
  }

  async get(key: Buffer, options: GetOptions = {}): Promise<GetResult> {
    checkKey(key, this.config.keyBytesMax);
    const r = this.readQuorum(options.r);
    checkDeadlineMs(options.deadlineMs);
    const includeReplicas = options.includeReplicas ?? false;
    return this.run('get', r, async () => {
      const deadline = this.deadline(options.deadlineMs, 'read');
      if (!includeReplicas && this.onlyLocalReplica(key, r)) return single(await this.readLocally('get', key, deadline));
      const [result] = await this.read('get', [key], r, includeReplicas, deadline);
      return single(result!);
    });
  }

  /** Writes many keys; every item is checked before anything is sent. */
  async batchPut(items: readonly BatchPutItem[], options: BatchWriteOptions = {}): Promise<BatchWriteItemResult[]> {
    checkBatch(items, this.config.batchItemsMax);
    const ttls = items.map((item) => {
      checkKey(item.key, this.config.keyBytesMax);
      checkValue(item.value, this.config.valueBytesMax);
      return checkTtlMs(item.ttlMs);
    });
    const w = this.writeQuorum(options.w);
    checkDeadlineMs(options.deadlineMs);
    return this.run(
      'batch_put',
      w,
      async () => {
        // Items are stamped in order, so a key written twice in one batch keeps the later value.
        const records = items.map((item, i) => this.newRecord(item.key, item.value, ttls[i]!));
        return this.writeBatch('batch_put', records, w, this.deadline(options.deadlineMs, 'write'));
      },
      batchOutcome,
    );
  }

  async batchGet(keys: readonly Buffer[], options: BatchGetOptions = {}): Promise<BatchGetItemResult[]> {
    checkBatch(keys, this.config.batchItemsMax);
    for (const key of keys) checkKey(key, this.config.keyBytesMax);
    const r = this.readQuorum(options.r);
    checkDeadlineMs(options.deadlineMs);
    const { answerBytesMax } = options;
    assert.ok(answerBytesMax === undefined || (Number.isSafeInteger(answerBytesMax) && answerBytesMax > 0), 'answerBytesMax must be a positive integer');
    const includeReplicas = options.includeReplicas ?? false;
    return this.run(
      'batch_get',
      r,
      () => {
        const deadline = this.deadline(options.deadlineMs, 'read');
        if (answerBytesMax === undefined) return this.read('batch_get', keys, r, includeReplicas, deadline);
        return this.readInChunks(keys, r, includeReplicas, deadline, answerBytesMax);
      },
      batchOutcome,
    );
  }

  /**
   * Refuses new calls with SHUTTING_DOWN and resolves once the calls in flight, their
   * late replies and the background repairs have all finished. The transport, replica
   * and clock belong to the caller and stay open.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
  }

  /** Resolves once no call, late reply or background repair is pending; new calls may still come. */
  async idle(): Promise<void> {
    while (this.pendingWork > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- the write path -------------------------------------------------------------

  private newRecord(key: Buffer, value: Buffer | null, ttlMs: number): KvRecord {
    return {
      key,
      value,
      version: { stamp: this.clock.now(), nodeId: this.config.nodeId },
      expiresAtMs: ttlMs === 0 ? 0 : this.wallClock() + ttlMs,
    };
  }

  private async write(op: CoordinatorOp, records: readonly KvRecord[], w: number, deadline: Deadline): Promise<Array<BatchWriteItemResult>> {
    // Encoded once for the local engine and every peer, not once per replica
    // (docs/decisions/0200-batch-encoded-once-per-write.md).
    const encoding = new SharedBatchEncoding(records);
    const fanout = fanOut<unknown>({
      items: records.map((record) => {
        const { natural, pending } = this.placementOf(record.key);
        return pending.length === 0 ? { replicas: natural, required: w } : { replicas: [...natural, ...pending], required: w + pending.length };
      }),
      ...deadline,
      clock: this.time,
      send: (nodeId, indices) =>
        this.sendWrite(nodeId, indices.length === records.length ? records : indices.map((i) => records[i]!), deadline.deadlineMs, encoding.of(indices)),
      onReply: (nodeId, outcome) => this.observeReply('apply', nodeId, outcome),
    });
    this.track(fanout.complete);
    const { items } = await fanout.quorum;
    return items.map((result, i) => {
      this.metrics.acks({ op }, result.acks);
      if (result.error !== undefined) return this.failed(op, result.acks, result.error, result.failure ?? 'replicas_failed');
      return { ok: true, version: records[i]!.version, acks: result.acks };
    });
  }

  /**
   * write() for many keys: the same acks and results, with two savings
   * (docs/decisions/0255-batch-writes-counted-per-replica-set.md,
   * docs/decisions/0256-superseded-batch-records-not-sent.md): a record a later record of
   * its key overwrites in the same batch is not sent (its item is answered as that later
   * record is), and the keys are grouped by replica set so that acks are counted once per
   * group, not once per key, and each placement is checked once, not once per key.
   */
  private async writeBatch(op: CoordinatorOp, records: readonly KvRecord[], w: number, deadline: Deadline): Promise<Array<BatchWriteItemResult>> {
    const placements = records.map((record) => this.placement(record.key));
    const lastOf = lastWriteOfEachKey(
      records.map((record) => record.key),
      placements,
    );
    // The records sent, in batch order; item i is answered as sent record sentIndexOf[lastOf[i]].
    const sent: KvRecord[] = [];
    const sentPlacements: KeyPlacement[] = [];
    const sentIndexOf = new Int32Array(records.length);
    for (let i = 0; i < records.length; i++) {
      if (lastOf[i] !== i) continue;
      sentIndexOf[i] = sent.length;
      sent.push(records[i]!);
      sentPlacements.push(placements[i]!);
    }
    const groups = new ReplicaSetGroups(sent.length);
    sent.forEach(({ key }, i) => groups.add(this.writeReplicas.of(sentPlacements[i]!, () => this.placementOf(key)), w));
    const encoding = new SharedBatchEncoding(sent);
    const fanout = fanOut<unknown>({
      items: groups.items,
      ...deadline,
      clock: this.time,
      send: (nodeId, groupIndices) => {
        const indices = groups.keysOf(groupIndices);
        return this.sendWrite(nodeId, indices.length === sent.length ? sent : indices.map((i) => sent[i]!), deadline.deadlineMs, encoding.of(indices));
      },
      onReply: (nodeId, outcome) => this.observeReply('apply', nodeId, outcome),
    });
    this.track(fanout.complete);
    const { items } = await fanout.quorum;
    const results: BatchWriteItemResult[] = [];
    for (let i = 0; i < records.length; i++) {
      const result = items[groups.groupOf(sentIndexOf[lastOf[i]!]!)]!;
      this.metrics.acks({ op }, result.acks);
      results.push(result.error === undefined ? { ok: true, version: records[i]!.version, acks: result.acks } : this.failed(op, result.acks, result.error, result.failure ?? 'replicas_failed'));
    }
    return results;
  }

  // ---- one key whose only replica is this node's own ---------------------------------

  /**
   * Whether a single-key call with quorum `quorum` has this node's replica as its one and
   * only replica (N=1, no pending replica): it is then served without the fan-out
   * (local-replica-call.ts), with the same answers, errors and metrics
   * (docs/decisions/0258-one-local-replica-without-the-fan-out.md). Only N=1 looks the
   * key up here; any other N goes to the fan-out as before.
   */
  private onlyLocalReplica(key: Buffer, quorum: number): boolean {
    if (this.config.replicationFactor !== 1 || quorum !== 1) return false;
    const { natural, pending } = this.placementOf(key);
    return pending.length === 0 && natural.length === 1 && natural[0] === this.config.nodeId;
  }

  /** write() for one record whose only replica is this node's. */
  private async writeLocally(op: CoordinatorOp, record: KvRecord, deadline: Deadline): Promise<BatchWriteItemResult> {
    const nodeId = this.config.nodeId;
    const records = [record];
    const call = callLocalReplica<unknown>({
      nodeId,
      ...deadline,
      clock: this.time,
      // The engine logs the batch encoding as its WAL payload (docs/decisions/0200-batch-encoded-once-per-write.md).
      call: () => this.localReplica.apply(records, encodeBatch(records)),
      onReply: (outcome) => this.observeReply('apply', nodeId, outcome),
    });
    this.track(call.complete);
    const result = await call.result;
    const acks = result.ok ? 1 : 0;
    this.metrics.acks({ op }, acks);
    if (!result.ok) return this.failed(op, acks, result.error, result.failure);
    return { ok: true, version: record.version, acks };
  }

  /**
   * read() for one key whose only replica is this node's: with one replica there is no
   * spare to ask and nothing to repair (the one answer is the newest), so what is left is
   * the answer itself, its stamp observed and its latency recorded as read() does.
   */
  private async readLocally(op: CoordinatorOp, key: Buffer, deadline: Deadline): Promise<BatchGetItemResult> {
    const nodeId = this.config.nodeId;
    this.speculationBudget.earn();
    const keys = [key];
    const call = callLocalReplica<KvRecord | undefined>({
      nodeId,
      ...deadline,
      clock: this.time,
      call: async () => {
        const startedMs = this.time.nowMs();
        const records = await this.localReplica.read(keys);
        if (records.length !== 1) throw new Error(`replica ${nodeId} answered ${records.length} records for 1 key`);
        const record = records[0];
        if (record !== undefined && !record.key.equals(key)) throw new Error(`replica ${nodeId} answered for another key`);
        this.readLatency.record(nodeId, this.time.nowMs() - startedMs);
        return record;
      },
      onReply: (outcome) => {
        this.observeReply('read', nodeId, outcome);
        if (outcome.ok && outcome.value !== undefined) this.observeRead(nodeId, outcome.value);
      },
    });
    this.track(call.complete);
    const result = await call.result;
    const acks = result.ok ? 1 : 0;
    this.metrics.acks({ op }, acks);
    if (!result.ok) return this.failed(op, acks, result.error, result.failure);
    const newest = result.value === undefined || isFromFuture(result.value, this.clock) ? undefined : result.value;
    const live = newest !== undefined && !isTombstone(newest) && !isExpired(newest, this.wallClock()) ? newest : undefined;
    return { ok: true, record: live, acks, replicas: [] };
  }

  // ---- the read path --------------------------------------------------------------

  /**
   * A BatchGet whose answer holds at most `answerBytesMax` bytes of keys and values:
   * the keys are read chunk after chunk (sized by batch-get-chunks.ts), every replica
   * read bounded by its share of the bytes left, and reading stops at the first item
   * that does not fit or that the bounded reads left out. That item and every one after
   * it are RESPONSE_TOO_LARGE; the first item always fits. Each key still meets or
   * misses its own quorum, with read repair, exactly as in an unbounded read.
   */
  private async readInChunks(
    keys: readonly Buffer[],
    r: number,
    includeReplicas: boolean,
    deadline: Deadline,
    answerBytesMax: number,
  ): Promise<BatchGetItemResult[]> {
    const results: BatchGetItemResult[] = [];
    const itemBytesMax = this.config.keyBytesMax + this.config.valueBytesMax;
    let answerBytes = 0;
    let itemsSeen = 0;
    let bytesSeen = 0;
    reading: while (results.length < keys.length) {
      const count = nextChunkKeys({ keysLeft: keys.length - results.length, bytesLeft: answerBytesMax - answerBytes, itemsSeen, bytesSeen, itemBytesMax });
      if (count === 0) break;
      const chunk = keys.slice(results.length, results.length + count);
      const chunkResults = await this.read('batch_get', chunk, r, includeReplicas, deadline, answerBytesMax - answerBytes);
      for (let p = 0; p < chunk.length; p++) {
        const result = chunkResults[p]!;
        itemsSeen++;
        if (!result.ok) {
          if (result.error instanceof ResponseTooLargeError) break reading;
          bytesSeen += chunk[p]!.length;
          results.push(result);
          continue;
        }
        const size = chunk[p]!.length + (result.record?.value?.length ?? 0);
        bytesSeen += size;
        if (answerBytes > 0 && answerBytes + size > answerBytesMax) break reading;
        answerBytes += size;
        results.push(result);
      }
    }
    if (results.length < keys.length) {
      const tooLarge = new ResponseTooLargeError(answerBytesMax);
      while (results.length < keys.length) results.push({ ok: false, error: tooLarge, acks: 0 });
    }
    return results;
  }

  /**
   * Reads `keys` from their replicas. With `answerBytesMax` each replica is asked to
   * answer at most its share of it (in proportion to the keys it holds), and a key that
   * misses its quorum because replicas left it out is RESPONSE_TOO_LARGE rather than a
   * quorum failure: nothing failed, it was not read.
   */
  private async read(
    op: CoordinatorOp,
    keys: readonly Buffer[],
    r: number,
    includeReplicas: boolean,
    deadline: Deadline,
    answerBytesMax?: number,
  ): Promise<BatchGetItemResult[]> {
    // Each key asks R of its replicas, the local one first, unless the caller wants every
    // replica's view (include_replicas) or R = N anyway; a bounded read (answerBytesMax)
    // asks all too, since a reply leaving a key out is no failure to replace
    // (docs/decisions/0175-reads-sized-to-the-quorum.md).
    const askAll = includeReplicas || answerBytesMax !== undefined;
    if (!askAll) this.speculationBudget.earn();
    const replicaLists = keys.map((key) => this.readOrder(this.placementOf(key).natural));
    // Per key, every answer as it comes (late ones too), and whether a bounded reply left it out.
    const answers: Answer[][] = keys.map(() => []);
    const leftOutBy: boolean[] = keys.map(() => false);
    const fanout = fanOut<ReadReply>({
      items: replicaLists.map((replicas) => (askAll ? { replicas, required: r } : { replicas, required: r, asked: r })),
      ...deadline,
      clock: this.time,
      ...(askAll ? {} : { speculateAfterMs: this.speculationThresholdMs(replicaLists, r), maySpeculate: () => this.speculationBudget.trySpend() }),
      send: (nodeId, indices) =>
        this.timedRead(nodeId, indices, keys, deadline.deadlineMs, answerBytesMax === undefined ? undefined : Math.max(1, Math.ceil((answerBytesMax * indices.length) / keys.length))),
      ...(answerBytesMax === undefined ? {} : { answers: (reply: ReadReply, index: number) => reply.has(index) }),
      onReply: (nodeId, outcome, _late, indices) => {
        this.observeReply('read', nodeId, outcome);
        for (const i of indices) {
          if (!outcome.ok) answers[i]!.push({ nodeId, ok: false, error: outcome.error });
          else if (outcome.value.has(i)) answers[i]!.push({ nodeId, ok: true, record: outcome.value.get(i) });
          else leftOutBy[i] = true;
        }
        // Stamps seen on reads move the clock, so a later write here sorts after them.
        if (outcome.ok) for (const record of outcome.value.values()) if (record !== undefined) this.observeRead(nodeId, record);
      },
    });
    const { items: quorums } = await fanout.quorum;
    const items: ReadItem[] = keys.map((_key, i) => {
      const quorum = quorums[i]!;
      for (const reason of quorum.spares) this.metrics.speculativeRead({ reason });
      if (quorum.wonBySpare !== undefined) this.metrics.speculativeReadWon({ reason: quorum.wonBySpare });
      const inHand = answers[i]!.slice();
      return { replicas: replicaLists[i]!, quorum, inHand, leftOut: leftOutBy[i]!, newest: this.newestOf(inHand), repairedNodes: new Set() };
    });
    const repairFailures = this.config.readRepair ? await this.repairBeforeAnswer(items, r, deadline) : new Map();
    if (this.config.readRepair) this.track(fanout.complete.then(() => this.repairInBackground(items, answers)));
    else this.track(fanout.complete);

    const nowMs = this.wallClock();
    return items.map((item, i) => {
      const answers = item.inHand;
      const acks = answers.filter((answer) => answer.ok).length;
      // Left out by a bounded reply and short of its quorum (before the deadline): not read.
      if (item.quorum.error !== undefined && item.quorum.failure !== 'deadline_exceeded' && answerBytesMax !== undefined && item.leftOut) {
        return { ok: false, error: new ResponseTooLargeError(answerBytesMax), acks };
      }
      this.metrics.acks({ op }, acks);
      if (item.quorum.error !== undefined) return this.failed(op, acks, item.quorum.error, item.quorum.failure ?? 'replicas_failed');
      const repairFailure = repairFailures.get(i);
      if (repairFailure !== undefined) return this.failed(op, acks, repairFailure, 'read_repair_failed');
      const newest = item.newest;
      const live = newest !== undefined && !isTombstone(newest) && !isExpired(newest, nowMs) ? newest : undefined;
      const replicas = includeReplicas ? answers.map((answer) => report(answer, nowMs)) : [];
      return { ok: true, record: live, acks, replicas };
    });
  }

  /**
   * Brings the stale replicas among the replies in hand up to the newest version before
   * the read answers, so that at least R replicas hold what the read returns (a later
   * quorum read cannot go back to an older value). Returns the keys whose repair failed.
   */
  private async repairBeforeAnswer(items: readonly ReadItem[], r: number, deadline: Deadline): Promise<Map<number, QkvError>> {
    const repairs: Array<{ item: number; stale: string[]; holders: number }> = [];
    items.forEach((item, i) => {
      if (item.quorum.error !== undefined || item.newest === undefined) return;
      const answers = item.inHand.filter((answer) => answer.ok);
      const stale = answers.filter((answer) => isStale(answer.record, item.newest!)).map((answer) => answer.nodeId);
      if (stale.length > 0) repairs.push({ item: i, stale, holders: answers.length - stale.length });
    });
    const failures = new Map<number, QkvError>();
    if (repairs.length === 0) return failures;

    const fanout = fanOut<unknown>({
      // Only as many repairs as it takes to reach R holders are waited for; all are sent.
      items: repairs.map((repair) => ({ replicas: repair.stale, required: Math.max(0, r - repair.holders) })),
      ...deadline,
      clock: this.time,
      send: (nodeId, indices) => {
        // Fixed after the freeze, like src/coordinator/coordinator.ts: a node counts as
        // repaired only once its repair is sent (nothing is sent at the read's deadline).
        for (const j of indices) items[repairs[j]!.item]!.repairedNodes.add(nodeId);
        this.metrics.readRepairs(indices.length);
        return this.sendApply(nodeId, indices.map((j) => items[repairs[j]!.item]!.newest!), deadline.deadlineMs);
      },
      onReply: (nodeId, outcome) => this.observeReply('repair', nodeId, outcome),
    });
    this.track(fanout.complete);
    const { items: results } = await fanout.quorum;
    results.forEach((result, j) => {
      if (result.error === undefined) return;
      const repair = repairs[j]!;
      const holders = repair.holders + result.acks;
      const replicaCount = items[repair.item]!.replicas.length;
      const error =
        result.error instanceof DeadlineExceededError
          ? new DeadlineExceededError(holders, r, deadline.timeoutMs)
          : new QuorumNotMetError(holders, r, replicaCount, `read repair failed: ${result.failures.join('; ')}`);
      failures.set(repair.item, error);
    });
    return failures;
  }

  /**
   * Once every replica asked has answered, sends the newest version seen to each one that
   * answered with an older one, late repliers included. Nobody waits for this. Replicas
   * not asked are left to anti-entropy.
   */
  private async repairInBackground(items: readonly ReadItem[], allAnswers: ReadonlyArray<readonly Answer[]>): Promise<void> {
    const perNode = new Map<string, KvRecord[]>();
    items.forEach((item, i) => {
      const answers = allAnswers[i]!.filter((answer) => answer.ok);
      const newest = this.newestOf(answers);
      if (newest === undefined) return;
      // A late reply newer than what the blocking repair sent makes every earlier repair
      // stale too, so the set of nodes to skip only applies while the newest is unchanged.
      const skip = item.newest !== undefined && compareVersions(newest.version, item.newest.version) === 0 ? item.repairedNodes : new Set<string>();
      for (const answer of answers) {
        if (!isStale(answer.record, newest) || skip.has(answer.nodeId)) continue;
        const records = perNode.get(answer.nodeId);
        if (records === undefined) perNode.set(answer.nodeId, [newest]);
        else records.push(newest);
      }
    });
    if (perNode.size === 0) return;
    const deadlineMs = this.time.nowMs() + this.config.writeTimeoutMs;
    await Promise.all(
      [...perNode].map(async ([nodeId, records]) => {
        this.metrics.readRepairs(records.length);
        try {
          await this.sendApply(nodeId, records, deadlineMs);
          this.observeReply('repair', nodeId, { ok: true, value: undefined });
        } catch (error) {
          this.observeReply('repair', nodeId, { ok: false, error });
        }
      }),
    );
  }

  /**
   * The newest record among the answers, leaving out any record no honest node writes
   * (record-from-future.ts): it is neither returned nor repaired onto other replicas.
   * The replica holding it is not repaired either: its version sorts after the newest.
   */
  private newestOf(answers: readonly Answer[]): KvRecord | undefined {
    let newest: KvRecord | undefined;
    for (const { record } of answers) {
      if (record === undefined || isFromFuture(record, this.clock)) continue;
      if (newest === undefined || compareVersions(record.version, newest.version) > 0) newest = record;
    }
    return newest;
  }

  /** A record a replica answered: its stamp moves the clock, unless it comes from the future (then it is logged). */
  private observeRead(nodeId: string, record: KvRecord): void {
    if (this.clock.observe(record.version.stamp) && !isFromFuture(record, this.clock)) return;
    this.logger.warn(
      { peer: nodeId, stamp: record.version.stamp.toString(), expiresAtMs: record.expiresAtMs, writer: record.version.nodeId },
      'a replica holds a record stamped or expiring further ahead than any node writes; reads ignore it and do not repair it onto other replicas',
    );
  }

  // ---- talking to replicas --------------------------------------------------------

  private placementOf(key: Buffer): KeyPlacement {
    const placed = this.placement(key);
    const n = this.config.replicationFactor;
    // The ring hands out its cached lists; they are not copied unless longer than N.
    const natural = placed.natural.length <= n ? placed.natural : placed.natural.slice(0, n);
    const pending = placed.pending;
    assert.ok(pending.length <= n, 'placement returned more pending replicas than N');
    // N is at most REPLICATION_FACTOR_MAX (7): a pairwise check is cheaper than a Set per
    // request, and plain comparisons cheaper than an assert call per pair (this runs for
    // every key of a batch).
    for (let i = 1; i < natural.length; i++) {
      for (let j = 0; j < i; j++) if (natural[i] === natural[j]) assert.fail('placement returned a node twice');
    }
    for (let i = 0; i < pending.length; i++) {
      assert.ok(!natural.includes(pending[i]!), 'placement returned a pending replica that is also natural');
      for (let j = 0; j < i; j++) if (pending[i] === pending[j]) assert.fail('placement returned a pending node twice');
    }
    return natural === placed.natural ? placed : { natural, pending };
  }

  /** `encoding`: the records' batch encoding, when the caller made it (SharedBatchEncoding). */
  private sendApply(nodeId: string, records: readonly KvRecord[], deadlineMs: number, encoding?: Buffer): Promise<void> {
    if (nodeId === this.config.nodeId) return this.localReplica.apply(records, encoding);
    return this.callPeer(nodeId, () => this.transport.apply(nodeId, records, encoding === undefined ? { deadlineMs } : { deadlineMs, encoding }));
  }

  /** One call to a peer: skipped when the peer is down, its outcome told to the failure detector. */
  private async callPeer<T>(nodeId: string, call: () => Promise<T>): Promise<T> {
    const liveness = this.liveness;
    if (liveness === undefined) return call();
    if (liveness.isDown(nodeId)) throw markedDown(nodeId);
    try {
      const value = await call();
      liveness.recordAnswer(nodeId);
      return value;
    } catch (error) {
      if (isAnswer(error)) liveness.recordAnswer(nodeId);
      else liveness.recordFailure(nodeId);
      throw error;
    }
  }

  /**
   * A client write to one replica. When the replica misses it (down, unreachable, late,
   * failed), the records are left as a hint for later delivery. In strict mode (the
   * default) the failure is reported at once and the hint is written in the background;
   * with hintedWritesCountTowardW a durable hint counts as the replica's ack.
   */
  private async sendWrite(nodeId: string, records: readonly KvRecord[], deadlineMs: number, encoding: Buffer): Promise<void> {
    try {
      await this.sendApply(nodeId, records, deadlineMs, encoding);
    } catch (error) {
      if (this.hints === undefined || nodeId === this.config.nodeId || !isMissedWrite(error)) throw error;
      const hinting = this.hints.store(nodeId, records).catch((hintError: unknown) => {
        this.logger.warn({ peer: nodeId, err: hintError }, 'hint could not be stored');
        return false;
      });
      if (!this.config.hintedWritesCountTowardW) {
        this.track(hinting);
        throw error;
      }
      if (!(await hinting)) throw error;
    }
  }

  /**
   * One replica's records for the keys at `indices`. Under `answerBytesMax` the reply
   * may answer only a prefix of them (at least one): the map then holds only the keys
   * answered.
   */
  private async sendRead(nodeId: string, indices: readonly number[], keys: readonly Buffer[], deadlineMs: number, answerBytesMax?: number): Promise<ReadReply> {
    const batch = indices.map((i) => keys[i]!);
    const records =
      nodeId === this.config.nodeId
        ? await this.localReplica.read(batch, answerBytesMax)
        : await this.callPeer(nodeId, () => this.transport.read(nodeId, batch, answerBytesMax === undefined ? { deadlineMs } : { deadlineMs, answerBytesMax }));
    // A peer is another process: a wrong answer is its failure, not a crash here.
    const complete = records.length === batch.length;
    const prefix = answerBytesMax !== undefined && records.length > 0 && records.length < batch.length;
    if (!complete && !prefix) throw new Error(`replica ${nodeId} answered ${records.length} records for ${batch.length} keys`);
    records.forEach((record, p) => {
      if (record !== undefined && !record.key.equals(batch[p]!)) throw new Error(`replica ${nodeId} answered for another key`);
    });
    return new Map(records.map((record, p) => [indices[p]!, record]));
  }

  /** sendRead, with the time a successful reply took recorded for the speculation threshold. */
  private async timedRead(nodeId: string, indices: readonly number[], keys: readonly Buffer[], deadlineMs: number, answerBytesMax?: number): Promise<ReadReply> {
    const startedMs = this.time.nowMs();
    const reply = await this.sendRead(nodeId, indices, keys, deadlineMs, answerBytesMax);
    this.readLatency.record(nodeId, this.time.nowMs() - startedMs);
    return reply;
  }

  /**
   * The order a read asks a key's replicas in: this node's own replica first (no network
   * hop), then the peers the failure detector thinks are up, then those it marks down, each
   * group in preference-list order. The first R are asked; the rest are spares.
   */
  private readOrder(natural: readonly string[]): readonly string[] {
    const self = this.config.nodeId;
    const liveness = this.liveness;
    let needsReorder = false;
    for (let i = 0; i < natural.length; i++) {
      const nodeId = natural[i]!;
      if ((nodeId === self && i > 0) || (liveness !== undefined && nodeId !== self && liveness.isDown(nodeId))) needsReorder = true;
    }
    if (!needsReorder) return natural;
    const local = natural.filter((nodeId) => nodeId === self);
    const up = natural.filter((nodeId) => nodeId !== self && !(liveness?.isDown(nodeId) ?? false));
    const down = natural.filter((nodeId) => nodeId !== self && (liveness?.isDown(nodeId) ?? false));
    return [...local, ...up, ...down];
  }

  /** How long a read waits for its first R replicas before asking a spare: the slowest one's threshold. */
  private speculationThresholdMs(replicaLists: ReadonlyArray<readonly string[]>, r: number): number {
    let thresholdMs = 0;
    const seen = new Set<string>();
    for (const replicas of replicaLists) {
      for (let k = 0; k < r && k < replicas.length; k++) {
        const nodeId = replicas[k]!;
        if (seen.has(nodeId)) continue;
        seen.add(nodeId);
        thresholdMs = Math.max(thresholdMs, this.readLatency.thresholdMs(nodeId, this.config.readSpeculationFloorMs, this.config.readSpeculationCeilingMs));
      }
    }
    return thresholdMs;
  }

  private observeReply(op: ReplicaOp, peer: string, outcome: ReplyOutcome<unknown>): void {
    const result: Outcome = outcome.ok ? 'ok' : errorCodeOf(outcome.error);
    this.metrics.replicaRequest({ op, peer, result });
    if (!outcome.ok) this.logger.debug({ op, peer, code: result, err: outcome.error }, 'replica request failed');
  }

  // ---- bookkeeping ----------------------------------------------------------------

  private writeQuorum(requested: number | undefined): number {
    return resolveQuorum('w', requested, this.config.replicationFactor, this.config.writeQuorum);
  }

  private readQuorum(requested: number | undefined): number {
    return resolveQuorum('r', requested, this.config.replicationFactor, this.config.readQuorum);
  }

  private deadline(requestedMs: number | undefined, kind: 'read' | 'write'): Deadline {
    const nowMs = this.time.nowMs();
    const defaultMs = kind === 'read' ? this.config.readTimeoutMs : this.config.writeTimeoutMs;
    // A client may shorten the wait but not hold a request past the ceiling.
    const deadlineMs = requestedMs === undefined ? nowMs + defaultMs : Math.min(requestedMs, nowMs + REQUEST_TIMEOUT_MS_CEILING);
    return { deadlineMs, timeoutMs: Math.max(0, deadlineMs - nowMs) };
  }

  private failed(op: CoordinatorOp, acks: number, error: QkvError, reason: QuorumFailureReason): BatchItemFailure {
    this.metrics.quorumFailure({ op, reason });
    this.logger.debug({ op, acks, code: error.code, reason }, 'quorum not met');
    return { ok: false, error, acks };
  }

  /**
   * Admission, in-flight accounting and the request metric around one client call.
   * `outcomeOf` labels a call that returned; a call that threw is labelled by its error.
   */
  private async run<T>(op: CoordinatorOp, quorum: number, body: () => Promise<T>, outcomeOf: (result: T) => Outcome = () => 'ok'): Promise<T> {
    if (this.closing) throw new ShuttingDownError();
    if (this.inFlight >= this.config.inFlightRequestsMax) {
      this.metrics.requestDuration({ op, quorum, outcome: 'OVERLOADED' }, 0);
      throw new OverloadedError('coordinator requests', this.config.inFlightRequestsMax);
    }
    this.inFlight++;
    const startedMs = performance.now();
    let outcome: Outcome = 'INTERNAL';
    const call = body();
    // The caller handles the call's own failure; close() only needs to know when it ends.
    this.track(call, false);
    try {
      const result = await call;
      outcome = outcomeOf(result);
      return result;
    } catch (error) {
      outcome = isQkvError(error) ? error.code : 'INTERNAL';
      throw error;
    } finally {
      this.inFlight--;
      this.metrics.requestDuration({ op, quorum, outcome }, (performance.now() - startedMs) / 1000);
    }
  }

  /**
   * Counts `work` as pending until it settles; a failure is logged unless the caller
   * handles it (`logFailure` false). A counter and one callback per piece of work: this
   * runs several times for every request.
   */
  private track(work: Promise<unknown>, logFailure = true): void {
    this.pendingWork++;
    const done = (): void => {
      if (--this.pendingWork > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    };
    work.then(done, (error: unknown) => {
      try {
        if (logFailure) this.logger.error({ err: error }, 'coordinator background work failed');
      } finally {
        done();
      }
    });
  }
}

/** One reply for one key of a read. */
interface Answer {
  readonly nodeId: string;
  readonly ok: boolean;
  readonly record?: KvRecord;
  readonly error?: unknown;
}

function isStale(held: KvRecord | undefined, newest: KvRecord): boolean {
  return held === undefined || compareVersions(held.version, newest.version) < 0;
}

function report(answer: Answer, nowMs: number): ReplicaReport {
  if (!answer.ok) {
    const error = answer.error;
    return { nodeId: answer.nodeId, found: false, error: { code: errorCodeOf(error), message: error instanceof Error ? error.message : String(error) } };
  }
  const record = answer.record;
  if (record === undefined) return { nodeId: answer.nodeId, found: false };
  return { nodeId: answer.nodeId, found: !isTombstone(record) && !isExpired(record, nowMs), version: record.version };
}

/** Unwraps the one item of a single-key call: its result, or its error thrown. */
function single<T extends object>(result: ({ readonly ok: true } & T) | BatchItemFailure): T {
  if (!result.ok) throw result.error;
  const { ok: _ok, ...value } = result;
  return value as unknown as T;
}

/**
 * A batch is 'ok' when every key met its quorum, else labelled by its first failure. A
 * key left for the client to ask again (RESPONSE_TOO_LARGE) is no failure.
 */
function batchOutcome(results: ReadonlyArray<{ readonly ok: true } | BatchItemFailure>): Outcome {
  for (const result of results) if (!result.ok && result.error.code !== 'RESPONSE_TOO_LARGE') return result.error.code;
  return 'ok';
}

/** The cause carried by the error of a call the coordinator skipped because the peer is down. */
const MARKED_DOWN = 'the failure detector marks it down';

function markedDown(nodeId: string): PeerUnreachableError {
  return new PeerUnreachableError(nodeId, { cause: new Error(MARKED_DOWN) });
}

/**
 * The replica may not hold the write: it did not answer, answered too late, or failed
 * to store it. A refusal of the request itself (bad input, or a stamp further ahead of
 * the replica's clock than the drift bound) would fail again on delivery.
 */
function isMissedWrite(error: unknown): boolean {
  const code = errorCodeOf(error);
  return code !== 'INVALID_ARGUMENT' && code !== 'KEY_TOO_LARGE' && code !== 'KEY_EMPTY' && code !== 'VALUE_TOO_LARGE' && code !== 'STAMP_FROM_FUTURE';
}
