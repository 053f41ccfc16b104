// Runs the storage contract suite against the in-process backend.
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { storageEngineContract } from './engine-contract.js';

storageEngineContract('MemoryStorageEngine', async ({ tokenOf }) => {
  const engine = new MemoryStorageEngine(tokenOf);
  return { engine, cleanup: () => engine.close() };
});
