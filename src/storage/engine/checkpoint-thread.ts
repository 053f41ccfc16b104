// The checkpoint worker's side (node:worker_threads): it opens its own handle on the
// engine's LMDB store (lmdb-js shares one environment between the threads of a process)
// and runs the checkpoint steps the engine's thread sends it, one at a time and in the
// order they arrive (ordered-store.ts describes the steps, checkpoint-worker.ts the
// engine's side). It never hashes a key: chunks carry finished store keys.
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { OrderedStore } from './ordered-store.js';

/** What the engine's thread sends. */
export type CheckpointRequest =
  | { readonly id: number; readonly op: 'begin'; readonly maxStamp: bigint }
  | { readonly id: number; readonly op: 'chunk'; readonly chunk: Uint8Array }
  | { readonly id: number; readonly op: 'finish'; readonly checkpointSegment: bigint }
  | { readonly id: number; readonly op: 'close' };

/** What the worker answers to each request: nothing but its id, or why it failed. */
export interface CheckpointReply {
  readonly id: number;
  readonly error?: string;
}

export interface CheckpointThreadData {
  readonly storePath: string;
}

function noTokenFunction(): bigint {
  assert.fail('the checkpoint worker hashed a key: chunks carry store keys made by the engine');
}

async function serve(): Promise<void> {
  assert.ok(parentPort, 'checkpoint-thread.js runs only as a worker');
  const port = parentPort;
  const { storePath } = workerData as CheckpointThreadData;
  const opened = OrderedStore.open(storePath, noTokenFunction);
  // Requests run strictly in order: a chunk must not start before the bound, nor the
  // marker before the last chunk.
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (request: CheckpointRequest) => {
    tail = tail.then(async () => {
      let reply: CheckpointReply;
      try {
        const store = await opened;
        if (request.op === 'begin') store.beginCheckpoint(request.maxStamp);
        else if (request.op === 'chunk') await store.writeChunk(Buffer.from(request.chunk.buffer, request.chunk.byteOffset, request.chunk.byteLength));
        else if (request.op === 'finish') await store.finishCheckpoint(request.checkpointSegment);
        else await store.close();
        reply = { id: request.id };
      } catch (error) {
        reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
      }
      port.postMessage(reply);
      if (request.op === 'close') port.close();
    });
  });
}

await serve();
