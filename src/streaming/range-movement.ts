// Moves the data of the ranges whose owners change when this node joins or leaves
// (docs/decisions/0080-ring-states-and-range-movement.md). The node has already taken
// its new ring state (JOINING or LEAVING) and announced it; a movement then
//
//   1. announcing: waits until every reachable peer has heard the new state, so every
//      write routed from now on reaches the new owners as pending replicas;
//   2. waiting for in-flight writes: waits one write timeout more, so writes routed by
//      the old rings have ended before any range is read;
//   3. streaming: for each moving range (read ring -> write ring, src/ring/placement-rings.ts)
//      - join: pulls from the range's current replicas, from every reachable one, and
//        counts the range done once at least max(1, replicas - W + 1) of them were
//        streamed: a write acked by W replicas is on at least one of any
//        replicas - W + 1 of them, so one source alone could miss acked writes;
//      - leave: pushes this node's records to each new owner of the range; done when
//        every new owner took them (a write this node missed was acked by W others,
//        which stay);
//      - rereplicate (after `qkv forget` took a member gone for good out of the rings,
//        docs/decisions/0180-forget-a-member-gone-for-good.md): like a join, for every
//        range this node replicates in the read ring, from its other replicas; a range
//        this node held already costs one Merkle-tree comparison per source, one it
//        gained from the forgotten member is streamed in;
//   4. retrying: ranges that could not be done are retried after a pause, with the rings
//      of that moment, until none is left.
// Done ranges are saved (stream-progress.json), so a restarted node resumes; re-streaming
// a range is harmless because applying is idempotent under last writer wins.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import type { PeerLiveness } from '../replica/peer-liveness.js';
import type { PlacementRings } from '../ring/placement-rings.js';
import type { TokenRange } from '../ring/token-range.js';
import type { RangeSyncOutcome, SyncDirection } from '../repair/range-sync.js';
import type { CompletedRanges } from './completed-ranges.js';

export type MovementKind = 'join' | 'leave' | 'rereplicate';
export type StreamDirection = 'in' | 'out';
export type MovementPhase = 'announcing' | 'waiting for in-flight writes' | 'streaming' | 'retrying' | 'done';

export interface MovementProgress {
  readonly kind: MovementKind;
  readonly phase: MovementPhase;
  readonly rangesDone: number;
  readonly rangesTotal: number;
  /** Records and key + value bytes moved by this process so far. */
  readonly keys: number;
  readonly bytes: number;
  /** Why the last failed range failed, while retrying. */
  readonly lastError: string;
  /** Reachable peers that have not heard the new state yet, while announcing. */
  readonly waitingFor: readonly string[];
}

export interface StreamMetrics {
  streamed(direction: StreamDirection, records: number, bytes: number): void;
  rangeMoved(direction: StreamDirection): void;
}

export const noopStreamMetrics: StreamMetrics = { streamed: () => {}, rangeMoved: () => {} };

export interface RangeMovementOptions {
  readonly nodeId: string;
  readonly kind: MovementKind;
  /** The rings as they are now; rebuilt by the node whenever a state changes. */
  readonly rings: () => PlacementRings;
  /** Brings one range in line with one peer (src/repair/range-sync.ts, throttled). */
  readonly sync: (peer: string, range: TokenRange, direction: SyncDirection, signal: AbortSignal) => Promise<RangeSyncOutcome>;
  /** Reachable peers that have not heard this node's current ring state yet. */
  readonly unannouncedPeers: () => readonly string[];
  readonly liveness: PeerLiveness;
  /** The cluster's default W: how many sources a joining range needs (see above). */
  readonly writeQuorum: number;
  readonly writeTimeoutMs: number;
  readonly retryIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly rangesInFlight: number;
  readonly progressSaveIntervalMs: number;
  /** Ranges done before (a resumed movement); updated as ranges are done. */
  readonly done: CompletedRanges;
  /** Saves `done` durably. */
  readonly saveDone: (done: CompletedRanges) => Promise<void>;
  readonly metrics?: StreamMetrics;
  readonly logger: Logger;
}

interface WorkItem {
  readonly range: TokenRange;
  /** Sources (join) or new owners (leave). */
  readonly peers: readonly string[];
  /** How many of `peers` must succeed for the range to be done. */
  readonly needed: number;
}

export class RangeMovement {
  private phase: MovementPhase = 'announcing';
  private rangesDone = 0;
  private rangesTotal = 0;
  private keys = 0;
  private bytes = 0;
  private lastError = '';
  private waitingFor: readonly string[] = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private lastSaveMs = 0;
  private readonly metrics: StreamMetrics;
  private readonly direction: StreamDirection;

  constructor(private readonly options: RangeMovementOptions) {
    this.metrics = options.metrics ?? noopStreamMetrics;
    this.direction = options.kind === 'leave' ? 'out' : 'in';
  }

  /** Runs the movement to its end; rejects with an AbortError once closed. Shared when called again. */
  run(): Promise<void> {
    this.running ??= this.execute();
    return this.running;
  }

  progress(): MovementProgress {
    return {
      kind: this.options.kind,
      phase: this.phase,
      rangesDone: this.rangesDone,
      rangesTotal: this.rangesTotal,
      keys: this.keys,
      bytes: this.bytes,
      lastError: this.lastError,
      waitingFor: this.waitingFor,
    };
  }

