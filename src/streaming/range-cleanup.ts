// Cleanup (`qkv cleanup`, Admin.Cleanup; docs/decisions/0082-cleanup-of-handed-over-ranges.md):
// deletes from this node's storage the records of every token range it replicates in
// neither the read ring nor the write ring (src/ring/replicated-ranges.ts). Members that
// join take ranges over by streaming them, and the nodes that handed them over keep
// their copies; left there, a copy can outlive the tombstone of a later delete (the
// tombstone reaches only the new replicas and is purged after the grace period) and
// come back when the range returns to this node, as it does when the cluster scales
// down again. The records go locally, with StorageEngine.discard: no tombstone (there
// is nothing to shadow on a node that is not a replica), no replication, not through
// the coordinator.
//
// Safety: a record must never be deleted from a range this node still serves, or will
// serve once a move under way ends. So cleanup
//   - refuses unless this node is NORMAL and every member in its rings is NORMAL (no
//     range is moving in its view), and every one of those members answers a probe
//     with the same read and write rings as this node (none has heard of a move this
//     node has not heard of yet);
//   - checks its own view again before every page it deletes from, and asks every
//     member again between reading that page and deleting it: a member that routed a
//     write to this node for a range it is about to gain heard of that move before the
//     write, hence before the page was read, hence before it answers, and its answer
//     stops the cleanup (CLEANUP_REFUSED; run it again once the move is done);
//   - deletes each record only at the exact version it read (discard), so a write that
//     lands after the page was read survives;
//   - deletes only records whose token this node replicates in neither ring, checked
//     record by record, besides the ranges it scans.
// Memory stays bounded: one page (CLEANUP_SCAN_PAGE_RECORDS) at a time.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { CleanupRefusedError, ShuttingDownError } from '../errors/errors.js';
import { CLEANUP_PROGRESS_LOG_INTERVAL_MS, CLEANUP_SCAN_PAGE_RECORDS } from '../limits.js';
import type { Logger } from '../logging/logger.js';
import type { RingState } from '../ring/ring-state.js';
import type { PlacementRings } from '../ring/placement-rings.js';
import { unreplicatedRanges } from '../ring/replicated-ranges.js';
import type { ScanCursor, StorageEngine } from '../storage/storage-engine.js';
import type { RingDigests } from '../replica/peer-transport.js';
import type { HeldRanges } from './held-ranges.js';

/** What this node knows now: its own state, each member's, and the rings. */
export interface CleanupView {
  readonly self: RingState | undefined;
  /** Every member of the node's list (itself included) with its state as heard; undefined when never heard. */
  readonly members: ReadonlyArray<{ readonly id: string; readonly state: RingState | undefined }>;
  readonly rings: PlacementRings;
}

/** A member's answer to a probe: the rings it routes by, or why it did not answer. */
export type PeerRings = { readonly peer: string; readonly digests: RingDigests | undefined } | { readonly peer: string; readonly error: string };

export type CleanupOutcome = 'done' | 'refused' | 'stopped' | 'failed';

export interface CleanupMetrics {
  scanned(records: number): void;
  removed(records: number): void;
  finished(outcome: CleanupOutcome): void;
}

export interface RangeCleanupOptions {
  readonly nodeId: string;
  readonly storage: Pick<StorageEngine, 'scan' | 'discard'>;
  readonly view: () => CleanupView;
  /** Probes these members now: one entry each. */
  readonly askPeers: (peers: readonly string[]) => Promise<readonly PeerRings[]>;
  /** Told when a cleanup finished, so `cleanup.needed` follows (held-ranges.ts). */
  readonly held?: HeldRanges;
  readonly metrics?: CleanupMetrics;
  readonly logger: Logger;
  readonly pageRecords?: number;
}

export interface CleanupReport {
  readonly ranges: number;
  readonly recordsScanned: number;
  readonly recordsRemoved: number;
  readonly elapsedMs: number;
  readonly ringDigest: string;
}

export interface CleanupProgress {
  readonly running: boolean;
  readonly rangesDone: number;
  readonly rangesTotal: number;
  readonly recordsScanned: number;
  readonly recordsRemoved: number;
  /** Why the last cleanup was refused or stopped; empty after one that finished. */
  readonly lastError: string;
}

