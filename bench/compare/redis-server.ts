// Starts Debian's redis-server on loopback with the append-only file and
// `appendfsync always`: a write is answered after it is fsynced, the same durability
// as quorumkv's fsync=always (on one machine, without replication). RDB snapshots are
// off so they do not compete for the disk. Ready when it answers PING.
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { freePorts } from './free-ports.js';
import { ManagedProcess, type ProcessGroup } from './managed-process.js';
import type { LaunchOptions, RunningSystem } from './running-system.js';

const HOST = '127.0.0.1';

export async function startRedisServer(group: ProcessGroup, options: LaunchOptions): Promise<RunningSystem> {
  const redis = findBinary('redis-server', 'apt-get install redis-server');
  const [port] = await freePorts(1, HOST);
  const dataDir = join(options.dir, 'redis');
  mkdirSync(dataDir, { recursive: true });
  const process = ManagedProcess.start(
    group,
    'redis',
    redis,
    [
      '--port', String(port),
      '--bind', HOST,
      '--dir', dataDir,
      '--appendonly', 'yes',
      '--appendfsync', 'always',
      '--save', '',
      '--daemonize', 'no',
      '--protected-mode', 'no',
    ],
    join(options.dir, 'redis.log'),
  );
  const system: RunningSystem = { name: 'redis', addresses: [`${HOST}:${port}`], stop: async () => void (await process.stop()), cpuSeconds: () => process.cpuSeconds(), processCpuSeconds: () => [process.cpuSeconds()] };
  try {
    await process.waitUntilReady(() => redisAnswers(port!), options.readyTimeoutMs);
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
