// Runs the storage contract suite against the durable engine twice: once with the data
// in the memtable, and once with a one-byte memtable budget so that every write is
// checkpointed and every read and scan is served by the LMDB store. The contract stamps
// its records near the epoch, so the engine's wall clock is pinned there too: otherwise
// retention would rightly treat those tombstones as decades past their grace period.
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { tempDir } from '../support/temp-dir.js';
import { storageEngineContract } from './engine-contract.js';

for (const [name, memtableBytesMax] of [['DurableStorageEngine (memtable)', 64 * 1024 * 1024], ['DurableStorageEngine (store)', 1]] as const) {
  storageEngineContract(name, async ({ tokenOf }) => {
    const dir = await tempDir();
    const { engine } = await DurableStorageEngine.open({ dir, tokenOf, logger: silentLogger, memtableBytesMax, fsyncPolicy: { kind: 'never' }, nowMs: () => 0 });
    return { engine, cleanup: () => engine.close() };
  });
}
