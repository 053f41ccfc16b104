// The embedded default cluster that `npm start` runs: three node processes on
// localhost with fixed ports, data under ./data. The CLI's default --addr points at
// it, so `qkv put`/`qkv get` work right after `npm start` with no flags.

export interface LocalNode {
  readonly id: string;
  readonly grpcPort: number;
  readonly peerPort: number;
  readonly httpPort: number;
}

export const LOCAL_CLUSTER: readonly LocalNode[] = [
  { id: 'qkv-1', grpcPort: 7401, peerPort: 7501, httpPort: 7481 },
  { id: 'qkv-2', grpcPort: 7402, peerPort: 7502, httpPort: 7482 },
  { id: 'qkv-3', grpcPort: 7403, peerPort: 7503, httpPort: 7483 },
];

export const LOCAL_HOST = '127.0.0.1';

/**
 * Where `npm start` keeps the local cluster's CA, node and client certificates (under
 * its default data directory), and where the CLI looks for them by default.
 */
export const LOCAL_CERTS_DIR = 'data/certs';

/** The CLI's default --addr: every local node, tried in order. */
export const LOCAL_ADDRESSES = LOCAL_CLUSTER.map((node) => `${LOCAL_HOST}:${node.grpcPort}`).join(',');
