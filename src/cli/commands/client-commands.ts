// The `qkv` commands that talk to a running cluster: put, get, delete, status, ring,
// repair, decommission, cleanup, backup, restore.
// Each parses its flags, makes one call through QuorumKvClient, and prints either a
// short human answer or, with --json, one JSON document. A failure is one line on
// stderr, `qkv: CODE: message`, and a non-zero exit code (src/cli/cli-io.ts).
import { parseArgs } from 'node:util';
import { QuorumKvClient } from '../../client/quorum-kv-client.js';
import { QkvError, isQkvError } from '../../errors/errors.js';
import {
  EXIT_NOT_FOUND,
  EXIT_OK,
  UsageError,
  formatVersion,
  table,
  utf8OrNull,
  versionJson,
  writeJson,
  type CliIo,
} from '../cli-io.js';
import { LOCAL_ADDRESSES, LOCAL_CERTS_DIR } from '../local-cluster-layout.js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { clientChannelCredentials } from '../../security/tls-credentials.js';
import { signForgetAs } from '../../security/forget-signature.js';
import type { ForgetSignature } from '../../ring/ring-state.js';
import { BUILT_IN_ADMIN } from '../../security/user-roles.js';
import { booleanField } from '../../config/config-field.js';
import { membersRead, missingMembersGuarantee } from '../../backup/missing-members-guarantee.js';
import type { StreamProgress__Output } from '../../protocol/generated/quorumkv/v1/StreamProgress.js';
import type { CleanupStatus__Output } from '../../protocol/generated/quorumkv/v1/CleanupStatus.js';

/** Deadline of one CLI call when --timeout-ms is not given. */
const CLI_TIMEOUT_MS_DEFAULT = 10_000;
/** Largest value `qkv put` reads from stdin; the server's own limit applies after. */
const STDIN_BYTES_MAX = 64 * 1024 * 1024;

