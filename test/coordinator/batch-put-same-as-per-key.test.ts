// A BatchPut through its grouped path (Coordinator.writeBatch: one record per key,
// acks counted per replica set; ADRs 0255 and 0256) must answer every item as the
// per-key path (Coordinator.write, which Put and Delete still take) answers it: the
// same ok or code, acks and counts in the message per item, the same metrics per item, and hints
// for the same replicas and keys holding each key's last value. Random batches over
// overlapping replica sets, pending replicas, repeated keys, replicas cut off, W from 1
// to 3, and hints that count towards W or not; each scenario runs on two fresh clusters.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { BatchWriteItemResult } from '../../src/coordinator/coordinator.js';
import type { Coordinator } from '../../src/coordinator/coordinator.js';
import type { KeyPlacement } from '../../src/coordinator/coordinator-config.js';
import { noopCoordinatorMetrics, type CoordinatorMetrics } from '../../src/coordinator/coordinator-metrics.js';
import { seededRandom } from '../../src/bench/key-chooser.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryCluster } from '../support/memory-cluster.js';

/** The per-key path, reached past `private` on purpose: it is the reference. */
interface PerKeyPath {
  newRecord(key: Buffer, value: Buffer, ttlMs: number): KvRecord;
  deadline(requestedMs: number | undefined, kind: 'write'): { deadlineMs: number; timeoutMs: number };
  write(op: 'batch_put', records: readonly KvRecord[], w: number, deadline: { deadlineMs: number; timeoutMs: number }): Promise<BatchWriteItemResult[]>;
}

const node = (i: number): string => `node-${i}`;
const frozen = (natural: number[], pending: number[] = []): KeyPlacement => Object.freeze({ natural: Object.freeze(natural.map(node)), pending: Object.freeze(pending.map(node)) });
// One frozen placement per letter, as a ring hands out one per position: overlapping
// sets, the same set in another order, sets with pending replicas (W + 1 or W + 2 acks).
const PLACEMENTS: Readonly<Record<string, KeyPlacement>> = {
  a: frozen([0, 1, 2]),
  b: frozen([2, 0, 1]),
  c: frozen([2, 3, 4]),
  d: frozen([0, 1, 2], [3]),
  e: frozen([1, 2, 3], [0]),
  f: frozen([0, 3, 4]),
  // d's and e's nodes with two pending: W + 2 acks, so another group.
  g: frozen([1, 2], [0, 3]),
};
const LETTERS = Object.keys(PLACEMENTS);

interface Scenario {
  readonly w: number;
  readonly down: readonly string[];
  readonly hintsCountTowardW: boolean;
  readonly items: ReadonlyArray<{ readonly key: Buffer; readonly value: Buffer }>;
}

interface Observed {
  readonly results: string[];
  readonly acks: number[];
  readonly quorumFailures: string[];
  /** Per peer, per key: the value of the newest record hinted for it. */
  readonly hints: Map<string, Map<string, string>>;
  /** Records hinted in all. */
  hintedRecords: number;
}

/**
 * A failure's message without its list of failed replicas, which names the replicas that
 * had failed when the quorum became unreachable: which of the cut-off replicas that was
 * depends on the order of their replies, in either path. The counts stay.
 */
function withoutFailedReplicas(message: string): string {
  return message.replace(/ \([^)]*\)$/, '');
}

