// The CPU time of the `qkv bench` process that `npm run bench:cpu` started for one build,
// read from /proc while it runs. On the development machine the load generator shares the
// two cores with the nodes, so what the project's client costs per operation moves the
// own-client ratios against etcd as much as the nodes' CPU does; bench:cpu prints it beside
// the nodes' figure.
//
// The process is found at the start of the measured phase as the newest child of this
// process whose command line runs `main` with the `bench` command (the previous row's
// process may still be exiting), and read again by its pid at the end. Two builds side by
// side without `--own-client` run the same client at once, so the caller asks only when
// `main` belongs to one build.
import { readdirSync, readFileSync } from 'node:fs';
import type { CpuTimes } from './compare/managed-process.js';

/** USER_HZ: the unit of the times in /proc/PID/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The fields of /proc/PID/stat after the command name (which is in parentheses and may hold spaces). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // it ended meanwhile, or is not ours to read
  }
}

/** The newest `qkv bench` process this process started with `main`, or undefined. */
export function loadGeneratorPid(main: string): number | undefined {
  let newest: { pid: number; startTicks: number } | undefined;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    // fields[1] is the parent's pid, fields[19] the start time in clock ticks since boot.
    if (fields === undefined || Number(fields[1]) !== process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = args.indexOf(main);
    if (at < 0 || args[at + 1] !== 'bench') continue;
    const startTicks = Number(fields[19]);
    if (newest === undefined || startTicks > newest.startTicks) newest = { pid: Number(entry), startTicks };
  }
  return newest?.pid;
}

/** The user and system CPU time of process `pid`, or undefined once it is gone. */
export function processCpuTimes(pid: number): CpuTimes | undefined {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  return { userSeconds: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, systemSeconds: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
}
