// Starts an etcd cluster on loopback with Debian's etcd-server: `size` members, each
// with its own data directory, client and peer port. etcd fsyncs its WAL before it
// acknowledges a write (there is no setting to turn that off), the same durability as
// quorumkv's fsync=always. Ready when every member's /health says true.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { freePorts } from './free-ports.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import { totalCpuSeconds, type LaunchOptions, type RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';

export async function startEtcdCluster(group: ProcessGroup, size: number, options: LaunchOptions): Promise<RunningSystem> {
  const etcd = findBinary('etcd', 'apt-get install etcd-server');
  const ports = await freePorts(size * 2, HOST);
  const members = Array.from({ length: size }, (_, i) => ({ name: `etcd-${i + 1}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }));
  const initialCluster = members.map((member) => `${member.name}=http://${HOST}:${member.peerPort}`).join(',');
  const processes = members.map((member) => {
    const dataDir = join(options.dir, member.name);
    mkdirSync(dataDir, { recursive: true });
    return ManagedProcess.start(
      group,
      member.name,
      etcd,
      [
        '--name', member.name,
        '--data-dir', dataDir,
        '--listen-client-urls', `http://${HOST}:${member.clientPort}`,
        '--advertise-client-urls', `http://${HOST}:${member.clientPort}`,
        '--listen-peer-urls', `http://${HOST}:${member.peerPort}`,
        '--initial-advertise-peer-urls', `http://${HOST}:${member.peerPort}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', 'qkv-compare',
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      join(options.dir, `${member.name}.log`),
    );
  });
  const system: RunningSystem = {
    name: `etcd ×${size}`,
    addresses: members.map((member) => `${HOST}:${member.clientPort}`),
    stop: async () => void (await Promise.all(processes.map((process) => process.stop()))),
    cpuSeconds: () => totalCpuSeconds(processes),
    processCpuSeconds: () => processes.map((process) => process.cpuSeconds()),
  };
  try {
    await Promise.all(
      processes.map((process, i) => process.waitUntilReady(() => etcdHealthy(members[i]!.clientPort), options.readyTimeoutMs)),
    );
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

async function etcdHealthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return response.status === 200 && body.health === 'true';
  } catch {
    return false;
  }
}
