// `<data dir>/stream-progress.json`: the token ranges a running join or decommission has
// already streamed (src/streaming/completed-ranges.ts), so a restarted node resumes
// instead of starting over. Removed when the movement ends.
//
// Format (JSON, replaced atomically):
//   { "format": 1, "movement": "join" | "leave", "done": [["<low>", "<high>"], ...] }
// with closed token intervals as decimal strings, ascending and merged.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StateFileCorruptError } from '../errors/errors.js';
import { CompletedRanges, type TokenInterval } from '../streaming/completed-ranges.js';
import type { MovementKind } from '../streaming/range-movement.js';
import { TOKEN_MAX } from '../ring/token-range.js';
import { readFileIfExists, writeFileAtomic } from './atomic-file.js';

const FILE_NAME = 'stream-progress.json';
const FORMAT = 1;
const DECIMAL = /^[0-9]{1,20}$/;

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
    if (!Array.isArray(done)) throw new StateFileCorruptError(this.path, 'done is not a list');
    const intervals = done.map((entry: unknown, index): TokenInterval => {
      const [low, high] = Array.isArray(entry) ? (entry as unknown[]) : [];
      if (typeof low !== 'string' || typeof high !== 'string' || !DECIMAL.test(low) || !DECIMAL.test(high)) {
        throw new StateFileCorruptError(this.path, `done[${index}] is not a pair of decimal tokens`);
      }
      const interval = { low: BigInt(low), high: BigInt(high) };
      if (interval.low > interval.high || interval.high > TOKEN_MAX) throw new StateFileCorruptError(this.path, `done[${index}] is not a token interval`);
      return interval;
    });
    return new CompletedRanges(intervals);
  }

  save(kind: MovementKind, done: CompletedRanges): Promise<void> {
    const text = `${JSON.stringify({ format: FORMAT, movement: kind, done: done.toIntervals().map(({ low, high }) => [String(low), String(high)]) })}\n`;
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
