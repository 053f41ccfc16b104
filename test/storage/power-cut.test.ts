// Power-cut test of the durable storage engine (ADR 0125, 0126). The WAL runs on a
// disk in memory that keeps only what was synced (src/fs/power-cut-file-system.ts);
// LMDB runs on the real disk. fast-check draws sequences of concurrent applies and
// checkpoints, a step at which the power goes, and how much of a write cut there reaches
// the disk (a torn tail); after the cut the engine is opened again and every
// acknowledged write must be there with its version, and every record must be one that
// was written (test/support/acknowledged-writes.ts).
//
// A crash checker that cannot fail proves nothing, so the second half runs the same
// checker against engines and disks that skip one sync each (fsync=never, one file sync
// dropped, a new segment's directory entry not synced, the wal/ directory's own name not
// synced) and requires it to find the loss. The real-process SIGKILL tests
// (crash-recovery.test.ts) stay: they prove the same on a real disk, but cannot see a
// missing fsync, because the page cache outlives a killed process.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stampOf } from '../../src/clock/hybrid-logical-clock.js';
import { PowerCutDisk, type PowerCutFaults } from '../../src/fs/power-cut-file-system.js';
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { FsyncPolicy } from '../../src/storage/wal/fsync-policy.js';
import { AcknowledgedWrites } from '../support/acknowledged-writes.js';
import { tempDir } from '../support/temp-dir.js';
import { testTokenOf } from '../support/test-token.js';

const RUNS = Number(process.env['QKV_POWER_CUT_RUNS'] ?? '100');
/** Few keys, so that writes overwrite each other and checkpoints move real versions. */
const KEYS = 12;
/** Small segments and memtable: rotations, checkpoints and segment removal happen often. */
const SEGMENT_BYTES_MAX = 2048;
const MEMTABLE_BYTES_MAX = 8192;

interface WriteSpec {
  readonly key: number;
  readonly tombstone: boolean;
  readonly valueBytes: number;
}
type Operation = { readonly kind: 'apply'; readonly writes: readonly WriteSpec[] } | { readonly kind: 'checkpoint' };
interface Scenario {
  /** Each step issues its operations at once (group commit) and waits for them all. */
  readonly steps: ReadonlyArray<readonly Operation[]>;
  /** Where the power goes, as a share of the disk steps the scenario makes uncut (1: after all of them). */
  readonly cutAt: number;
  /**
   * The share of the write the power goes at that reaches the disk all the same (0:
   * none): a torn WAL group, torn hint or state file, as a real cut mid-write leaves.
   */
  readonly tornShare: number;
}

const writeSpec = fc.record({ key: fc.nat(KEYS - 1), tombstone: fc.boolean(), valueBytes: fc.integer({ min: 1, max: 300 }) });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 9, arbitrary: fc.array(writeSpec, { minLength: 1, maxLength: 5 }).map((writes) => ({ kind: 'apply' as const, writes })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
);
const scenario: fc.Arbitrary<Scenario> = fc.record({
  steps: fc.array(fc.array(operation, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 25 }),
  // An integer per mille: fast-check draws doubles mostly near 0 and 1.
  cutAt: fc.integer({ min: 0, max: 1000 }).map((perMille) => perMille / 1000),
  tornShare: fc.integer({ min: 0, max: 1000 }).map((perMille) => perMille / 1000),
});

/** Stamps from now on, one apart: tombstones stay inside their grace period, so no purge removes them. */
class Stamps {
  private wallMs = BigInt(Date.now());
  next(): bigint {
    this.wallMs += 1n;
    return stampOf(this.wallMs, 0n);
  }
}

function recordOf(spec: WriteSpec, stamp: bigint): KvRecord {
  const value = spec.tombstone ? null : Buffer.alloc(spec.valueBytes, Number(stamp % 251n));
  return { key: Buffer.from(`key-${spec.key}`), value, version: { stamp, nodeId: 'n1' }, expiresAtMs: 0 };
}

function openEngine(dir: string, disk: PowerCutDisk, fsyncPolicy: FsyncPolicy): Promise<{ engine: DurableStorageEngine }> {
  return DurableStorageEngine.open({
    dir,
    tokenOf: testTokenOf,
    logger: silentLogger,
    fsyncPolicy,
    segmentBytesMax: SEGMENT_BYTES_MAX,
    memtableBytesMax: MEMTABLE_BYTES_MAX,
    fileSystem: disk.fileSystem(),
  });
}

