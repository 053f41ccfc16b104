// Starts `qkv bench noop-server` in its own process (the floor of the comparison): a
// grpc-js server with quorumkv's message shapes that answers without doing anything.
import type { ProcessGroup } from './managed-process.js';
import { startOneServer, type OneServerOptions } from './one-server-process.js';
import { QKV_MAIN } from './quorumkv-cluster.js';
import type { RunningSystem } from './running-system.js';

export function startNoopServer(group: ProcessGroup, valueBytes: number, options: OneServerOptions): Promise<RunningSystem> {
  return startOneServer(
    group,
    { name: 'no-op gRPC', processName: 'noop-server', nodeId: 'noop', args: [QKV_MAIN, 'bench', 'noop-server', '--value-bytes', String(valueBytes)], readyLine: 'noop-server listening' },
    options,
  );
}