  /** Stops at the next step; a sync call in flight finishes first (each is bounded by its deadline). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => {});
  }

  private async execute(): Promise<void> {
    const { options } = this;
    const signal = this.abort.signal;
    await waitUntilHeard(options.unannouncedPeers, options.pollIntervalMs, signal, (waiting) => {
      this.waitingFor = waiting;
    });
    this.waitingFor = [];
    this.phase = 'waiting for in-flight writes';
    await sleep(options.writeTimeoutMs, undefined, { signal });
    for (;;) {
      signal.throwIfAborted();
      this.phase = 'streaming';
      const items = this.workItems();
      const todo = items.filter((item) => !options.done.covers(item.range));
      this.rangesTotal = items.length;
      this.rangesDone = items.length - todo.length;
      if (todo.length === 0) break;
      const failed = await this.movePass(todo, signal);
      await options.saveDone(options.done);
      if (failed === 0) continue;
      options.logger.warn({ failed, lastError: this.lastError, retryInMs: options.retryIntervalMs }, `${options.kind}: some ranges could not be streamed yet; retrying`);
      this.phase = 'retrying';
      await sleep(options.retryIntervalMs, undefined, { signal });
    }
    this.lastError = '';
    this.phase = 'done';
    options.logger.info({ ranges: this.rangesTotal, keys: this.keys, bytes: this.bytes }, `${options.kind}: every range streamed`);
  }

  /** The ranges that move, with the peers to stream them from or to. */
  private workItems(): WorkItem[] {
    const { nodeId, kind, writeQuorum } = this.options;
    const items: WorkItem[] = [];
    if (kind === 'rereplicate') {
      for (const owned of this.options.rings().read.rangesReplicatedOn(nodeId)) {
        const sources = owned.replicas.filter((id) => id !== nodeId);
        if (sources.length === 0) continue;
        items.push({ range: owned.range, peers: sources, needed: Math.min(sources.length, Math.max(1, owned.replicas.length - writeQuorum + 1)) });
      }
      return items;
    }
    for (const move of this.options.rings().moves()) {
      if (kind === 'join') {
        if (!move.gaining.includes(nodeId)) continue;
        const sources = move.before.filter((id) => id !== nodeId);
        // No current replica at all: nobody holds data of this range, nothing to fetch.
        if (sources.length === 0) continue;
        items.push({ range: move.range, peers: sources, needed: Math.min(sources.length, Math.max(1, move.before.length - writeQuorum + 1)) });
      } else {
        if (!move.losing.includes(nodeId)) continue;
        const owners = move.gaining.filter((id) => id !== nodeId);
        if (owners.length === 0) continue;
        items.push({ range: move.range, peers: owners, needed: owners.length });
      }
    }
    return items;
  }

  /** Streams every item, `rangesInFlight` at a time; returns how many failed. */
  private async movePass(todo: readonly WorkItem[], signal: AbortSignal): Promise<number> {
    let next = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !signal.aborted) {
        const item = todo[next++]!;
        if (await this.moveRange(item, signal)) {
          this.options.done.add(item.range);
          this.rangesDone++;
          this.metrics.rangeMoved(this.direction);
          await this.maybeSave();
        } else {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.rangesInFlight, todo.length) }, worker));
    signal.throwIfAborted();
    return failed;
  }

  private async moveRange(item: WorkItem, signal: AbortSignal): Promise<boolean> {
    const { liveness, kind } = this.options;
    const direction: SyncDirection = kind === 'leave' ? 'push' : 'pull';
    let succeeded = 0;
    const failures: string[] = [];
    // One peer after the other: the second source of a range is compared against what
    // the first one brought, so only the leaves where they differ are streamed again.
    for (const peer of item.peers) {
      if (liveness.isDown(peer)) {
        failures.push(`${peer}: down`);
        continue;
      }
      try {
        const outcome = await this.options.sync(peer, item.range, direction, signal);
        const records = direction === 'pull' ? outcome.pulled : outcome.pushed;
        const bytes = direction === 'pull' ? outcome.pulledBytes : outcome.pushedBytes;
        this.keys += records;
        this.bytes += bytes;
        if (records > 0) this.metrics.streamed(this.direction, records, bytes);
        succeeded++;
      } catch (error) {
        if (signal.aborted) throw error;
        failures.push(`${peer}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (succeeded >= item.needed) return true;
    this.lastError = `range (${item.range.start}, ${item.range.end}]: ${succeeded} of the ${item.needed} needed ${kind === 'leave' ? 'new owners' : 'sources'} done (${failures.join('; ')})`;
    return false;
  }

  private async maybeSave(): Promise<void> {
    const nowMs = Date.now();
    if (nowMs - this.lastSaveMs < this.options.progressSaveIntervalMs) return;
    this.lastSaveMs = nowMs;
    await this.options.saveDone(this.options.done);
  }
}

/**
 * Resolves once `unannounced()` is empty: every reachable peer has heard this node's
 * current ring state. `onWaiting` sees the peers still waited for at each poll.
 */
export async function waitUntilHeard(
  unannounced: () => readonly string[],
  pollIntervalMs: number,
  signal: AbortSignal,
  onWaiting: (peers: readonly string[]) => void = () => {},
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const waiting = unannounced();
    onWaiting(waiting);
    if (waiting.length === 0) return;
    await sleep(pollIntervalMs, undefined, { signal });
  }
}
