// The one place that chooses the node's storage engine. `durable` is the WAL + LMDB
// engine of src/storage/engine; `memory` keeps everything in the process and exists
// for tests and throwaway clusters. Switching engines is a change here only.
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import type { TokenFunction } from '../ring/token-range.js';
import type { StorageEngine } from '../storage/storage-engine.js';
import { MemoryStorageEngine } from '../storage/memory/memory-storage-engine.js';
import { openStorageEngine } from '../storage/engine/durable-storage-engine.js';
import { prometheusStorageMetrics } from '../metrics/storage-prometheus.js';
import type { NodeConfig } from '../config/node-config.js';

export function dataDirOf(config: Pick<NodeConfig, 'dataDir' | 'nodeId'>): string {
  return resolve(config.dataDir === '' ? `data/${config.nodeId}` : config.dataDir);
}

export interface NodeStorageDependencies {
  readonly tokenOf: TokenFunction;
  readonly registry: Registry;
  readonly logger: Logger;
}

export async function openNodeStorage(config: NodeConfig, dependencies: NodeStorageDependencies): Promise<StorageEngine> {
  if (config.storage === 'memory') return new MemoryStorageEngine(dependencies.tokenOf);
  return openStorageEngine({
    dir: dataDirOf(config),
    tokenOf: dependencies.tokenOf,
    metrics: prometheusStorageMetrics(dependencies.registry),
    logger: dependencies.logger,
    fsyncPolicy: config.fsync,
    tombstoneGraceMs: config.tombstoneGraceMs,
  });
}