async function run(scenario: Scenario, path: 'grouped' | 'per key'): Promise<Observed> {
  const observed: Observed = { results: [], acks: [], quorumFailures: [], hints: new Map(), hintedRecords: 0 };
  const newestHinted = new Map<string, Map<string, KvRecord>>();
  const metrics: CoordinatorMetrics = {
    ...noopCoordinatorMetrics,
    acks: (_labels, acks) => observed.acks.push(acks),
    quorumFailure: (labels) => observed.quorumFailures.push(labels.reason),
  };
  const cluster = new MemoryCluster({
    nodes: 5,
    replicationFactor: 3,
    placement: (key) => PLACEMENTS[key.toString()[0]!]!,
    coordinator: { hintedWritesCountTowardW: scenario.hintsCountTowardW },
    metrics: (id) => (id === 'node-0' ? metrics : noopCoordinatorMetrics),
    hints: () => ({
      store: async (peer, records) => {
        const held = newestHinted.get(peer) ?? new Map<string, KvRecord>();
        newestHinted.set(peer, held);
        for (const record of records) {
          observed.hintedRecords++;
          const before = held.get(record.key.toString());
          if (before === undefined || record.version.stamp > before.version.stamp) held.set(record.key.toString(), record);
        }
        return true;
      },
    }),
  });
  for (const id of scenario.down) cluster.network.disconnect(id);
  const coordinator: Coordinator = cluster.node('node-0').coordinator;
  let results: BatchWriteItemResult[];
  if (path === 'grouped') results = await coordinator.batchPut(scenario.items, { w: scenario.w });
  else {
    const internals = coordinator as unknown as PerKeyPath;
    const records = scenario.items.map((item) => internals.newRecord(item.key, item.value, 0));
    results = await internals.write('batch_put', records, scenario.w, internals.deadline(undefined, 'write'));
  }
  await cluster.settle();
  await coordinator.idle();
  // Every item keeps its own stamp, in batch order, repeated keys included.
  const stamps = results.map((result) => (result.ok ? result.version.stamp : undefined)).filter((stamp) => stamp !== undefined);
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, `${path}: the stamps of the items that succeeded rise in batch order`);
  for (const result of results) observed.results.push(result.ok ? `ok ${result.acks}` : `${result.error.code} ${result.acks} ${withoutFailedReplicas(result.error.message)}`);
  for (const [peer, held] of newestHinted) observed.hints.set(peer, new Map([...held].map(([key, record]) => [key, record.value!.toString()])));
  await cluster.close();
  return observed;
}

it('answers, metrics and hints of 300 random BatchPuts are those of the per-key path', async () => {
  const random = seededRandom(255);
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]!;
  let failedItems = 0;
  let supersededItems = 0;
  let hintedScenarios = 0;
  for (let round = 0; round < 300; round++) {
    const down = ['node-1', 'node-2', 'node-3', 'node-4'].filter(() => random() < 0.25);
    const size = 1 + Math.floor(random() * 24);
    const items = Array.from({ length: size }, (_, i) => ({ key: Buffer.from(`${pick(LETTERS)}${Math.floor(random() * 4)}`), value: Buffer.from(`v${i}`) }));
    const scenario: Scenario = { w: 1 + Math.floor(random() * 3), down, hintsCountTowardW: random() < 0.3, items };
    const grouped = await run(scenario, 'grouped');
    const perKey = await run(scenario, 'per key');
    const where = `round ${round}: w=${scenario.w} down=${down.join(',')} hintsCount=${scenario.hintsCountTowardW} keys=${items.map((item) => item.key.toString()).join(',')}`;
    assert.deepEqual(grouped.results, perKey.results, where);
    assert.deepEqual(grouped.acks, perKey.acks, where);
    assert.deepEqual(grouped.quorumFailures, perKey.quorumFailures, where);
    assert.deepEqual(grouped.hints, perKey.hints, `${where}: hints for the same replicas and keys, each key's last value`);
    const distinctKeys = new Set(items.map((item) => item.key.toString())).size;
    assert.ok(grouped.hintedRecords <= perKey.hintedRecords, where);
    failedItems += grouped.results.filter((result) => !result.startsWith('ok')).length;
    supersededItems += items.length - distinctKeys;
    if (grouped.hintedRecords > 0) hintedScenarios++;
  }
  // The scenarios must have drawn what they are for.
  assert.ok(failedItems > 300 && supersededItems > 300 && hintedScenarios > 100, `failed items ${failedItems}, superseded ${supersededItems}, with hints ${hintedScenarios}`);
});
