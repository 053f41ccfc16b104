// The quorum read path after ADR 0266 (docs/decisions/0266-lean-quorum-read-path.md)
// against the one before it (a frozen copy in test/support/before-0266/) on random
// scenarios: one to five nodes, N and R from 1 to N, the coordinator inside or outside the
// key's preference list, replicas holding nothing, older or newer stamps, tombstones,
// expired records or stamps from the future, peers that answer late, fail, lose the
// request or the reply, peers marked down, include_replicas, batch gets, read repair on
// or off, and speculation thresholds warmed by earlier reads. Both must give the same
// answer at the same virtual time, the same metrics, the same messages in the same
// order, and leave the same records on every replica. DIFF_FROM / DIFF_RUNS pick seeds
// (docs/decisions/0271-read-path-differential-against-a-frozen-copy.md).
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, MANUAL_CLOCK_START_MS } from '../../src/clock/manual-clock.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { PeerLiveness } from '../../src/replica/peer-liveness.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { Coordinator as CoordinatorBefore0266 } from '../support/before-0266/coordinator.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

function prng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  nodes: string[];
  coordinatorNode: string;
  lists: Map<string, string[]>;
  keys: Buffer[];
  seeds: Array<{ node: string; record: KvRecord }>;
  modes: Record<string, 'ok' | 'delay' | 'error' | 'drop-request' | 'drop-reply'>;
  delays: Record<string, number>;
  down: string[];
  r: number;
  includeReplicas: boolean;
  batch: boolean;
  warmups: number;
  readRepair: boolean;
}

function scenario(seed: number): Scenario {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const count = 1 + Math.floor(random() * 5);
  const nodes = Array.from({ length: count }, (_, i) => `node-${i}`);
  const n = 1 + Math.floor(random() * count);
  const batch = random() < 0.3;
  const keys = Array.from({ length: batch ? 1 + Math.floor(random() * 4) : 1 }, (_, i) => Buffer.from(`k${i}`));
  const lists = new Map<string, string[]>();
  const seeds: Scenario['seeds'] = [];
  for (const key of keys) {
    const shuffled = [...nodes].sort(() => random() - 0.5);
    const list = shuffled.slice(0, n);
    lists.set(key.toString(), list);
    for (const node of list) {
      const what = random();
      if (what < 0.2) continue;
      const stamp = pick([10n, 20n, 20n, 30n, 2n ** 62n]);
      const value = random() < 0.2 ? null : Buffer.from(`v${stamp}-${node}`);
      const expiresAtMs = pick([0, 0, 0, MANUAL_CLOCK_START_MS - 1, MANUAL_CLOCK_START_MS + 1_000_000]);
      seeds.push({ node, record: { key, value, version: { stamp, nodeId: pick(nodes) }, expiresAtMs } });
    }
  }
  const coordinatorNode = pick(nodes);
  const modes: Scenario['modes'] = {};
  const delays: Record<string, number> = {};
  const down: string[] = [];
  for (const node of nodes) {
    if (node === coordinatorNode) continue;
    modes[node] = pick(['ok', 'ok', 'ok', 'delay', 'delay', 'error', 'drop-request', 'drop-reply'] as const);
    delays[node] = 1 + Math.floor(random() * 30);
    if (random() < 0.25) down.push(node);
  }
  return {
    nodes, coordinatorNode, lists, keys, seeds, modes, delays, down,
    r: 1 + Math.floor(random() * n),
    includeReplicas: random() < 0.25,
    batch,
    warmups: random() < 0.5 ? 0 : Math.floor(random() * 120),
    readRepair: random() < 0.85,
  };
}

function markedDown(down: readonly string[]): PeerLiveness {
  return { isDown: (peer) => down.includes(peer), downSinceMs: (peer) => (down.includes(peer) ? 0 : undefined), recordAnswer: () => {}, recordFailure: () => {} };
}

const show = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v));

