// Reads back everything a ContinuousWriter (continuous-writer.ts) wrote and says which
// acknowledged writes are lost. A test that changed the cluster under the writer
// (a rolling upgrade, scaling) ends with assertNoAcknowledgedWriteLost.
//
// The read uses R = N, so every replica of a key answers and the newest version among
// them wins: an acknowledged write is lost when that read finds nothing, another value or
// another version. A key whose read cannot meet R even after a few attempts is
// "unverified", and the assertion refuses it too: not knowing is not a pass.
// Failed writes are read as well, only to report how many landed anyway (a put that
// missed its deadline may still reach replicas; that is allowed, not a loss).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isQkvError } from '../../src/errors/errors.js';
import type { KvBatchRead, KvClient, KvVersion } from '../../src/kv/kv-client.js';
import { summarize, type WriteLedger, type WriteSummary } from './continuous-writer.js';

export interface LostWrite {
  readonly key: string;
  readonly reason: string;
}

export interface UnverifiedWrite {
  readonly key: string;
  /** The error code of the last read attempt. */
  readonly code: string;
}

export interface WriteCheckReport extends WriteSummary {
  /** Acknowledged writes read back with their value and version. */
  readonly verified: number;
  readonly lost: readonly LostWrite[];
  readonly unverified: readonly UnverifiedWrite[];
  /** Failed writes whose key reads back with the value anyway. */
  readonly failedButLanded: number;
}

export interface WriteCheckOptions {
  /** R of the reads: the replication factor, so no replica is left out. */
  readonly r: number;
  readonly timeoutMs: number;
  /** Reads of a key that failed are tried again this often (default 5), a second apart. */
  readonly readAttempts?: number;
  readonly retryPauseMs?: number;
}

/** Keys per BatchGet: well under BATCH_ITEMS_MAX and the response byte limit for the writer's small values. */
const KEYS_PER_READ = 200;
const DEFAULT_READ_ATTEMPTS = 5;
const DEFAULT_RETRY_PAUSE_MS = 1_000;

export async function checkAcknowledgedWrites(client: KvClient, ledger: WriteLedger, options: WriteCheckOptions): Promise<WriteCheckReport> {
  const acknowledgedReads = await readAll(
    client,
    ledger.acknowledged.map((write) => write.key),
    options,
  );
  const lost: LostWrite[] = [];
  const unverified: UnverifiedWrite[] = [];
  let verified = 0;
  ledger.acknowledged.forEach((write, index) => {
    const read = acknowledgedReads[index]!;
    const key = write.key.toString();
    if (!read.ok) unverified.push({ key, code: read.error.code });
    else if (!read.found) lost.push({ key, reason: 'not found' });
    else if (!read.value.equals(write.value)) lost.push({ key, reason: `read ${JSON.stringify(read.value.toString())} instead of the acknowledged value` });
    else if (!sameVersion(read.version, write.version)) lost.push({ key, reason: `read version ${describeVersion(read.version)} instead of ${describeVersion(write.version)}` });
    else verified++;
  });
  const failedReads = await readAll(
    client,
    ledger.failed.map((write) => write.key),
    options,
  );
  const failedButLanded = ledger.failed.filter((write, index) => {
    const read = failedReads[index]!;
    return read.ok && read.found && read.value.equals(write.value);
  }).length;
  return { ...summarize(ledger), verified, lost, unverified, failedButLanded };
}

/** One paragraph for a test's output: what was written, what failed and why, what was lost. */
export function describeWriteCheck(report: WriteCheckReport): string {
  const codes = Object.entries(report.failuresByCode)
    .map(([code, count]) => `${code} ${count}`)
    .join(', ');
  const lines = [
    `writes: ${report.attempted} attempted, ${report.acknowledged} acknowledged, ${report.failed} failed${codes === '' ? '' : ` (${codes})`}, ${report.failedButLanded} of the failed ones landed anyway`,
    `read back: ${report.verified} acknowledged writes verified, ${report.lost.length} lost, ${report.unverified.length} unverified`,
  ];
  for (const write of report.lost.slice(0, 10)) lines.push(`  lost ${write.key}: ${write.reason}`);
  for (const write of report.unverified.slice(0, 10)) lines.push(`  unverified ${write.key}: ${write.code}`);
  return lines.join('\n');
}

/** Fails when an acknowledged write is lost or could not be read back; the message is describeWriteCheck's. */
export function assertNoAcknowledgedWriteLost(report: WriteCheckReport): void {
  assert.ok(report.lost.length === 0 && report.unverified.length === 0, describeWriteCheck(report));
  assert.equal(report.verified, report.acknowledged, describeWriteCheck(report));
}

/** One answer per key, in order; a key whose read keeps failing keeps its last failure. */
async function readAll(client: KvClient, keys: readonly Buffer[], options: WriteCheckOptions): Promise<KvBatchRead[]> {
  const answers: KvBatchRead[] = [];
  for (let start = 0; start < keys.length; start += KEYS_PER_READ) {
    answers.push(...(await readChunk(client, keys.slice(start, start + KEYS_PER_READ), options)));
  }
  return answers;
}

async function readChunk(client: KvClient, keys: readonly Buffer[], options: WriteCheckOptions): Promise<KvBatchRead[]> {
  const answers: KvBatchRead[] = [];
  let pending = keys.map((_, index) => index);
  const attempts = options.readAttempts ?? DEFAULT_READ_ATTEMPTS;
  for (let attempt = 1; attempt <= attempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(options.retryPauseMs ?? DEFAULT_RETRY_PAUSE_MS);
    let results: KvBatchRead[];
    try {
      results = await client.batchGet(
        pending.map((index) => keys[index]!),
        { r: options.r, timeoutMs: options.timeoutMs },
      );
    } catch (error) {
      // The whole call failed (the node went away): every key of it stays pending.
      if (!isQkvError(error)) throw error;
      results = pending.map(() => ({ ok: false, error, acks: 0 }));
    }
    const stillPending: number[] = [];
    results.forEach((result, position) => {
      const index = pending[position]!;
      answers[index] = result;
      if (!result.ok) stillPending.push(index);
    });
    pending = stillPending;
  }
  return answers;
}

function sameVersion(a: KvVersion, b: KvVersion): boolean {
  return a.stamp === b.stamp && a.nodeId === b.nodeId;
}

function describeVersion(version: KvVersion): string {
  return `${version.stamp}@${version.nodeId}`;
}
