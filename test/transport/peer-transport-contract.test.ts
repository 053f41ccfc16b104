// Runs the PeerTransport contract (peer-transport-contract.ts) over both adapters:
// - MemoryTransport on a MemoryNetwork, the unreachable peer cut off by a partition;
// - GrpcTransport to a real gRPC peer port on 127.0.0.1 set up the way a node sets up
//   its own: mutual TLS with certificates from the same code `npm start` runs
//   (ensureLocalCertificates), the peer port's guard and receive gate, and channel
//   credentials that accept only the called member's certificate. The unreachable peer
//   is a member whose address nothing listens on.
import { after, before } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SERVER_OPTIONS } from '../../src/protocol/grpc-options.js';
import { peerPortGuard } from '../../src/security/call-guards.js';
import { ensureLocalCertificates } from '../../src/security/local-certificates.js';
import { ReceiveGate } from '../../src/security/receive-gate.js';
import { peerChannelCredentials, peerPortCredentials, TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';
import { WatchedCertificates } from '../../src/security/watched-certificates.js';
import { silentLogger } from '../../src/logging/logger.js';
import { GrpcTransport } from '../../src/transport/grpc/grpc-transport.js';
import { addReplicaService } from '../../src/transport/grpc/replica-service.js';
import { MemoryNetwork } from '../../src/transport/memory/memory-network.js';
import { freePort } from '../support/process-cluster.js';
import { tempDir } from '../support/temp-dir.js';
import { peerTransportContract } from './peer-transport-contract.js';

peerTransportContract('MemoryTransport', async (handler) => {
  const network = new MemoryNetwork();
  network.register('peer-1', handler);
  network.register('peer-down', handler);
  network.partition(['caller'], ['peer-down']);
  return {
    transport: network.transport('caller'),
    callerId: 'caller',
    peer: 'peer-1',
    unreachablePeer: 'peer-down',
    close: () => network.idle(),
  };
});

// One certificate set for every test: issuing certificates is the slow part.
let certificates: { caller: WatchedCertificates; peer: WatchedCertificates } | undefined;
before(async () => {
  const dir = await tempDir();
  const issued = await ensureLocalCertificates({ dir, nodeIds: ['caller', 'peer-1'], users: [] });
  certificates = {
    caller: await WatchedCertificates.open({ dir: issued.nodeDirs.get('caller')!, expected: { kind: 'node', name: 'caller' } }),
    peer: await WatchedCertificates.open({ dir: issued.nodeDirs.get('peer-1')!, expected: { kind: 'node', name: 'peer-1' } }),
  };
});
after(() => {
  certificates?.caller.close();
  certificates?.peer.close();
});

peerTransportContract('GrpcTransport with mutual TLS', async (handler) => {
  const { caller, peer } = certificates!;
  const server = new grpc.Server({ ...SERVER_OPTIONS, interceptors: [peerPortGuard(), new ReceiveGate().interceptor()] });
  addReplicaService(server, { handler, logger: silentLogger });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', peerPortCredentials(peer), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const transport = new GrpcTransport({
    localNodeId: 'caller',
    members: [
      { id: 'peer-1', address: `127.0.0.1:${port}`, ready: true },
      { id: 'peer-down', address: `127.0.0.1:${await freePort()}`, ready: true },
    ],
    credentialsFor: (member) => peerChannelCredentials(caller, member),
    channelOptions: TLS_CHANNEL_OPTIONS,
  });
  return {
    transport,
    callerId: 'caller',
    peer: 'peer-1',
    unreachablePeer: 'peer-down',
    close: async () => {
      server.forceShutdown();
    },
  };
});