const COMMON_OPTIONS = {
  addr: { type: 'string' },
  'certs-dir': { type: 'string' },
  user: { type: 'string' },
  insecure: { type: 'boolean' },
  unary: { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const CLIENT_USAGE = `Cluster commands (default --addr: the local cluster, ${LOCAL_ADDRESSES}; env QKV_ADDR):
  qkv put <key> [<value>|-] [--w N] [--ttl DURATION]   write; '-' or no value reads stdin
  qkv get <key> [--r N] [--replicas]                   read; --replicas shows every replica's answer
  qkv delete <key> [--w N]                             write a tombstone
  qkv status                                           the answering node and its members
  qkv ring [--key <key>]                               token ownership; with --key its preference list
  qkv repair                                           one anti-entropy pass on every node of --addr, in turn
  qkv decommission --addr host:port [--no-wait]        stream the node's ranges away and take it out of the ring;
                                                       prints progress until it is LEFT (then stop it)
  qkv forget <member> --addr host:port [--no-wait]     take a member gone for good (node and volume lost) out of every
                                                       ring; prints the asked node's re-replication until it is done
  qkv cleanup                                          on every node of --addr, in turn: delete the records of the
                                                       ranges it no longer replicates (run after nodes joined)
  qkv backup <destination> [--require-all-members]     back up every member into one backup set; <destination> is a
                                                       directory under the node's --backup-dir, or s3://bucket/prefix
                                                       (docs/operations/backup.md); a member that cannot be read is
                                                       left out and named while its ranges have other replicas, or
                                                       fails the backup with --require-all-members
  qkv restore <destination> [--backup ID]              write a backup set (default: the newest) into the cluster, with
                                                       its original versions, each key once; safe to run again (resumes)
Common flags: --addr host:port[,host:port...]  --timeout-ms N  --json
  --certs-dir DIR (env QKV_CERTS_DIR; default ${LOCAL_CERTS_DIR}, where \`npm start\` writes them): ca.crt and
  client.<user>.crt/.key  --user NAME (env QKV_USER; default ${BUILT_IN_ADMIN})  --insecure (env QKV_INSECURE=true:
  plaintext, for a cluster started with --insecure)  --unary (one unary call per request instead of the
  multiplexed KV stream)
W and R default to 0, the cluster's majority. DURATION is a number with ms, s, m, h or d (e.g. 30s).`;

type CommonValues = { addr?: string; 'timeout-ms'?: string; json?: boolean; 'certs-dir'?: string; user?: string; insecure?: boolean; unary?: boolean };

function parseCount(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurationMs(flag: string, text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = match === null ? NaN : Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`--${flag} must be a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  return ms;
}

function connect(io: CliIo, values: CommonValues): QuorumKvClient {
  const addr = values.addr ?? io.env['QKV_ADDR'] ?? LOCAL_ADDRESSES;
  const addresses = addr.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (addresses.length === 0) throw new UsageError('--addr must name at least one host:port');
  const timeoutMs = parseCount('timeout-ms', values['timeout-ms'], 1, 3_600_000) ?? CLI_TIMEOUT_MS_DEFAULT;
  return new QuorumKvClient({ addresses, timeoutMs, transport: values.unary === true ? 'unary' : 'stream', ...clientSecurity(io, values) });
}

/** QKV_INSECURE parsed as the node parses its own (src/config/node-config.ts). */
const INSECURE_ENV = booleanField('plaintext');

/** Whether --insecure (or QKV_INSECURE) asks for plaintext. */
function isInsecure(io: CliIo, values: CommonValues): boolean {
  return values.insecure === true || INSECURE_ENV.fromText(io.env['QKV_INSECURE'] ?? '');
}

/** Whose client certificate the CLI uses, and where its files are; undefined with --insecure (or QKV_INSECURE). */
function clientIdentity(io: CliIo, values: CommonValues): { readonly certsDir: string; readonly user: string } | undefined {
  if (isInsecure(io, values)) return undefined;
  return { certsDir: values['certs-dir'] ?? io.env['QKV_CERTS_DIR'] ?? LOCAL_CERTS_DIR, user: values.user ?? io.env['QKV_USER'] ?? BUILT_IN_ADMIN };
}

/** TLS with the user's client certificate, unless --insecure (or QKV_INSECURE) says plaintext. */
export function clientSecurity(io: CliIo, values: CommonValues): { credentials?: ChannelCredentials } {
  const identity = clientIdentity(io, values);
  return identity === undefined ? {} : { credentials: clientChannelCredentials(identity.certsDir, identity.user) };
}

async function withClient<T>(io: CliIo, values: CommonValues, run: (client: QuorumKvClient) => Promise<T>): Promise<T> {
  const client = connect(io, values);
  try {
    return await run(client);
  } catch (error) {
    // A TLS node drops a plaintext connection before any gRPC is spoken, so all the
    // client sees is "cannot connect": say what is the likely cause.
    if (isQkvError(error) && error.code === 'PEER_UNREACHABLE' && isInsecure(io, values)) {
      throw new QkvError(error.code, `${error.message} (with --insecure: if the cluster runs with TLS, as it does by default, leave --insecure out)`, { cause: error });
    }
    throw error;
  } finally {
    client.close();
  }
}

function oneKey(positionals: string[], command: string, extra = 0): Buffer {
  const key = positionals[0];
  if (key === undefined || key === '') throw new UsageError(`${command} needs a key`);
  if (positionals.length > 1 + extra) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[1 + extra])}`);
  return Buffer.from(key, 'utf8');
}

async function readStdin(io: CliIo): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    if (bytes > STDIN_BYTES_MAX) throw new UsageError(`the value on stdin is larger than ${STDIN_BYTES_MAX} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export async function runPut(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...COMMON_OPTIONS, w: { type: 'string' }, ttl: { type: 'string' } },
    allowPositionals: true,
  });
  const key = oneKey(positionals, 'put', 1);
  const valueText = positionals[1];
  const value = valueText === undefined || valueText === '-' ? await readStdin(io) : Buffer.from(valueText, 'utf8');
  const w = parseCount('w', values.w, 0, 1000);
  const ttlMs = values.ttl === undefined ? undefined : parseDurationMs('ttl', values.ttl);
  const response = await withClient(io, values, (client) => client.put(key, value, { w, ttlMs }));
  if (values.json) writeJson(io, { ok: true, version: versionJson(response.version), acks: response.acks });
  else io.stdout.write(`OK  acks=${response.acks}  version ${formatVersion(response.version)}\n`);
  return EXIT_OK;
}

export async function runGet(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...COMMON_OPTIONS, r: { type: 'string' }, replicas: { type: 'boolean' } },
    allowPositionals: true,
  });
  const key = oneKey(positionals, 'get');
  const r = parseCount('r', values.r, 0, 1000);
  const includeReplicas = values.replicas ?? false;
  const response = await withClient(io, values, (client) => client.get(key, { r, includeReplicas }));
  const replicas = response.replicas.map((replica) => ({
    nodeId: replica.nodeId,
    answered: replica.answered,
    found: replica.found,
    version: versionJson(replica.version),
    ...(replica.error === '' ? {} : { error: replica.error }),
  }));
  if (values.json) {
    const text = response.found ? utf8OrNull(response.value) : null;
    writeJson(io, {
      found: response.found,
      ...(response.found ? (text === null ? { valueBase64: response.value.toString('base64') } : { value: text }) : {}),
      version: versionJson(response.version),
      acks: response.acks,
      ...(includeReplicas ? { replicas } : {}),
    });
  } else {
    if (includeReplicas) {
      io.stdout.write(response.found ? `value    ${response.value.toString('utf8')}\n` : 'value    (not found)\n');
      io.stdout.write(`version  ${formatVersion(response.version)}\nacks     ${response.acks}\n\n`);
      const rows = [['REPLICA', 'ANSWERED', 'HAS KEY', 'VERSION']];
      for (const replica of response.replicas) {
        rows.push([
          replica.nodeId,
          replica.answered ? 'yes' : replica.error === '' ? 'pending' : 'no',
          replica.answered ? (replica.found ? 'yes' : 'no') : '-',
          replica.answered ? formatVersion(replica.version) : replica.error || '(no reply before the call returned)',
        ]);
      }
      io.stdout.write(table(rows));
    } else if (response.found) {
      io.stdout.write(`${response.value.toString('utf8')}\n`);
    }
    if (!response.found && !includeReplicas) io.stderr.write(`qkv: key ${JSON.stringify(key.toString('utf8'))} not found\n`);
  }
  return response.found ? EXIT_OK : EXIT_NOT_FOUND;
}

export async function runDelete(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, w: { type: 'string' } }, allowPositionals: true });
  const key = oneKey(positionals, 'delete');
  const w = parseCount('w', values.w, 0, 1000);
  const response = await withClient(io, values, (client) => client.delete(key, { w }));
  if (values.json) writeJson(io, { ok: true, version: versionJson(response.version), acks: response.acks });
  else io.stdout.write(`OK  deleted  acks=${response.acks}  version ${formatVersion(response.version)}\n`);
  return EXIT_OK;
}

export async function runStatus(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`status: unexpected argument ${JSON.stringify(positionals[0])}`);
  const status = await withClient(io, values, (client) => client.status());
  if (values.json) {
    writeJson(io, { ...status, uptimeMs: Number(status.uptimeMs) });
    return EXIT_OK;
  }
  const stream = status.stream === null ? '' : `stream    ${status.stream.movement === '' ? '' : `${status.stream.movement} `}${formatStream(status.stream)}\n`;
  const cleanup = status.cleanup === null ? '' : `cleanup   ${formatCleanup(status.cleanup)}\n`;
  io.stdout.write(
    `node      ${status.nodeId} (${status.state}, ${status.ringState})\nversion   ${status.version}\nuptime    ${formatUptime(Number(status.uptimeMs))}\n` +
      `ring      digest ${status.ringDigest}, N=${status.replicationFactor}, ${status.vnodes} vnodes per node\n${stream}${cleanup}\n`,
  );
  const rows = [['MEMBER', 'ADDRESS', 'ZONE', 'READY', 'RING', 'LIVENESS', 'HINTS', '']];
  for (const member of status.members) {
    rows.push([
      member.id,
      member.address || '-',
      member.zone || '-',
      member.ready ? 'yes' : 'no',
      member.ringState,
      member.self ? '-' : member.liveness,
      member.self ? '-' : `${member.hintBytes} B`,
      member.self ? '(this node)' : member.retained ? '(gone from discovery; kept until LEFT)' : '',
    ]);
  }
  io.stdout.write(table(rows));
  return EXIT_OK;
}

export async function runRepair(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`repair: unexpected argument ${JSON.stringify(positionals[0])}`);
  const addr = values.addr ?? io.env['QKV_ADDR'] ?? LOCAL_ADDRESSES;
  const addresses = addr.split(',').map((part) => part.trim()).filter((part) => part !== '');
  // A pass repairs the ranges of the node that runs it; every node runs one, in turn.
  const reports = [];
  for (const address of addresses) {
    const report = await withClient(io, { ...values, addr: address, 'timeout-ms': values['timeout-ms'] ?? '3600000' }, (client) => client.repair());
    const entry = {
      address,
      rangesCompared: report.rangesCompared,
      rangesMismatched: report.rangesMismatched,
      keysPulled: Number(report.keysPulled),
      keysPushed: Number(report.keysPushed),
      peersSkipped: report.peersSkipped,
      elapsedMs: Number(report.elapsedMs),
    };
    reports.push(entry);
    if (!values.json) {
      io.stdout.write(
        `${address}: ${entry.rangesCompared} range comparisons, ${entry.rangesMismatched} mismatched, ` +
          `${entry.keysPulled} keys pulled, ${entry.keysPushed} pushed, ${entry.peersSkipped} skipped, ${entry.elapsedMs} ms\n`,
      );
    }
  }
  if (values.json) writeJson(io, { repairs: reports });
  return EXIT_OK;
}

export async function runCleanup(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: COMMON_OPTIONS, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`cleanup: unexpected argument ${JSON.stringify(positionals[0])}`);
  const addr = values.addr ?? io.env['QKV_ADDR'] ?? LOCAL_ADDRESSES;
  const addresses = addr.split(',').map((part) => part.trim()).filter((part) => part !== '');
  // Each node cleans its own storage; one client per address, so a node that cannot be
  // reached is never stood in for by another.
  const reports = [];
  for (const address of addresses) {
    const report = await withClient(io, { ...values, addr: address, 'timeout-ms': values['timeout-ms'] ?? '3600000' }, (client) => client.cleanup());
    const entry = {
      address,
      ranges: report.ranges,
      recordsScanned: Number(report.recordsScanned),
      recordsRemoved: Number(report.recordsRemoved),
      elapsedMs: Number(report.elapsedMs),
      ringDigest: report.ringDigest,
    };
    reports.push(entry);
    if (!values.json) {
      io.stdout.write(
        `${address}: ${entry.ranges} ranges no longer replicated here, ${entry.recordsScanned} records scanned, ` +
          `${entry.recordsRemoved} removed, ${entry.elapsedMs} ms (ring ${entry.ringDigest})\n`,
      );
    }
  }
  if (values.json) writeJson(io, { cleanups: reports });
  return EXIT_OK;
}

export async function runRingView(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, key: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`ring: unexpected argument ${JSON.stringify(positionals[0])}`);
  const key = values.key === undefined ? undefined : Buffer.from(values.key, 'utf8');
  if (key !== undefined && key.length === 0) throw new UsageError('--key must not be empty');
  const ring = await withClient(io, values, (client) => client.ring(key));
  if (values.json) {
    writeJson(io, ring);
    return EXIT_OK;
  }
  io.stdout.write(`ring digest ${ring.digest}, N=${ring.replicationFactor}, ${ring.vnodes} vnodes per node\n\n`);
  const rows = [['NODE', 'TOKENS', 'PRIMARY SHARE']];
  for (const owner of ring.owners) rows.push([owner.nodeId, String(owner.tokens), `${(owner.primaryShare * 100).toFixed(2)}%`]);
  io.stdout.write(table(rows));
  if (key !== undefined) io.stdout.write(`\nkey ${JSON.stringify(values.key)}: token ${ring.keyToken}, replicas ${ring.preferenceList.join(', ')}\n`);
  return EXIT_OK;
}

/** How often `qkv decommission` asks for progress. */
const DECOMMISSION_POLL_MS = 500;

export async function runDecommission(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, 'no-wait': { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`decommission: unexpected argument ${JSON.stringify(positionals[0])}`);
  // Never fall over to another address: that would decommission a different node.
  const addr = values.addr ?? io.env['QKV_ADDR'];
  const addresses = (addr ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (addresses.length !== 1) throw new UsageError('decommission needs exactly one node: --addr host:port');
  return withClient(io, values, async (client) => {
    const started = await client.decommission();
    let status = await client.status();
    const say = (text: string): void => {
      if (!values.json) io.stdout.write(`${status.nodeId}: ${text}\n`);
    };
    say(started.ringState === 'LEFT' ? 'already LEFT' : `${started.ringState}: decommission started`);
    let shown = '';
    while (!values['no-wait'] && status.ringState !== 'LEFT') {
      const line = status.stream === null ? status.ringState : `${status.ringState}: ${formatStream(status.stream)}`;
      if (line !== shown) say(line);
      shown = line;
      await new Promise((resolve) => setTimeout(resolve, DECOMMISSION_POLL_MS));
      status = await client.status();
    }
    if (values.json) {
      writeJson(io, { nodeId: status.nodeId, ringState: status.ringState, stream: status.stream });
    } else if (status.ringState === 'LEFT') {
      say('LEFT: every reachable peer has heard it; stop the node now');
    }
    return EXIT_OK;
  });
}

/**
 * With TLS, the forget signed with the user's client key: every node checks that an
 * admin user decided it (docs/decisions/0268-forget-signed-by-an-admin.md). The version is
 * this machine's clock, which must be within the nodes' clock bound.
 */
async function signedForget(io: CliIo, values: CommonValues, member: string): Promise<{ version: number; signed: ForgetSignature } | undefined> {
  const identity = clientIdentity(io, values);
  if (identity === undefined) return undefined;
  const version = Date.now();
  return { version, signed: await signForgetAs(identity.certsDir, identity.user, member, version) };
}

/** How often `qkv forget` asks for progress. */
const FORGET_POLL_MS = 500;

export async function runForget(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, 'no-wait': { type: 'boolean' } }, allowPositionals: true });
  const [member, extra] = positionals;
  if (member === undefined || member === '') throw new UsageError('forget needs the id of the member to forget: qkv forget <member> --addr host:port');
  if (extra !== undefined) throw new UsageError(`forget: unexpected argument ${JSON.stringify(extra)}`);
  // One node: the progress shown is that node's, so it must be the node that was asked.
  const addr = values.addr ?? io.env['QKV_ADDR'];
  const addresses = (addr ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (addresses.length !== 1) throw new UsageError('forget needs exactly one live node to ask: --addr host:port');
  return withClient(io, values, async (client) => {
    // Signed once connected: connect() has said clearly which certificate file is missing.
    const forgotten = await client.forget(member, await signedForget(io, values, member));
    let status = await client.status();
    const say = (text: string): void => {
      if (!values.json) io.stdout.write(`${status.nodeId}: ${text}\n`);
    };
    say(
      forgotten.previousRingState === 'FORGOTTEN'
        ? `${member} was forgotten already`
        : `${member} (${forgotten.previousRingState}) forgotten: out of this node's rings; every member hears it in its next probes and pulls its ranges from the surviving replicas`,
    );
    const rereplicating = (): boolean => status.stream !== null && status.stream.movement === 'rereplicate';
    let shown = '';
    while (!values['no-wait'] && rereplicating()) {
      const line = `rereplicate: ${formatStream(status.stream!)}`;
      if (line !== shown) say(line);
      shown = line;
      await new Promise((resolve) => setTimeout(resolve, FORGET_POLL_MS));
      status = await client.status();
    }
    if (values.json) {
      writeJson(io, { nodeId: status.nodeId, member, previousRingState: forgotten.previousRingState, stream: status.stream });
    } else if (!values['no-wait']) {
      say('re-replication done on this node; qkv status on each member shows its own, then run qkv cleanup');
    }
    return EXIT_OK;
  });
}

