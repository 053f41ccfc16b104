// Checkpoint writes on a worker thread, the engine's `checkpointThread: 'worker'` (off by
// default: ADR 0195 has the measurements). The engine's thread encodes each chunk
// (checkpoint-chunk.ts) and hands its buffer over without a copy; the worker
// (checkpoint-thread.ts) issues the LMDB puts and awaits their commits, so the main
// thread keeps appending to the WAL and answering while a checkpoint runs.
//
// Reads stay on the main thread's own store handle. Until `finish` resolves the engine
// keeps the frozen memtable, which answers for every key of the checkpoint; when it
// resolves the worker has flushed, and the main handle's read transaction is renewed
// (OrderedStore.refreshReads) before the engine drops the frozen memtable.
//
// The worker is unref'd while idle, so an engine nobody closed does not keep the process
// alive, and ref'd while a request is out, so an awaited checkpoint is never cut short by
// the process exiting under it. If the worker dies, every request out and every later one
// fails: the engine treats that as a failed checkpoint (it stops taking writes; a restart
// recovers from the WAL).
import { Worker } from 'node:worker_threads';
import type { CheckpointReply, CheckpointRequest, CheckpointThreadData } from './checkpoint-thread.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import type { OrderedStore } from './ordered-store.js';

type RequestBody = CheckpointRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class WorkerCheckpointWriter implements CheckpointWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private exited = false;

  /** `mainStore` is the engine's handle on the same store at `storePath`. */
  constructor(
    storePath: string,
    private readonly mainStore: OrderedStore,
  ) {
    const data: CheckpointThreadData = { storePath };
    this.worker = new Worker(new URL('./checkpoint-thread.js', import.meta.url), { workerData: data });
    this.worker.on('message', (reply: CheckpointReply) => this.settle(reply));
    this.worker.on('error', (error) => this.failAll(new Error(`checkpoint worker failed: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`checkpoint worker exited (code ${code})`));
    });
    // After the listeners: adding one refs the worker's port again.
    this.worker.unref();
  }

  begin(maxStamp: bigint): Promise<void> {
    // The main handle's bound is raised at once: last-writer-wins reads it on this thread.
    this.mainStore.beginCheckpoint(maxStamp, false);
    return this.request({ op: 'begin', maxStamp });
  }

  writeChunk(chunk: Buffer): Promise<void> {
    // encodeCheckpointChunk allocates the chunk on its own, so its whole ArrayBuffer moves.
    const view = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return this.request({ op: 'chunk', chunk: view }, [chunk.buffer as ArrayBuffer]);
  }

  async finish(checkpointSegment: bigint): Promise<void> {
    await this.request({ op: 'finish', checkpointSegment });
    this.mainStore.refreshReads();
  }

  async close(): Promise<void> {
    if (this.exited) return;
    // A worker that fails to close its handle has nothing left to lose: every
    // checkpoint's outcome was already awaited, and the process's LMDB environment is
    // closed by the engine's own handle.
    await this.request({ op: 'close' }).catch(() => {});
    await this.worker.terminate();
  }

  private request(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as CheckpointRequest, transfer);
    });
  }

  private settle(reply: CheckpointReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error === undefined) waiting.resolve();
    else waiting.reject(new Error(`checkpoint worker: ${reply.error}`));
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}
