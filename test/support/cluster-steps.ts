// Steps and checks shared by the tests that scale a ProcessCluster (test/node/scaling.test.ts,
// test/node/cleanup.test.ts): waiting for ring views to settle, reading what each node
// holds without any repair, decommissioning a node until it is LEFT, and running the
// `qkv` CLI against the cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { REPAIR_SCAN_RECORDS_MAX } from '../../src/limits.js';
import { FULL_RING } from '../../src/ring/token-range.js';
import type { KvRecord } from '../../src/storage/record.js';
import type { ScanCursor } from '../../src/storage/storage-engine.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import type { StatusResponse__Output } from '../../src/protocol/generated/quorumkv/v1/StatusResponse.js';
import { MAIN_SCRIPT, type ProcessCluster } from './process-cluster.js';

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every node of `members` sees exactly `members` NORMAL, and every other member LEFT or
 * never heard; `clientOf` gives a client of one node.
 */
export async function converged(clientOf: (id: string) => QuorumKvClient, members: readonly string[]): Promise<boolean> {
  for (const id of members) {
    const status = await clientOf(id).status();
    if (status.ringState !== 'NORMAL' || status.stream !== null) return false;
    for (const member of status.members) {
      const expected = members.includes(member.id) ? ['NORMAL'] : ['LEFT', 'UNKNOWN'];
      if (!expected.includes(member.ringState)) return false;
    }
  }
  return true;
}

/**
 * Every record each node holds, tombstones included, by node and key (Replica.Scan: no
 * repair). Each node is scanned on its peer port with its own node certificate, so no
 * other member is claimed as the sender: a call from a member counts as a sign of its
 * life, and the test process must not make a stopped member look alive.
 */
export async function holdings(cluster: ProcessCluster, members: readonly string[]): Promise<Map<string, Map<string, KvRecord>>> {
  const result = new Map<string, Map<string, KvRecord>>();
  for (const id of members) {
    const transport = new GrpcTransport({ ...cluster.peerTransportOptions(id), members: [{ id, address: cluster.peerAddress(id), ready: true }] });
    try {
      const held = new Map<string, KvRecord>();
      let cursor: ScanCursor | undefined;
      do {
        const page = await transport.scan(id, FULL_RING, REPAIR_SCAN_RECORDS_MAX, cursor, { deadlineMs: Date.now() + 10_000 });
        for (const record of page.records) held.set(record.key.toString('utf8'), record);
        cursor = page.resumeAfter;
      } while (cursor !== undefined);
      result.set(id, held);
    } finally {
      await transport.close();
    }
  }
  return result;
}

/** Decommissions the node of `client` and waits (up to 120 s) until it reports LEFT. */
export async function decommissionUntilLeft(client: QuorumKvClient, id: string): Promise<StatusResponse__Output> {
  const started = await client.decommission();
  assert.equal(started.ringState, 'LEAVING');
  const deadline = Date.now() + 120_000;
  let status = await client.status();
  while (status.ringState !== 'LEFT') {
    assert.equal(status.ringState, 'LEAVING');
    assert.ok(Date.now() < deadline, `${id} not LEFT after 120 s: ${JSON.stringify(status.stream)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await client.status();
  }
  return status;
}

/** Runs `qkv <args>` as a process against `cluster` (with its certificates) and returns its exit code and output. */
export function qkvCli(cluster: ProcessCluster, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_SCRIPT, ...args, ...cluster.cliSecurityArgs()], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}
