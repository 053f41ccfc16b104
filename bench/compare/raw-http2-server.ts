// Starts the raw HTTP/2 floor (raw-http2-kv-server.ts, KV.Put and KV.Get on node:http2
// with no grpc-js) in its own process, as the no-op server is started.
import { fileURLToPath } from 'node:url';
import type { ProcessGroup } from './managed-process.js';
import { startOneServer, type OneServerOptions } from './one-server-process.js';
import { RAW_HTTP2_READY_LINE } from './raw-http2-kv-server.js';
import type { RunningSystem } from './running-system.js';

const RAW_HTTP2_MAIN = fileURLToPath(new URL('./raw-http2-kv-main.js', import.meta.url));

export interface RawHttp2LaunchOptions extends OneServerOptions {
  readonly valueBytes: number;
}

export function startRawHttp2Server(group: ProcessGroup, options: RawHttp2LaunchOptions): Promise<RunningSystem> {
  return startOneServer(
    group,
    { name: 'raw http2', processName: 'raw-http2', nodeId: 'raw-http2', args: [RAW_HTTP2_MAIN, '--value-bytes', String(options.valueBytes)], readyLine: RAW_HTTP2_READY_LINE },
    options,
  );
}
