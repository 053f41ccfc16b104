// Runs the storage contract suite against the durable engine three times: once with the
// data in the memtable, and twice with a one-byte memtable budget so that every write is
// checkpointed and every read and scan is served by the LMDB store, with the checkpoints
// written on the worker thread and on the main thread (ADR 0195). The contract stamps
// its records near the epoch, so the engine's wall clock is pinned there too: otherwise
// retention would rightly treat those tombstones as decades past their grace period.
import { silentLogger } from '../../src/logging/logger.js';
import { DurableStorageEngine } from '../../src/storage/engine/durable-storage-engine.js';
import { tempDir } from '../support/temp-dir.js';
import { storageEngineContract } from './engine-contract.js';

const variants = [
  ['DurableStorageEngine (memtable)', 64 * 1024 * 1024, 'main'],
  ['DurableStorageEngine (store, checkpoints on the worker thread)', 1, 'worker'],
  ['DurableStorageEngine (store, checkpoints on the main thread)', 1, 'main'],
] as const;
for (const [name, memtableBytesMax, checkpointThread] of variants) {
  storageEngineContract(name, async ({ tokenOf }) => {
    const dir = await tempDir();
    const { engine } = await DurableStorageEngine.open({ dir, tokenOf, logger: silentLogger, memtableBytesMax, fsyncPolicy: { kind: 'never' }, nowMs: () => 0, checkpointThread });
    return { engine, cleanup: () => engine.close() };
  });
}
