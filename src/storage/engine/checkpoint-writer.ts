// Where a checkpoint's writes to the ordered store run: the port the engine drives a
// checkpoint through (ordered-store.ts describes the three steps), with the adapter that
// runs them on the calling thread. checkpoint-worker.ts runs them on a worker thread
// instead (ADR 0195 says which one the engine uses and why).
import type { OrderedStore } from './ordered-store.js';

export interface CheckpointWriter {
  /** Raises the store's stamp bound to cover the records that follow. */
  begin(maxStamp: bigint): Promise<void>;
  /** Writes one encoded chunk (checkpoint-chunk.ts); resolves when it is committed. */
  writeChunk(chunk: Buffer): Promise<void>;
  /**
   * Writes the checkpoint marker and flushes; once it resolves, reads of the engine's
   * store see every record of the checkpoint.
   */
  finish(checkpointSegment: bigint): Promise<void>;
  /** Stops the writer; the store itself is closed by its owner. */
  close(): Promise<void>;
}

/** Checkpoint writes on the engine's own thread, through its own store handle. */
export class InlineCheckpointWriter implements CheckpointWriter {
  constructor(private readonly store: OrderedStore) {}

  begin(maxStamp: bigint): Promise<void> {
    this.store.beginCheckpoint(maxStamp);
    return Promise.resolve();
  }

  async writeChunk(chunk: Buffer): Promise<void> {
    await this.store.writeChunk(chunk);
  }

  finish(checkpointSegment: bigint): Promise<void> {
    return this.store.finishCheckpoint(checkpointSegment);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