/** Why this node's own view forbids a cleanup now, or undefined when it allows one. */
export function refusalOfView(nodeId: string, view: CleanupView): string | undefined {
  if (view.self !== 'NORMAL') return `${nodeId} is ${view.self ?? 'starting'}; only a NORMAL node cleans up`;
  const moving = view.members.filter((member) => member.id !== nodeId && (member.state === 'JOINING' || member.state === 'LEAVING'));
  if (moving.length > 0) return `a range movement is under way: ${moving.map((member) => `${member.id} is ${member.state}`).join(', ')}`;
  const { read, write } = view.rings;
  if (read.digest !== write.digest) return `the read ring (${read.digest}) and the write ring (${write.digest}) differ`;
  if (!read.has(nodeId)) return `${nodeId} is not in its own ring`;
  return undefined;
}

/**
 * Why the members' answers forbid a cleanup, or undefined when every member in this
 * node's rings answered with the same rings. Members outside the rings (LEFT, never
 * heard) cannot give this node ranges and are not asked for an answer.
 */
export function refusalOfPeers(nodeId: string, view: CleanupView, answers: readonly PeerRings[]): string | undefined {
  const { read, write } = view.rings;
  const problems: string[] = [];
  for (const member of view.members) {
    if (member.id === nodeId || !read.has(member.id)) continue;
    const answer = answers.find((candidate) => candidate.peer === member.id);
    if (answer === undefined) problems.push(`${member.id} was not asked`);
    else if ('error' in answer) problems.push(`${member.id} did not answer (${answer.error})`);
    else if (answer.digests === undefined) problems.push(`${member.id} does not report its rings (a version without cleanup)`);
    else if (answer.digests.read !== read.digest || answer.digests.write !== write.digest) {
      problems.push(`${member.id} routes by other rings (read ${answer.digests.read}, write ${answer.digests.write}; this node ${read.digest})`);
    }
  }
  return problems.length === 0 ? undefined : `every member must answer with the rings of this node: ${problems.join('; ')}`;
}

export class RangeCleanup {
  private running: Promise<CleanupReport> | undefined;
  private current: CleanupProgress = { running: false, rangesDone: 0, rangesTotal: 0, recordsScanned: 0, recordsRemoved: 0, lastError: '' };
  private readonly closing = new AbortController();

  constructor(private readonly options: RangeCleanupOptions) {}

