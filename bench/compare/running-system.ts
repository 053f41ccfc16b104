// What every launcher of the comparison hands back: where the system listens and how
// to stop it (all its processes; their data directories belong to the caller).
export interface RunningSystem {
  readonly name: string;
  /** host:port of each client endpoint. */
  readonly addresses: readonly string[];
  /** What `qkv bench` needs besides --addr to reach it (quorumkv's client certificate). */
  readonly clientArgs?: readonly string[];
  stop(): Promise<void>;
  /** CPU seconds used so far by all of its processes; undefined where it cannot be read. */
  cpuSeconds(): number | undefined;
  /** The same, per process (the busiest one shows a saturated event loop or core). */
  processCpuSeconds(): ReadonlyArray<number | undefined>;
}

/** The sum of the processes' CPU times, or undefined when any cannot be read. */
export function totalCpuSeconds(processes: ReadonlyArray<{ cpuSeconds(): number | undefined }>): number | undefined {
  let total = 0;
  for (const process of processes) {
    const seconds = process.cpuSeconds();
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return total;
}

export interface LaunchOptions {
  /** A fresh directory for this system's data and logs. */
  readonly dir: string;
  readonly readyTimeoutMs: number;
}