async function run(s: Scenario, coordinatorClass: typeof Coordinator): Promise<string[]> {
  const clock = new ManualClock();
  const metrics = new RecordingMetrics();
  const events: string[] = [];
  const cluster = new MemoryCluster({
    coordinatorClass,
    nodes: s.nodes,
    replicationFactor: s.lists.values().next().value!.length,
    clock,
    placement: (key) => naturalOnly(s.lists.get(key.toString())!),
    coordinator: { readSpeculationFloorMs: 2, readSpeculationCeilingMs: 10, readRepair: s.readRepair },
    network: { random: () => 0.5, observer: (event) => events.push(`${clock.nowMs() - MANUAL_CLOCK_START_MS} ${show(event)}`) },
    metrics: (id) => (id === s.coordinatorNode ? metrics : new RecordingMetrics()),
    ...(s.down.length === 0 ? {} : { liveness: () => markedDown(s.down) }),
  });
  const coordinator = cluster.node(s.coordinatorNode).coordinator;
  // Warm-up reads through delayed peers, so the speculation thresholds have samples (and the p99 is selected).
  if (s.warmups > 0) {
    for (const node of s.nodes) if (node !== s.coordinatorNode) cluster.network.delay({ to: node, ms: s.delays[node]! });
    for (let i = 0; i < s.warmups; i++) {
      let done = false;
      const warm = coordinator.get(Buffer.from(s.keys[0]!), { r: s.r }).then(() => (done = true), () => (done = true));
      for (let t = 0; t < 10_000 && !done; t++) await clock.advance(1);
      await warm;
    }
    await clock.advance(100);
    await cluster.settle();
    for (const node of s.nodes) if (node !== s.coordinatorNode) cluster.network.delay({ to: node, ms: 0 });
  }
  for (const { node, record } of s.seeds) await cluster.node(node).engine.apply([record]);
  for (const [node, mode] of Object.entries(s.modes)) {
    if (mode === 'delay') cluster.network.delay({ to: node, ms: s.delays[node]! });
    else if (mode === 'error') cluster.network.disconnect(node);
    else if (mode === 'drop-request') cluster.network.drop({ to: node, probability: 1, phase: 'request' });
    else if (mode === 'drop-reply') cluster.network.drop({ to: node, probability: 1, phase: 'reply' });
  }
  const options = { r: s.r, includeReplicas: s.includeReplicas, deadlineMs: clock.nowMs() + 200 };
  let settled = false;
  let outcome: unknown;
  const call = (s.batch ? coordinator.batchGet(s.keys, options) : coordinator.get(s.keys[0]!, options)).then(
    (value) => ((settled = true), (outcome = { value })),
    (error: unknown) => ((settled = true), (outcome = { error: String(error) })),
  );
  for (let t = 0; t < 400 && !settled; t++) await clock.advance(1);
  await call;
  const atAnswer = `answered at ${clock.nowMs() - MANUAL_CLOCK_START_MS}`;
  cluster.network.heal();
  // Repairs sent before the heal may wait for their own deadlines: time runs until all is idle.
  let idle = false;
  const settled2 = cluster.settle().then(() => (idle = true));
  for (let t = 0; t < 50 || (t < 2_000 && !idle); t++) await clock.advance(10);
  await settled2;
  const holdings = s.keys.map((key) => show(cluster.holdings(key)));
  const m = { ...metrics, requests: metrics.requests.map(({ seconds: _s, ...rest }) => rest) };
  await cluster.close();
  return [show(outcome), atAnswer, show(m), ...holdings, ...events];
}

test('the read path answers, repairs, speculates and counts as before, on random scenarios', async () => {
  const from = Number(process.env['DIFF_FROM'] ?? 1);
  const runs = Number(process.env['DIFF_RUNS'] ?? 300);
  const tally = { speculated: 0, won: 0, repaired: 0, failed: 0, found: 0, lateRepairs: 0 };
  for (let seed = from; seed < from + runs; seed++) {
    if (process.env['DIFF_TRACE'] !== undefined) writeFileSync(process.env['DIFF_TRACE'], String(seed));
    const s = scenario(seed);
    const before = await run(s, CoordinatorBefore0266 as unknown as typeof Coordinator);
    const now = await run(s, Coordinator);
    assert.deepEqual(now, before, `seed ${seed}: ${show({ ...s, lists: [...s.lists] })}`);
    const m = JSON.parse(now[2]!) as { speculativeReads: unknown[]; speculativeReadsWon: unknown[]; repairs: number };
    tally.speculated += m.speculativeReads.length > 0 ? 1 : 0;
    tally.won += m.speculativeReadsWon.length > 0 ? 1 : 0;
    tally.repaired += m.repairs > 0 ? 1 : 0;
    tally.failed += now[0]!.includes('"error"') || now[0]!.includes('"ok":false') ? 1 : 0;
    tally.found += now[0]!.includes('"record":{') ? 1 : 0;
    tally.lateRepairs += now.some((line) => line.includes('"kind":"apply"')) ? 1 : 0;
  }
  // The scenarios reach every part of the read path, or the comparison proves little.
  if (runs >= 200) for (const [what, seeds] of Object.entries(tally)) assert.ok(seeds > 0, `no scenario ${what}: ${JSON.stringify(tally)}`);
});
