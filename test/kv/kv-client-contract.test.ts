// Runs the KvClient contract (kv-client-contract.ts) over both adapters:
// - CoordinatorKvClient: three nodes in this process on a MemoryNetwork, every deadline,
//   TTL and stamp on one ManualClock, so "400 ms pass" takes no time; a lost replica is
//   disconnected from the network, a silent one has every message to it dropped.
// - GrpcKvClient, twice: over KV.Multiplex streams (the client's default) and over one
//   unary call per request, each against three real `qkv server` processes with TLS
//   (ProcessCluster), the client talking to qkv-1; time passes for real (the TTL tests wait about a second in
//   all), a silent replica is qkv-3 stopped with SIGSTOP (until SIGCONT), and a lost
//   replica is qkv-3 killed with SIGKILL.
import { setTimeout as sleep } from 'node:timers/promises';
import { GrpcKvClient } from '../../src/client/grpc-kv-client.js';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { CoordinatorKvClient } from '../../src/coordinator/coordinator-kv-client.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { kvClientContract } from './kv-client-contract.js';

kvClientContract('Coordinator in process (MemoryNetwork, virtual time)', async () => {
  const clock = new ManualClock();
  const cluster = new MemoryCluster({ nodes: 3, replicationFactor: 3, clock });
  return {
    client: new CoordinatorKvClient(cluster.node('node-0').coordinator, clock),
    replicationFactor: 3,
    passTime: (ms) => clock.advance(ms),
    silenceReplica: async () => {
      cluster.network.drop({ to: 'node-2', probability: 1 });
      return async () => cluster.network.heal();
    },
    loseReplica: async () => cluster.network.disconnect('node-2'),
    close: async () => {
      // Messages to the silenced replica end only at their deadlines, which only virtual
      // time reaches: close() waits for them, so time moves on until it is done.
      let closed = false;
      const closing = cluster.close().then(() => (closed = true));
      while (!closed) await clock.advance(1_000);
      await closing;
    },
  };
});

for (const transport of ['stream', 'unary'] as const) {
  kvClientContract(`gRPC client (${transport}) against node processes`, async () => {
    const cluster = await ProcessCluster.start({ size: 3, dataRoot: await tempDir(undefined, 'qkv-kv-contract-') });
    const grpcClient = cluster.client(['qkv-1'], 10_000, undefined, transport);
    return {
      client: new GrpcKvClient(grpcClient),
      replicationFactor: 3,
      // Real processes keep real time: the one sleep this contract needs.
      passTime: (ms) => sleep(ms),
      // A stopped process keeps its sockets open and answers nothing: silence, not refusal.
      silenceReplica: async () => {
        const child = cluster.node('qkv-3').child!;
        child.kill('SIGSTOP');
        return async () => {
          child.kill('SIGCONT');
        };
      },
      loseReplica: () => cluster.kill9('qkv-3'),
      close: async () => {
        grpcClient.close();
        await cluster.stopAll();
      },
    };
  });
}
