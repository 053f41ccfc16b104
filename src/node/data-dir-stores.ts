// The node's stores in its data directory (src/node/node-stores.ts), taken under the
// directory's lock so that no second process shares them: ring-state.json,
// stream-progress.json, held-ranges.json, last-seen and hints/. With memory storage
// the node keeps none of them on disk (memoryNodeStores): its data dies with it.
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';
import type { MovementProgressStore } from '../membership/ring-membership.js';
import { EVERY_TOKEN } from '../streaming/held-ranges.js';
import type { NodeConfig } from '../config/node-config.js';
import { DataDirLock } from './data-dir-lock.js';
import { HeldRangesFile } from './held-ranges-file.js';
import { readLastSeenMs, writeLastSeenMs } from './last-seen.js';
import { dataDirOf } from './node-storage.js';
import { memoryNodeStores, type NodeStores } from './node-stores.js';
import { RingStateFile } from './ring-state-file.js';
import { StreamProgressFile } from './stream-progress-file.js';

/** The stores for `config`: in the data directory for durable storage, in the process for memory storage. */
export async function openNodeStores(config: NodeConfig, logger: Logger): Promise<NodeStores> {
  if (config.storage !== 'durable') return memoryNodeStores();
  const dataDir = dataDirOf(config);
  const lock = await DataDirLock.acquire(dataDir);
  try {
    const lastSeenMs = await readLastSeenMs(dataDir);
    const stateFile = new RingStateFile(dataDir);
    const heldFile = new HeldRangesFile(dataDir);
    const savedRingState = await stateFile.load();
    // A data directory used before this file was kept may hold anything.
    const heldRangesBefore = (await heldFile.load()) ?? (lastSeenMs !== undefined ? EVERY_TOKEN : []);
    const progressFile = new StreamProgressFile(dataDir);
    const progressStore: MovementProgressStore = {
      load: (kind) => progressFile.load(kind),
      save: (kind, done) => progressFile.save(kind, done),
      clear: () => progressFile.clear(),
    };
    logger.debug({ dataDir, lastSeenMs }, 'data directory locked');
    return {
      savedRingState,
      ringStateStore: stateFile,
      progressStore,
      heldRangesBefore,
      heldRangesStore: heldFile,
      lastSeenMs,
      recordLastSeen: () => writeLastSeenMs(dataDir, Date.now()),
      hintsDir: join(dataDir, 'hints'),
      close: () => lock.release(),
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
