// `<data dir>/held-ranges.json`: the token ranges this node may hold records of since its
// last cleanup (src/streaming/held-ranges.ts), so that `cleanup.needed` survives a
// restart.
//
// Format (JSON, replaced atomically):
//   { "format": 1, "held": [["<low>", "<high>"], ...] }
// with closed token intervals as decimal strings, ascending and merged.
import { join } from 'node:path';
import { StateFileCorruptError } from '../errors/errors.js';
import type { TokenInterval } from '../streaming/completed-ranges.js';
import type { HeldRangesStore } from '../streaming/held-ranges.js';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.js';
import { intervalsFromJson, intervalsToJson } from './token-intervals-json.js';

const FILE_NAME = 'held-ranges.json';
const FORMAT = 1;

export class HeldRangesFile implements HeldRangesStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE_NAME);
  }

  /** The saved intervals, or undefined when the file does not exist. */
  async load(): Promise<TokenInterval[] | undefined> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return undefined;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new StateFileCorruptError(this.path, `not JSON (${(error as Error).message})`);
    }
    const { format, held } = (document ?? {}) as { format?: unknown; held?: unknown };
    if (format !== FORMAT) throw new StateFileCorruptError(this.path, `unknown format ${JSON.stringify(format)}`);
    return intervalsFromJson(this.path, 'held', held);
  }

  async save(intervals: readonly TokenInterval[]): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify({ format: FORMAT, held: intervalsToJson(intervals) })}\n`);
  }
}
