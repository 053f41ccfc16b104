// What one KV.BatchGet makes real `qkv server` processes hold
// (docs/decisions/0040-bounded-batch-get-memory.md). A BatchGet naming one 3 MiB value
// many times used to make the coordinating node fetch every copy from every replica
// before trimming its answer to 8 MiB: COPIES × 3 MiB × N, 3.6 GB here. Now the keys are
// read in chunks and reading stops at the answer's bound, so the peak resident memory
// (VmHWM in /proc/<pid>/status, Linux) of every node grows by tens of megabytes at most.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { BATCH_GET_RESPONSE_BYTES_MAX, VALUE_BYTES_MAX_CEILING } from '../../src/limits.js';

const MIB = 1024 * 1024;
const NODES = ['qkv-1', 'qkv-2', 'qkv-3'];
/** Copies of the key in one BatchGet: the old code held COPIES × 3 MiB × 3 replicas = 3.6 GB. */
const COPIES = 400;
/**
 * Peak RSS growth allowed on any node across the BatchGets. What the coordinator holds
 * live is about N × (8 MiB + 4 MiB) for the chunk in flight plus the 8 MiB answer and
 * its encoding (ADR 0040); the rest is margin for garbage the collector has not yet
 * returned. Far below the gigabytes the old code needed.
 */
const PEAK_GROWTH_BYTES_MAX = 256 * MIB;

let cluster: ProcessCluster;
let client: QuorumKvClient;
const dataRoot = await tempDir(undefined, 'qkv-batch-get-memory-');

before(async () => {
  cluster = await ProcessCluster.start({ size: 3, dataRoot, extraArgs: ['--value-bytes-max', String(VALUE_BYTES_MAX_CEILING)] });
  client = cluster.client(['qkv-1'], 120_000);
});

after(async () => {
  client?.close();
  await cluster?.stopAll();
});

/** The peak resident set size of a node's process so far, in bytes. */
async function peakRssBytes(id: string): Promise<number> {
  const pid = cluster.node(id).child?.pid;
  assert.ok(pid !== undefined, `${id} is running`);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, 'VmHWM in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

test(`a BatchGet naming one 3 MiB value ${COPIES} times keeps every node's peak memory within ${PEAK_GROWTH_BYTES_MAX / MIB} MiB`, async (t) => {
  const hot = Buffer.from('hot');
  const value = Buffer.alloc(VALUE_BYTES_MAX_CEILING, 0x5a);
  await client.put(hot, value, { w: 3 });
  const before = await Promise.all(NODES.map(peakRssBytes));

  for (let call = 1; call <= 3; call++) {
    const { results } = await client.batchGet(Array.from({ length: COPIES }, () => hot), { r: 2 });
    assert.equal(results.length, COPIES);
    // Every item is its value or RESPONSE_TOO_LARGE, in order: as many as fit 8 MiB, then the rest.
    const fit = Math.floor(BATCH_GET_RESPONSE_BYTES_MAX / (hot.length + value.length));
    results.forEach((result, i) => {
      assert.ok(result.key.equals(hot));
      if (i < fit) {
        assert.ok(result.ok && result.found, `item ${i} is found`);
        assert.ok(result.value.equals(value), `item ${i} has the value`);
      } else {
        assert.equal(result.ok, false, `item ${i} is left out`);
        assert.equal(result.error?.code, 'RESPONSE_TOO_LARGE');
      }
    });

    const peaks = await Promise.all(NODES.map(peakRssBytes));
    const growth = peaks.map((peak, i) => peak - before[i]!);
    const report = NODES.map((id, i) => `${id} +${(growth[i]! / MIB).toFixed(1)} MiB (peak ${(peaks[i]! / MIB).toFixed(0)} MiB)`).join(', ');
    t.diagnostic(`peak RSS growth after BatchGet ${call} of ${COPIES} × 3 MiB: ${report}`);
    growth.forEach((bytes, i) => assert.ok(bytes <= PEAK_GROWTH_BYTES_MAX, `${NODES[i]} peak RSS grew by ${(bytes / MIB).toFixed(0)} MiB: ${report}`));
  }
});
