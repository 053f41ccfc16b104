// The readiness gate of a fresh cluster (docs/decisions/0163): once every node's /readyz
// answers 200, a W=N write through any node must succeed at once, with no retry. A
// Kubernetes rollout, `helm install --wait` and `kubectl wait` all treat Ready as "send
// clients now"; a node that reports ready while it does not yet route to every member
// as NORMAL and reachable fails the first W=N write with NOT_ENOUGH_REPLICAS or
// PEER_UNREACHABLE.
//
// Real `qkv server` processes, started the way a StatefulSet with podManagementPolicy
// Parallel starts them: all at once, or a little apart (a slow image pull, a late
// volume). Each round is a new cluster on empty data directories.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QkvError } from '../../src/errors/errors.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';

const NODES = 3;
/** Launch gaps between the nodes of one round, ms: at once, and apart. */
const LAUNCH_GAPS_MS = [0, 0, 150, 400, 800];
/**
 * A new node streams every range it takes over, empty or not; on the loaded 2-core
 * machine a fresh cluster took 15-45 s to be all ready. The default 256 vnodes are kept:
 * with 32 the old code passed 5 rounds of 5, the window being shorter.
 */
const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 10;

async function readyStatus(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
}

test(`a fresh ${NODES}-node cluster: the moment every /readyz says 200, a W=${NODES} put through each node succeeds`, async (t) => {
  const failures: string[] = [];
  for (const [round, gapMs] of LAUNCH_GAPS_MS.entries()) {
    const cluster = await ProcessCluster.start({ size: NODES, running: 0, dataRoot: await tempDir(undefined, `qkv-readiness-${round}-`) });
    try {
      const started = Date.now();
      for (const node of cluster.nodes) {
        cluster.launch(node.id);
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      // Every /readyz, asked together, until all say 200 in the same poll.
      for (;;) {
        const statuses = await Promise.all(cluster.nodes.map((node) => readyStatus(node.httpPort)));
        if (statuses.every((status) => status === 200)) break;
        const exited = cluster.nodes.find((node) => node.child?.exitCode !== null);
        if (exited !== undefined) assert.fail(`${exited.id} exited:\n${exited.output}`);
        if (Date.now() - started > READY_TIMEOUT_MS) {
          const reasons = await Promise.all(cluster.nodes.map(async (node) => `${node.id}: ${await fetch(`http://127.0.0.1:${node.httpPort}/readyz`).then((response) => response.text(), (error: Error) => error.message)}`));
          assert.fail(`not all ready after ${READY_TIMEOUT_MS} ms:\n${reasons.join('\n')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const readyMs = Date.now() - started;
      // At once, through every node: no retry, no wait.
      const results = await Promise.all(cluster.nodes.map(async (node) => {
        const client = cluster.client([node.id]);
        try {
          const put = await client.put(Buffer.from(`round-${round}-via-${node.id}`), Buffer.from('v'), { w: NODES });
          return put.acks === NODES ? undefined : `${node.id}: ${put.acks} acks`;
        } catch (error) {
          const failure = error as QkvError;
          const seen = await client.status().then((status) => status.members.map((member) => `${member.id}=${member.ringState}`).join(' '), (statusError: Error) => statusError.message);
          return `${node.id}: ${failure.code} ${failure.message} (it sees ${seen})`;
        } finally {
          client.close();
        }
      }));
      const failed = results.filter((result): result is string => result !== undefined);
      t.diagnostic(`round ${round} (launch gap ${gapMs} ms): all ready ${readyMs} ms after the first launch; W=${NODES} puts failed: ${failed.length}`);
      failures.push(...failed.map((text) => `round ${round} (gap ${gapMs} ms) ${text}`));
    } finally {
      await cluster.stopAll();
    }
  }
  assert.deepEqual(failures, []);
});
