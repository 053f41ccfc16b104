// A real S3-compatible server for tests: versitygw (an S3 gateway over a POSIX
// directory, docs/decisions/0145-versitygw-as-the-test-s3-server.md) as a child process
// on a free port of loopback (or of another address of this machine, for clients in pods:
// test/e2e/backup-to-s3.test.ts), with its own temporary directory and root credentials.
//
// scripts/s3-test-env.sh builds the binary into a cache outside the repository and prints
// its path (QKV_S3_SERVER). Without it the tests skip and say why, unless
// QKV_S3_SERVER_REQUIRED=1 (CI), which makes a missing binary a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './kube-api-server.js';
import { tempDir } from './temp-dir.js';

/** The versitygw release the script builds; keep in step with scripts/s3-test-env.sh. */
export const VERSITYGW_VERSION = 'v1.8.0';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export function s3ServerPath(): string {
  if (process.env.QKV_S3_SERVER) return process.env.QKV_S3_SERVER;
  const cache = process.env.QKV_TOOLS_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'quorumkv');
  return join(cache, `versitygw-${VERSITYGW_VERSION}`, 'bin', 'versitygw');
}

/** The `skip` option of a test that needs the S3 server; throws under QKV_S3_SERVER_REQUIRED=1. */
export function skipWithoutS3Server(): string | false {
  if (existsSync(s3ServerPath())) return false;
  const reason = `versitygw not found at ${s3ServerPath()}: run scripts/s3-test-env.sh and set QKV_S3_SERVER`;
  if (process.env.QKV_S3_SERVER_REQUIRED === '1') throw new Error(reason);
  return reason;
}

export class S3TestServer {
  private constructor(
    /** http://HOST:PORT */
    readonly endpoint: string,
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
    /** The directory the gateway keeps buckets in: one directory per bucket. */
    readonly rootDir: string,
    private readonly child: ChildProcess,
    private readonly output: string[],
  ) {}

  /** `host`: the address to listen on, 127.0.0.1 unless the clients are elsewhere. */
  static async start(options: { readonly host?: string } = {}): Promise<S3TestServer> {
    const host = options.host ?? '127.0.0.1';
    const rootDir = await tempDir(undefined, 'qkv-s3-');
    const port = await freePort();
    const credentials = { accessKeyId: `qkv${randomBytes(6).toString('hex')}`, secretAccessKey: randomBytes(18).toString('hex') };
    const output: string[] = [];
    const child = spawn(
      s3ServerPath(),
      ['--port', `${host}:${port}`, '--health', '/health', '--quiet', 'posix', rootDir],
      {
        env: { PATH: process.env.PATH ?? '', ROOT_ACCESS_KEY_ID: credentials.accessKeyId, ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'));
      if (output.length > 200) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const server = new S3TestServer(`http://${host}:${port}`, credentials, rootDir, child, output);
    await server.waitHealthy();
    return server;
  }

  /** A new bucket, made through the S3 API as a user would. */
  async createBucket(name: string): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }

  /** An SDK client with the root credentials, for checking from outside the store. */
  client(): S3Client {
    return new S3Client({ endpoint: this.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: this.credentials });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`versitygw exited with ${this.child.exitCode}: ${this.output.join('')}`);
      try {
        const answer = await fetch(`${this.endpoint}/health`);
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new Error(`versitygw not healthy after ${START_TIMEOUT_MS} ms: ${this.output.join('')}`);
  }
}