/** Applies `records`, telling the checker what was issued and what was acknowledged. */
async function applyChecked(engine: DurableStorageEngine, checker: AcknowledgedWrites, records: KvRecord[]): Promise<void> {
  checker.issue(records);
  await engine.apply(records);
  checker.acknowledge(records);
}

/**
 * Opens the engine after the power cut (on the real disk a crash leaves LMDB's
 * committed state; on the power-cut disk only what was synced) and returns what the
 * checker finds wrong. Opening must succeed: a corrupt WAL is a failure too.
 */
async function problemsAfterRestart(dir: string, disk: PowerCutDisk, checker: AcknowledgedWrites): Promise<string[]> {
  const { engine } = await openEngine(dir, disk, { kind: 'always' });
  try {
    return checker.problems((key) => engine.get(key));
  } finally {
    await engine.close();
  }
}

/** Stops an engine whose disk lost power: its close fails, and must still release LMDB. */
async function abandon(engine: DurableStorageEngine | undefined): Promise<void> {
  await engine?.close().catch(() => {});
}

interface RunResult {
  readonly problems: string[];
  readonly acknowledgedWrites: number;
  readonly cutInside: boolean;
  /** The cut fell on a write, and part of it reached the disk. */
  readonly tornWrite: boolean;
}

/**
 * Runs the scenario twice: once with the power cut after all of it, which also counts
 * the disk steps it makes, then again with the cut at its share of them, so that cuts
 * fall all through the work and not mostly after it. (The two runs may differ a little,
 * as group commits form by timing.) The problems of both runs count.
 */
async function runScenario(input: Scenario, fsyncPolicy: FsyncPolicy): Promise<RunResult> {
  const uncut = await runScenarioOnce(input, fsyncPolicy, undefined);
  const cut = await runScenarioOnce(input, fsyncPolicy, Math.floor(input.cutAt * uncut.steps), input.tornShare);
  return { ...cut, problems: [...uncut.problems, ...cut.problems] };
}

async function runScenarioOnce(input: Scenario, fsyncPolicy: FsyncPolicy, cutAtStep: number | undefined, tornShare = 0): Promise<RunResult & { steps: number }> {
  const dir = await tempDir();
  let tornWrite = false;
  const tornWriteBytes = (writeBytes: number): number => {
    const kept = Math.floor(tornShare * writeBytes);
    if (kept > 0) tornWrite = true;
    return kept;
  };
  const disk = new PowerCutDisk({ directories: [dir], cutAtStep, faults: { tornWriteBytes } });
  const checker = new AcknowledgedWrites();
  const stamps = new Stamps();
  // The cut may come during the first open itself.
  const engine = await openEngine(dir, disk, fsyncPolicy).then(({ engine }) => engine, () => undefined);
  for (const step of input.steps) {
    if (engine === undefined || disk.cuts > 0) break;
    await Promise.allSettled(
      step.map((item) =>
        item.kind === 'checkpoint' ? engine.checkpoint() : applyChecked(engine, checker, item.writes.map((spec) => recordOf(spec, stamps.next()))),
      ),
    );
  }
  const cutInside = disk.cuts > 0;
  const steps = disk.steps;
  if (!cutInside) disk.powerCut();
  await abandon(engine);
  return { problems: await problemsAfterRestart(dir, disk, checker), acknowledgedWrites: checker.acknowledgedWrites, cutInside, tornWrite, steps };
}

/** Opens an engine on a fresh power-cut disk; the checker test drives it by hand. */
async function freshEngine(fsyncPolicy: FsyncPolicy, faults?: (dir: string) => PowerCutFaults) {
  const dir = await tempDir();
  const disk = new PowerCutDisk({ directories: [dir], faults: faults?.(dir) });
  const { engine } = await openEngine(dir, disk, fsyncPolicy);
  return { dir, disk, engine, checker: new AcknowledgedWrites(), stamps: new Stamps() };
}

function write(key: number, stamps: Stamps, valueBytes = 100): KvRecord {
  return recordOf({ key, tombstone: false, valueBytes }, stamps.next());
}