  /** Runs a cleanup, or waits for the one running. */
  run(): Promise<CleanupReport> {
    if (this.closing.signal.aborted) return Promise.reject(new ShuttingDownError());
    this.running ??= this.execute().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  progress(): CleanupProgress {
    return this.current;
  }

  /** Stops a running cleanup (node drain); what it deleted stays deleted. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.running?.catch(() => {});
  }

  private async execute(): Promise<CleanupReport> {
    const { logger, metrics } = this.options;
    const started = performance.now();
    this.current = { ...this.current, running: true, rangesDone: 0, rangesTotal: 0, recordsScanned: 0, recordsRemoved: 0 };
    try {
      const report = await this.clean(started);
      this.current = { ...this.current, running: false, lastError: '' };
      metrics?.finished('done');
      logger.info({ ...report }, 'cleanup done');
      return report;
    } catch (error) {
      const refused = error instanceof CleanupRefusedError;
      // A drain stops a running cleanup: expected on every restart, not a failure to alert on.
      const stopped = error instanceof ShuttingDownError;
      const message = error instanceof Error ? error.message : String(error);
      this.current = { ...this.current, running: false, lastError: message };
      metrics?.finished(refused ? 'refused' : stopped ? 'stopped' : 'failed');
      const fields = { recordsScanned: this.current.recordsScanned, recordsRemoved: this.current.recordsRemoved, rangesDone: this.current.rangesDone, rangesTotal: this.current.rangesTotal };
      if (refused) logger.warn({ ...fields, reason: message }, 'cleanup refused or stopped');
      else if (stopped) logger.info({ ...fields }, 'cleanup stopped: the node is shutting down; run it again once the node is back');
      else logger.error({ ...fields, err: error }, 'cleanup failed');
      throw error;
    }
  }

  private async clean(started: number): Promise<CleanupReport> {
    const { nodeId, storage, logger, metrics } = this.options;
    const pageRecords = this.options.pageRecords ?? CLEANUP_SCAN_PAGE_RECORDS;
    const first = this.options.view();
    const refusal = refusalOfView(nodeId, first);
    if (refusal !== undefined) throw new CleanupRefusedError(refusal);
    const rings = first.rings;
    await this.checkPeers(rings);

    const ranges = unreplicatedRanges(rings, nodeId);
    this.current = { ...this.current, rangesTotal: ranges.length };
    logger.info({ ranges: ranges.length, ringDigest: rings.read.digest }, 'cleanup started: deleting the records of the ranges this node no longer replicates');
    let lastLoggedMs = performance.now();
    for (const range of ranges) {
      let cursor: ScanCursor | undefined;
      do {
        this.checkStillAllowed(rings);
        const page = storage.scan(range, pageRecords, cursor);
        cursor = page.resumeAfter;
        this.current = { ...this.current, recordsScanned: this.current.recordsScanned + page.records.length };
        metrics?.scanned(page.records.length);
        const foreign = page.records.filter((record) => {
          const token = rings.read.tokenOf(record.key);
          return !rings.read.preferenceListForToken(token).includes(nodeId) && !rings.write.preferenceListForToken(token).includes(nodeId);
        });
        if (foreign.length < page.records.length) {
          // The ranges come from the same rings: a record of a range this node serves
          // here means the range computation or the scan is wrong. Keep those records.
          logger.error({ range: { start: String(range.start), end: String(range.end) }, kept: page.records.length - foreign.length }, 'cleanup met records of a range this node replicates; keeping them');
        }
        if (foreign.length > 0) {
          await this.checkPeers(rings);
          this.checkStillAllowed(rings);
          // Checked once more when the discard has the engine: it may have waited behind a
          // checkpoint, and a member that started to join or leave meanwhile could
          // already be comparing its ranges with this node's copies.
          const removed = await storage.discard(
            foreign.map((record) => ({ key: record.key, version: record.version })),
            () => this.checkStillAllowed(rings),
          );
          this.current = { ...this.current, recordsRemoved: this.current.recordsRemoved + removed };
          metrics?.removed(removed);
        }
        if (performance.now() - lastLoggedMs >= CLEANUP_PROGRESS_LOG_INTERVAL_MS) {
          lastLoggedMs = performance.now();
          const { rangesDone, rangesTotal, recordsScanned, recordsRemoved } = this.current;
          logger.info({ rangesDone, rangesTotal, recordsScanned, recordsRemoved }, 'cleanup progress');
        }
        // A long run of empty or cheap pages must not hold the event loop.
        await yieldToEventLoop();
      } while (cursor !== undefined);
      this.current = { ...this.current, rangesDone: this.current.rangesDone + 1 };
    }
    this.checkStillAllowed(rings);
    await this.options.held?.cleaned(rings, this.options.view().rings).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not save that this node cleaned up; Status may show cleanup as needed after a restart');
    });
    const { recordsScanned, recordsRemoved } = this.current;
    return { ranges: ranges.length, recordsScanned, recordsRemoved, elapsedMs: Math.round(performance.now() - started), ringDigest: rings.read.digest };
  }

  /** Throws unless the node's own view is still the one the cleanup started from and allows it. */
  private checkStillAllowed(rings: PlacementRings): void {
    if (this.closing.signal.aborted) throw new ShuttingDownError();
    const { nodeId } = this.options;
    const now = this.options.view();
    const refusal = refusalOfView(nodeId, now);
    if (refusal !== undefined) throw new CleanupRefusedError(`stopped: ${refusal}`);
    if (now.rings.read.digest !== rings.read.digest || now.rings.write.digest !== rings.write.digest) {
      throw new CleanupRefusedError(`stopped: the rings changed while it ran (${rings.read.digest} -> ${now.rings.read.digest}); run it again once every member is NORMAL`);
    }
  }

  /** Asks every member for its rings; throws unless every member in the rings answers with `rings`. */
  private async checkPeers(rings: PlacementRings): Promise<void> {
    const { nodeId } = this.options;
    // Only members in the rings: the others (LEFT, never heard, often not running) cannot
    // give this node ranges, and waiting for their probes to time out would only slow it.
    const members = this.options.view().members.map((member) => member.id).filter((id) => id !== nodeId && rings.read.has(id));
    const answers = await this.options.askPeers(members);
    if (this.closing.signal.aborted) throw new ShuttingDownError();
    // The answers may have told this node of a new state; its own view comes first.
    this.checkStillAllowed(rings);
    const refusal = refusalOfPeers(nodeId, this.options.view(), answers);
    if (refusal !== undefined) throw new CleanupRefusedError(refusal);
  }
}
