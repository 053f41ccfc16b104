// A continuous writer for tests that change a cluster under load (a rolling upgrade,
// scaling, a deleted pod): it puts one new key after another with a chosen W until it
// is stopped, and records every write it made: the acknowledged ones with their version,
// the failed ones with their error code. At the end checkAcknowledgedWrites
// (acknowledged-write-check.ts) reads every key back with R=N.
//
// Every write goes to a key of its own, so "lost" has one meaning: an acknowledged key
// that the final read does not return with the acknowledged value and version. With
// overwrites of a few keys, last-writer-wins between two coordinators' clocks would blur
// it (a later write may carry the lower stamp), and the check could neither prove nor
// disprove a loss.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isQkvError } from '../../src/errors/errors.js';
import type { KvClient, KvVersion } from '../../src/kv/kv-client.js';

/** A write the cluster acknowledged: at least W replicas had it when the call returned. */
export interface AcknowledgedWrite {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly version: KvVersion;
  readonly acks: number;
}

/** A write that failed: it may or may not have landed on some replicas. */
export interface FailedWrite {
  readonly key: Buffer;
  readonly value: Buffer;
  /** The QkvError code, or UNCLASSIFIED for an error the client did not classify. */
  readonly code: string;
  readonly message: string;
}

/** Everything one writer did, in the order the answers came. */
export interface WriteLedger {
  readonly acknowledged: readonly AcknowledgedWrite[];
  readonly failed: readonly FailedWrite[];
}

export interface ContinuousWriterOptions {
  /** Starts every key; one per run, so runs on the same cluster do not mix. */
  readonly keyPrefix: string;
  readonly w: number;
  /** Each put's timeout. */
  readonly timeoutMs: number;
  /** Puts in flight at once (default 2). */
  readonly concurrency?: number;
  /** Wait between one worker's puts (default 10 ms), so the writer does not take every core. */
  readonly pauseMs?: number;
  /** Wait after a failed put (default 100 ms): a cluster without a quorum answers fast. */
  readonly pauseAfterFailureMs?: number;
  /** The writer stops by itself after this many puts (default 200 000): a bound on the ledger's memory. */
  readonly writesMax?: number;
  /** Called with the counts every progressEveryMs (default 5 s) while the writer runs. */
  readonly onProgress?: (summary: WriteSummary) => void;
  readonly progressEveryMs?: number;
}

export interface WriteSummary {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  /** Failed writes by error code. */
  readonly failuresByCode: Readonly<Record<string, number>>;
}

const DEFAULT_CONCURRENCY = 2;
const DEFAULT_PAUSE_MS = 10;
const DEFAULT_PAUSE_AFTER_FAILURE_MS = 100;
const DEFAULT_WRITES_MAX = 200_000;
const DEFAULT_PROGRESS_EVERY_MS = 5_000;

export class ContinuousWriter {
  private readonly acknowledged: AcknowledgedWrite[] = [];
  private readonly failed: FailedWrite[] = [];
  private nextSequence = 0;
  private stopping = false;
  private readonly workers: Promise<void>[];
  private readonly progressTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: KvClient,
    private readonly options: ContinuousWriterOptions,
  ) {
    assert.ok(options.w >= 1, 'W must be at least 1');
    assert.ok(options.keyPrefix.length > 0, 'the key prefix must not be empty');
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    assert.ok(concurrency >= 1, 'concurrency must be at least 1');
    this.workers = Array.from({ length: concurrency }, () => this.work());
    const onProgress = options.onProgress;
    this.progressTimer =
      onProgress === undefined ? undefined : setInterval(() => onProgress(this.summary()), options.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS);
  }

  /** Starts writing at once; call stop() to end it and get the ledger. */
  static start(client: KvClient, options: ContinuousWriterOptions): ContinuousWriter {
    return new ContinuousWriter(client, options);
  }

  summary(): WriteSummary {
    return summarize({ acknowledged: this.acknowledged, failed: this.failed });
  }

  /** Waits until the puts in flight have answered; no new put starts after this is called. */
  async stop(): Promise<WriteLedger> {
    this.stopping = true;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    await Promise.all(this.workers);
    return { acknowledged: [...this.acknowledged], failed: [...this.failed] };
  }

  private async work(): Promise<void> {
    const writesMax = this.options.writesMax ?? DEFAULT_WRITES_MAX;
    while (!this.stopping && this.nextSequence < writesMax) {
      const sequence = this.nextSequence++;
      // Zero-padded so keys sort in write order in a listing of the store.
      const key = Buffer.from(`${this.options.keyPrefix}/${String(sequence).padStart(8, '0')}`);
      const value = Buffer.from(`value ${sequence} of ${this.options.keyPrefix}`);
      try {
        const written = await this.client.put(key, value, { w: this.options.w, timeoutMs: this.options.timeoutMs });
        this.acknowledged.push({ key, value, version: written.version, acks: written.acks });
        await sleep(this.options.pauseMs ?? DEFAULT_PAUSE_MS);
      } catch (error) {
        const code = isQkvError(error) ? error.code : 'UNCLASSIFIED';
        this.failed.push({ key, value, code, message: error instanceof Error ? error.message : String(error) });
        await sleep(this.options.pauseAfterFailureMs ?? DEFAULT_PAUSE_AFTER_FAILURE_MS);
      }
    }
  }
}

export function summarize(ledger: WriteLedger): WriteSummary {
  const failuresByCode: Record<string, number> = {};
  for (const failure of ledger.failed) failuresByCode[failure.code] = (failuresByCode[failure.code] ?? 0) + 1;
  return {
    attempted: ledger.acknowledged.length + ledger.failed.length,
    acknowledged: ledger.acknowledged.length,
    failed: ledger.failed.length,
    failuresByCode,
  };
}
