// The embedded default cluster that `npm start` runs: three node processes on
// localhost with fixed ports, data under ./data. The CLI's default --addr points at
// it, so `qkv put`/`qkv get` work right after `npm start` with no flags.

export interface LocalNode {
  readonly id: string;
  readonly grpcPort: number;
  readonly httpPort: number;
}

export const LOCAL_CLUSTER: readonly LocalNode[] = [
  { id: 'qkv-1', grpcPort: 7401, httpPort: 7481 },
  { id: 'qkv-2', grpcPort: 7402, httpPort: 7482 },
  { id: 'qkv-3', grpcPort: 7403, httpPort: 7483 },
];

export const LOCAL_HOST = '127.0.0.1';

/** The CLI's default --addr: every local node, tried in order. */
export const LOCAL_ADDRESSES = LOCAL_CLUSTER.map((node) => `${LOCAL_HOST}:${node.grpcPort}`).join(',');