/** `streaming: 120/768 ranges, 3400 keys, 1.2 MiB`, with whom it waits for or why it retries. */
export function formatStream(stream: StreamProgress__Output): string {
  const base = `${stream.phase}: ${stream.rangesDone}/${stream.rangesTotal} ranges, ${stream.keys} keys, ${formatBytes(Number(stream.bytes))}`;
  if (stream.waitingFor.length > 0) return `${base} (waiting for ${stream.waitingFor.join(', ')} to hear it)`;
  if (stream.lastError !== '') return `${base} (last error: ${stream.lastError})`;
  return base;
}

/** `needed`, `running: 12/40 ranges, 3000 records scanned, 1200 removed`, or the last error. */
function formatCleanup(cleanup: CleanupStatus__Output): string {
  const figures = `${cleanup.rangesDone}/${cleanup.rangesTotal} ranges, ${cleanup.recordsScanned} records scanned, ${cleanup.recordsRemoved} removed`;
  if (cleanup.running) return `running: ${figures}`;
  const state = cleanup.needed ? 'needed (run qkv cleanup)' : 'not needed';
  return cleanup.lastError === '' ? state : `${state}; the last one stopped: ${cleanup.lastError}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ] as const;
  const shown = parts.filter(([value], index) => value > 0 || index === parts.length - 1);
  return shown.map(([value, unit]) => `${value}${unit}`).join(' ');
}

/** Deadline of `qkv backup` and `qkv restore` when --timeout-ms is not given: they run long. */
const BACKUP_CLI_TIMEOUT_MS_DEFAULT = 24 * 3_600_000;

export async function runBackup(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, 'require-all-members': { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('backup needs one destination: qkv backup <destination> [--require-all-members]');
  const destination = positionals[0]!;
  const timeoutMs = values['timeout-ms'] === undefined ? BACKUP_CLI_TIMEOUT_MS_DEFAULT : undefined;
  const last = await withClient(io, values, (client) =>
    client.backup(
      destination,
      (progress) => {
        if (values.json || progress.done) return;
        const member = progress.member === '' ? '' : `, reading ${progress.member}`;
        const missing = progress.missingMembers.length === 0 ? '' : `, missing ${progress.missingMembers.map((entry) => entry.nodeId).join(', ')}`;
        io.stderr.write(`backup ${progress.backupId}: ${progress.membersDone}/${progress.membersTotal} members${member}${missing}, ${progress.records} records, ${formatBytes(Number(progress.bytes))}, ${progress.elapsedMs} ms\n`);
      },
      { requireAllMembers: values['require-all-members'] ?? false, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    ),
  );
  const missingMembers = last.missingMembers.map((entry) => ({ nodeId: entry.nodeId, reason: entry.reason }));
  const report = { backupId: last.backupId, location: last.location, members: last.membersTotal, missingMembers, records: Number(last.records), bytes: Number(last.bytes), elapsedMs: Number(last.elapsedMs) };
  if (values.json) {
    writeJson(io, report);
    return EXIT_OK;
  }
  if (missingMembers.length === 0) {
    io.stdout.write(`backup ${report.backupId} done: ${membersRead(report.members, [])}, ${report.records} records, ${formatBytes(report.bytes)} in ${report.elapsedMs} ms (${report.location})\n`);
    return EXIT_OK;
  }
  // A set without some members is complete for every write a member that was read
  // acknowledged, not for one only missing members took: say so, with the W bound for
  // this many missing, where it is seen.
  const missingIds = missingMembers.map((entry) => entry.nodeId);
  io.stdout.write(`backup ${report.backupId} done: ${membersRead(report.members, missingIds)}, ${report.records} records, ${formatBytes(report.bytes)} in ${report.elapsedMs} ms (${report.location})\n`);
  for (const entry of missingMembers) io.stderr.write(`warning: ${entry.nodeId} could not be read (${entry.reason}); its ranges come from their other replicas\n`);
  io.stderr.write(`warning: ${missingMembersGuarantee(missingMembers.length)} (docs/operations/backup.md, "A member down")\n`);
  return EXIT_OK;
}

export async function runRestore(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, backup: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('restore needs one destination: qkv restore <destination> [--backup ID]');
  const destination = positionals[0]!;
  const timeoutMs = values['timeout-ms'] === undefined ? BACKUP_CLI_TIMEOUT_MS_DEFAULT : undefined;
  const last = await withClient(io, values, (client) =>
    client.restore(
      destination,
      values.backup ?? '',
      (progress) => {
        if (values.json || progress.done) return;
        io.stderr.write(`restore ${progress.backupId}: ${progress.phase}, ${progress.filesDone}/${progress.filesTotal} files, ${progress.records} records, ${formatBytes(Number(progress.bytes))}, ${progress.elapsedMs} ms\n`);
      },
      timeoutMs === undefined ? {} : { timeoutMs },
    ),
  );
  const report = { backupId: last.backupId, files: last.filesTotal, records: Number(last.records), recordsRead: Number(last.recordsRead), bytes: Number(last.bytes), bytesSent: Number(last.bytesSent), elapsedMs: Number(last.elapsedMs) };
  if (values.json) writeJson(io, report);
  else io.stdout.write(`restore of ${report.backupId} done: ${report.files} files, ${report.records} records written to their replicas (${report.recordsRead} read from the files), ${formatBytes(report.bytes)} read, ${formatBytes(report.bytesSent)} sent in ${report.elapsedMs} ms\n`);
  return EXIT_OK;
}
