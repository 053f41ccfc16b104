// `<data dir>/stream-progress.json`: the token ranges a running join, decommission or
// re-replication after a forget (docs/decisions/0180) has already streamed (src/streaming/completed-ranges.ts), so a restarted node resumes
// instead of starting over. Removed when the movement ends.
//
// Format (JSON, replaced atomically):
//   { "format": 1, "movement": "join" | "leave" | "rereplicate", "done": [["<low>", "<high>"], ...] }
// with closed token intervals as decimal strings, ascending and merged.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StateFileCorruptError } from '../errors/errors.js';
import { CompletedRanges } from '../streaming/completed-ranges.js';
import type { MovementKind } from '../streaming/range-movement.js';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.js';
import { intervalsFromJson, intervalsToJson } from './token-intervals-json.js';

const FILE_NAME = 'stream-progress.json';
const FORMAT = 1;

export class StreamProgressFile {
  readonly path: string;
  /** Saves run one at a time, in order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE_NAME);
  }

  /** The ranges done by an earlier run of the same movement; none for another kind or no file. */
  async load(kind: MovementKind): Promise<CompletedRanges> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return new CompletedRanges();
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new StateFileCorruptError(this.path, `not JSON (${(error as Error).message})`);
    }
    const { format, movement, done } = (document ?? {}) as { format?: unknown; movement?: unknown; done?: unknown };
    if (format !== FORMAT) throw new StateFileCorruptError(this.path, `unknown format ${JSON.stringify(format)}`);
    if (movement !== kind) return new CompletedRanges();
    return new CompletedRanges(intervalsFromJson(this.path, 'done', done));
  }

  save(kind: MovementKind, done: CompletedRanges): Promise<void> {
    const text = `${JSON.stringify({ format: FORMAT, movement: kind, done: intervalsToJson(done.toIntervals()) })}\n`;
    return this.enqueue(() => writeFileAtomic(this.path, text));
  }

  clear(): Promise<void> {
    return this.enqueue(() => rm(this.path, { force: true }));
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    const run = this.tail.then(write);
    this.tail = run.catch(() => {});
    return run;
  }
}
