// `kubectl port-forward` to one pod on a fixed local port that outlives the pod: kubectl
// exits when the pod it forwards to goes away (a rolling upgrade, a deleted pod), and this
// starts it again on the same port until closed. A client given the local ports of every
// member then sees a restarting member as a refused connection and moves on to the next
// address (QuorumKvClient does), as it would against the pods themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './process-cluster.js';

/** Between two starts of kubectl: the pod is usually not back sooner. */
const RESTART_PAUSE_MS = 1_000;
/** Lines of kubectl's output kept for a failure message. */
const OUTPUT_LINES_MAX = 40;

export class LastingPortForward {
  private child: ChildProcess | undefined;
  private closed = false;
  private readonly loop: Promise<void>;
  private readonly output: string[] = [];
  /** How often kubectl was started: 1 plus the restarts. */
  starts = 0;

  private constructor(
    private readonly kubectl: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly namespace: string,
    readonly pod: string,
    private readonly remotePort: number,
    readonly localPort: number,
  ) {
    this.loop = this.keepForwarding();
  }

  static async open(kubectl: string, env: NodeJS.ProcessEnv, namespace: string, pod: string, remotePort: number): Promise<LastingPortForward> {
    return new LastingPortForward(kubectl, env, namespace, pod, remotePort, await freePort());
  }

  get address(): string {
    return `127.0.0.1:${this.localPort}`;
  }

  /** What kubectl printed last, for a failure message. */
  recentOutput(): string {
    return this.output.join('');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.child?.kill('SIGTERM');
    await this.loop;
  }

  private async keepForwarding(): Promise<void> {
    while (!this.closed) {
      this.starts++;
      const child = spawn(this.kubectl, ['-n', this.namespace, 'port-forward', `pod/${this.pod}`, `${this.localPort}:${this.remotePort}`], {
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      const keep = (chunk: Buffer): void => {
        this.output.push(chunk.toString());
        if (this.output.length > OUTPUT_LINES_MAX) this.output.shift();
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (!this.closed) await sleep(RESTART_PAUSE_MS);
    }
  }
}
