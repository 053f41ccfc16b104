// The checker of the chaos test, run as a child process inside its own network
// namespace (only there can it reach the nodes). It takes one JSON command per line on
// stdin and answers one JSON line on stdout:
//   {"cmd":"ready"}          waits until every node answers Status as SERVING and NORMAL
//   {"cmd":"start-writes"}   starts writers: unique keys, W=2, every ack recorded
//   {"cmd":"stop-writes"}    stops them; answers how many writes were acked and failed
//   {"cmd":"repair"}         one anti-entropy pass on every node, in turn
//   {"cmd":"roots"}          every replica's Merkle root of every ring range; answers
//                            how many ranges have replicas that disagree
//   {"cmd":"verify"}         reads every acked key at R=2; answers how many are lost
// Argument: a JSON document, a ChaosLayout. The checker calls the client ports as the
// admin user, and each node's peer port as that node itself (its own certificate and
// `qkv-from`), so it never speaks for a member that a fault has stopped.
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { QuorumKvClient } from '../../src/client/quorum-kv-client.js';
import { HashRing } from '../../src/ring/hash-ring.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { MERKLE_DEPTH_DEFAULT } from '../../src/limits.js';
import { clientChannelCredentials, TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';
import { nodeChannelCredentials } from '../support/raw-grpc.js';

export interface ChaosLayout {
  /** Client port, peer port and the node's certificate directory of each member. */
  readonly members: Array<{ id: string; address: string; peerAddress: string; tlsDir: string }>;
  /** ca.crt and client.admin.crt/.key. */
  readonly certsDir: string;
  readonly vnodes: number;
  readonly replicationFactor: number;
}

const WRITERS = 6;
const WRITE_TIMEOUT_MS = 3_000;
const VERIFY_ATTEMPTS = 5;

const layout = JSON.parse(process.argv[2] ?? '{}') as ChaosLayout;
const addresses = layout.members.map((member) => member.address);
const credentials = clientChannelCredentials(layout.certsDir, 'admin');
const clientOf = (of: readonly string[], timeoutMs: number): QuorumKvClient => new QuorumKvClient({ addresses: of, timeoutMs, credentials });
/** One client per writer, each starting at another node so every node coordinates. */
const clients = Array.from({ length: WRITERS }, (_, i) => {
  const rotated = [...addresses.slice(i % addresses.length), ...addresses.slice(0, i % addresses.length)];
  return clientOf(rotated, WRITE_TIMEOUT_MS);
});
const acked = new Map<string, Buffer>();
let failed = 0;
let writing = false;
let writers: Promise<void>[] = [];

async function writer(index: number): Promise<void> {
  const client = clients[index]!;
  for (let seq = 0; writing; seq++) {
    const key = `chaos-${index}-${seq}`;
    const value = randomBytes(16);
    try {
      await client.put(Buffer.from(key), value, { w: 2 });
      acked.set(key, value);
    } catch {
      failed++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function ready(): Promise<object> {
  const deadline = Date.now() + 60_000;
  for (const address of addresses) {
    const client = clientOf([address], 1_000);
    try {
      for (;;) {
        try {
          // NORMAL too: nodes that start a moment apart may join the first one first
          // (docs/decisions/0080-ring-states-and-range-movement.md).
          const status = await client.status();
          if (status.state === 'SERVING' && status.ringState === 'NORMAL') break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      client.close();
    }
  }
  return { ok: true };
}

async function repair(): Promise<object> {
  const reports = [];
  for (const address of addresses) {
    const client = clientOf([address], 120_000);
    try {
      const report = await client.repair();
      reports.push({ address, mismatched: report.rangesMismatched, pulled: Number(report.keysPulled), pushed: Number(report.keysPushed), skipped: report.peersSkipped });
    } finally {
      client.close();
    }
  }
  return { reports };
}

async function roots(): Promise<object> {
  const ring = await HashRing.create(layout.members.map(({ id }) => ({ id })), { vnodes: layout.vnodes, replicationFactor: layout.replicationFactor });
  // One transport per node, calling it as itself.
  const transports = new Map(
    layout.members.map((member) => {
      const nodeCredentials = nodeChannelCredentials(member.tlsDir);
      const transport = new GrpcTransport({
        localNodeId: member.id,
        members: [{ id: member.id, address: member.peerAddress, ready: true }],
        credentialsFor: () => nodeCredentials,
        channelOptions: TLS_CHANNEL_OPTIONS,
      });
      return [member.id, transport] as const;
    }),
  );
  let mismatched = 0;
  let compared = 0;
  try {
    for (const owned of ring.ownedRanges()) {
      const trees = await Promise.all(
        owned.replicas.map((replica) => transports.get(replica)!.merkleTree(replica, owned.range, MERKLE_DEPTH_DEFAULT, { deadlineMs: Date.now() + 10_000 })),
      );
      compared++;
      if (trees.some((tree) => !tree.root.equals(trees[0]!.root))) mismatched++;
    }
  } finally {
    await Promise.all([...transports.values()].map((transport) => transport.close()));
  }
  return { ranges: compared, mismatched };
}

async function verify(): Promise<object> {
  const client = clientOf(addresses, 5_000);
  let lost = 0;
  let wrong = 0;
  const lostKeys: string[] = [];
  try {
    for (const [key, value] of acked) {
      for (let attempt = 1; ; attempt++) {
        try {
          const read = await client.get(Buffer.from(key), { r: 2 });
          if (!read.found) {
            lost++;
            if (lostKeys.length < 10) lostKeys.push(key);
          } else if (!read.value.equals(value)) wrong++;
          break;
        } catch (error) {
          // A read that fails is retried, never counted as lost or found.
          if (attempt >= VERIFY_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  } finally {
    client.close();
  }
  return { checked: acked.size, lost, wrong, lostKeys };
}

async function handle(command: { cmd: string }): Promise<object> {
  switch (command.cmd) {
    case 'ready':
      return ready();
    case 'start-writes':
      writing = true;
      writers = Array.from({ length: WRITERS }, (_, i) => writer(i));
      return { ok: true };
    case 'stop-writes':
      writing = false;
      await Promise.all(writers);
      return { acked: acked.size, failed };
    case 'repair':
      return repair();
    case 'roots':
      return roots();
    case 'verify':
      return verify();
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === '') continue;
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, result: await handle(JSON.parse(line) as { cmd: string }) })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`);
  }
}
for (const client of clients) client.close();
process.exit(0);
