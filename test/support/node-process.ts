// A real `qkv server` child process for tests that need nodes outside the test process
// (the Kubernetes tests run one per pod, each on its own 127.0.0.x address), or another
// long-running `qkv` command (`qkv controller`).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const EXIT_WAIT_MS = 15_000;

export class NodeProcess {
  readonly output: string[] = [];
  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => {
      this.output.push(chunk.toString());
      if (this.output.length > 500) this.output.splice(0, this.output.length - 500);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static start(args: readonly string[], env: NodeJS.ProcessEnv, command = 'server'): NodeProcess {
    return new NodeProcess(spawn(process.execPath, [MAIN, command, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** Lines of the node's JSON log that parse, newest last. */
  logRecords(): Array<Record<string, unknown>> {
    return this.output.join('').split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }
}