describe('power cut: the storage engine keeps every acknowledged write', () => {
  it(`over ${RUNS} random write sequences, each cut at a random step`, async () => {
    let runs = 0;
    let cutInside = 0;
    let acknowledgedWrites = 0;
    let tornWrites = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        const result = await runScenario(input, { kind: 'always' });
        runs++;
        if (result.cutInside) cutInside++;
        acknowledgedWrites += result.acknowledgedWrites;
        if (result.tornWrite) tornWrites++;
        assert.deepEqual(result.problems, []);
      }),
      { numRuns: RUNS },
    );
    // The cut must have landed inside the work often, not only after it.
    assert.ok(cutInside >= runs / 2, `only ${cutInside} of ${runs} cuts fell inside the work`);
    // ...and on a write, part of which reached the disk, in some of the runs.
    assert.ok(tornWrites > 0, `no cut of ${runs} tore a write`);
    process.stderr.write(`power cut: ${runs} runs, ${cutInside} cut mid-work, ${tornWrites} tore a write, ${acknowledgedWrites} acknowledged writes checked (newest per key), 0 lost\n`);
  });

  it('a first start that loses power after its first acknowledged write keeps it (the wal/ name is synced in the data directory)', async () => {
    const { dir, disk, engine, checker, stamps } = await freshEngine({ kind: 'always' });
    await applyChecked(engine, checker, [write(1, stamps)]);
    disk.powerCut();
    await abandon(engine);
    assert.deepEqual(await problemsAfterRestart(dir, disk, checker), []);
  });
});

describe('power cut: the checker catches a missing sync', () => {
  it('finds losses when the engine runs with fsync=never (fast-check finds a failing sequence)', async () => {
    await assert.rejects(
      fc.assert(
        fc.asyncProperty(scenario, async (input) => {
          assert.deepEqual((await runScenario(input, { kind: 'never' })).problems, []);
        }),
        { numRuns: RUNS },
      ),
      // fast-check reports the counterexample; the checker's own words are in the cause.
      (error: Error) => /lost: key/.test(String((error.cause as Error | undefined)?.message)),
    );
  });

  it('finds the one write whose fdatasync the disk dropped', async () => {
    let dropNext = false;
    const faults: PowerCutFaults = {
      skipFileSync: () => {
        const drop = dropNext;
        dropNext = false;
        return drop;
      },
    };
    const { dir, disk, engine, checker, stamps } = await freshEngine({ kind: 'always' }, () => faults);
    await applyChecked(engine, checker, [write(1, stamps)]);
    dropNext = true;
    await applyChecked(engine, checker, [write(2, stamps)]);
    disk.powerCut();
    await abandon(engine);
    const problems = await problemsAfterRestart(dir, disk, checker);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, new RegExp(`^lost: key ${Buffer.from('key-2').toString('hex')} is missing`));
  });

  it('finds the writes of a new WAL segment whose directory entry was not synced', async () => {
    let armed = false;
    const { dir, disk, engine, checker, stamps } = await freshEngine({ kind: 'always' }, (dataDir) => ({
      skipDirectorySync: (path) => armed && path === join(dataDir, 'wal'),
    }));
    armed = true;
    // Each write is over half a segment, so the second starts segment 1.
    await applyChecked(engine, checker, [write(1, stamps, Math.floor(SEGMENT_BYTES_MAX * 0.6))]);
    await applyChecked(engine, checker, [write(2, stamps, Math.floor(SEGMENT_BYTES_MAX * 0.6))]);
    disk.powerCut();
    await abandon(engine);
    const problems = await problemsAfterRestart(dir, disk, checker);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, new RegExp(`^lost: key ${Buffer.from('key-2').toString('hex')} is missing`));
  });

  it('finds the writes of a wal/ directory whose own name was not synced in the data directory', async () => {
    const { dir, disk, engine, checker, stamps } = await freshEngine({ kind: 'always' }, (dataDir) => ({
      skipDirectorySync: (path) => path === dataDir,
    }));
    await applyChecked(engine, checker, [write(1, stamps)]);
    disk.powerCut();
    await abandon(engine);
    const problems = await problemsAfterRestart(dir, disk, checker);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /^lost: /);
  });
});
