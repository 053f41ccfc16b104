// What every launcher of the comparison hands back: where the system listens and how
// to stop it (all its processes; their data directories belong to the caller).
export interface RunningSystem {
  readonly name: string;
  /** host:port of each client endpoint. */
  readonly addresses: readonly string[];
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** A fresh directory for this system's data and logs. */
  readonly dir: string;
  readonly readyTimeoutMs: number;
}
