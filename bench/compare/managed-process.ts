// A child process that the comparison started and must stop: its output goes to a log
// file, it is stopped with SIGTERM and, after a grace period, SIGKILL. Every process is
// registered in a ProcessGroup so that one call (on success, on an error, on Ctrl-C)
// stops whatever is still running; nothing the comparison starts outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every common platform. */
const CLOCK_TICKS_PER_SECOND = 100;

/** How long a process gets after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 15_000;
const READY_POLL_MS = 100;

export interface CpuTimes {
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

export class ManagedProcess {
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logPath: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  static start(group: ProcessGroup, name: string, command: string, args: readonly string[], logPath: string): ManagedProcess {
    const logFd = openSync(logPath, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', logFd, logFd] });
      const process = new ManagedProcess(name, child, logPath);
      // A spawn failure (no such binary) arrives as an event; it must not crash us.
      child.once('error', () => undefined);
      group.add(process);
      return process;
    } finally {
      closeSync(logFd);
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Polls `isReady` until it says yes; fails when the process exits or time runs out. */
  async waitUntilReady(isReady: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (code ${this.child.exitCode}) while starting:\n${this.logTail()}`);
      if (await isReady()) return;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready after ${timeoutMs} ms:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
  }

  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const killer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(killer);
    }
  }

  /**
   * CPU time (user + system) the process has used so far, from /proc/<pid>/stat; undefined
   * where there is no /proc or the process is gone. CPU per operation does not depend on
   * how busy the rest of the machine is the way throughput does.
   */
  cpuSeconds(): number | undefined {
    const times = this.cpuTimes();
    return times === undefined ? undefined : times.userSeconds + times.systemSeconds;
  }

  /** The same CPU time split into user and system (kernel) time. */
  cpuTimes(): CpuTimes | undefined {
    if (this.child.pid === undefined) return undefined;
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { userSeconds: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, systemSeconds: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
    } catch {
      return undefined;
    }
  }

  logTail(lines = 10): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export class ProcessGroup {
  private readonly processes = new Set<ManagedProcess>();

  add(process: ManagedProcess): void {
    this.processes.add(process);
    void process.exited.then(() => this.processes.delete(process));
  }

  /** Stops every process still running, all at once. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes].map((process) => process.stop()));
  }
}
