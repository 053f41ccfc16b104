// The CPU time of the `qkv bench` process that `npm run bench:cpu` started for one build,
// read from /proc while it runs. On the development machine the load generator shares the
// two cores with the nodes, so what the project's client costs per operation moves the
// own-client ratios against etcd as much as the nodes' CPU does; bench:cpu prints it beside
// the nodes' figure.
//
// The process is found as this process's child whose command line runs `main` with the
// `bench` command. When that names more than one process (two builds side by side without
// `--own-client` run the same client) the figure is left out rather than guessed.
import { readdirSync, readFileSync } from 'node:fs';
import type { CpuTimes } from './compare/managed-process.js';

/** USER_HZ: the unit of the times in /proc/PID/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

export function loadGeneratorCpuTimes(main: string): CpuTimes | undefined {
  let times: CpuTimes | undefined;
  let matches = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let args: string[];
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // it ended meanwhile, or is not ours to read
    }
    // The fields after the command name, which is in parentheses and may hold spaces:
    // state, ppid, ..., utime (12th), stime (13th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== process.pid) continue;
    const at = args.indexOf(main);
    if (at < 0 || args[at + 1] !== 'bench') continue;
    matches++;
    times = { userSeconds: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, systemSeconds: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
  }
  return matches === 1 ? times : undefined;
}
