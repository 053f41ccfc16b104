// The floor of the comparison: a gRPC server with quorumkv's KV service and message
// shapes that does nothing — no coordinator, no replicas, no storage. Whatever a
// quorumkv node costs on top of grpc-js's own decode, dispatch and encode shows as the
// gap between a node and this server, measured with the same client and workload
// (`qkv bench noop-server`). Reads answer with a stored value of the benchmark's size,
// so the responses are as large as a real node's. With `tls` it serves TLS with a node
// certificate and asks for a client certificate exactly as a node's client port does,
// so a node with TLS is measured against a floor that pays the same TLS costs.
import * as grpc from '@grpc/grpc-js';
import { SERVER_OPTIONS } from '../protocol/grpc-options.js';
import { clientPortCredentials } from '../security/tls-credentials.js';
import { WatchedCertificates } from '../security/watched-certificates.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import type { KVHandlers } from '../protocol/generated/quorumkv/v1/KV.js';
import type { KvStreamRequest__Output } from '../protocol/generated/quorumkv/v1/KvStreamRequest.js';

export interface NoopKvServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Size of the value every read answers with. */
  readonly valueBytes: number;
  /** A node's TLS directory (as `qkv server --tls-dir` takes) and that node's id; absent = plaintext. */
  readonly tls?: { readonly dir: string; readonly nodeId: string };
}

export interface NoopKvServer {
  readonly port: number;
  close(): Promise<void>;
}

const VERSION = { stamp: '1', nodeId: 'noop' };

export function noopKvHandlers(valueBytes: number): KVHandlers {
  const value = Buffer.alloc(valueBytes, 0x61);
  const put = { version: VERSION, acks: 1 };
  const get = { found: true, value, version: VERSION, acks: 1 };
  return {
    // Each request on the stream is answered at once, with what its unary call answers.
    Multiplex: (call) => {
      call.on('data', (request: KvStreamRequest__Output) => {
        const { id } = request;
        if (request.body === 'get') call.write({ id, get });
        else if (request.body === 'delete') call.write({ id, delete: put });
        else if (request.body === 'batchPut') call.write({ id, batchPut: { results: request.batchPut!.items.map(() => ({ ok: true, ...put })) } });
        else if (request.body === 'batchGet') call.write({ id, batchGet: { results: request.batchGet!.keys.map((key) => ({ ok: true, key, ...get })) } });
        else call.write({ id, put });
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
    Put: (_call, callback) => callback(null, { version: VERSION, acks: 1 }),
    Get: (_call, callback) => callback(null, { found: true, value, version: VERSION, acks: 1 }),
    Delete: (_call, callback) => callback(null, { version: VERSION, acks: 1 }),
    BatchPut: (call, callback) => callback(null, { results: call.request.items.map(() => ({ ok: true, version: VERSION, acks: 1 })) }),
    BatchGet: (call, callback) =>
      callback(null, { results: call.request.keys.map((key) => ({ ok: true, key, found: true, value, version: VERSION, acks: 1 })) }),
  };
}

export async function startNoopKvServer(options: NoopKvServerOptions): Promise<NoopKvServer> {
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(loadQuorumKvProtocol().grpcObject.quorumkv.v1.KV.service, noopKvHandlers(options.valueBytes));
  const certificates = options.tls === undefined ? undefined : await WatchedCertificates.open({ dir: options.tls.dir, expected: { kind: 'node', name: options.tls.nodeId } });
  const credentials = certificates === undefined ? grpc.ServerCredentials.createInsecure() : clientPortCredentials(certificates);
  try {
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${options.host}:${options.port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    return {
      port,
      close: async () => {
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        certificates?.close();
      },
    };
  } catch (error) {
    certificates?.close();
    throw error;
  }
}
