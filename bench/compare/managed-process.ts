// A child process that the comparison started and must stop: its output goes to a log
// file, it is stopped with SIGTERM and, after a grace period, SIGKILL. Every process is
// registered in a ProcessGroup so that one call (on success, on an error, on Ctrl-C)
// stops whatever is still running; nothing the comparison starts outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** How long a process gets after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 15_000;
const READY_POLL_MS = 100;

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
