// One ghz run against a running system with its servers' CPU read from /proc around it:
// what the comparison's ghz views print per run (ops/s, p50/p99, server CPU per call, the
// busiest server process's share of one core).
import { join } from 'node:path';
import { runGhz, type GhzOperation, type GhzSystem } from './ghz-run.js';
import type { GhzMeasurement } from './ghz-table.js';
import type { RunningSystem } from './running-system.js';
import { CA_CERTIFICATE_FILE, clientPaths } from '../../src/security/certificate-files.js';
import { BUILT_IN_ADMIN } from '../../src/security/user-roles.js';

export interface GhzMeasureOptions {
  readonly ghz: string;
  /** The protocol ghz speaks to the system (the no-op servers speak quorumkv's). */
  readonly protocol: GhzSystem;
  readonly operation: GhzOperation;
  readonly concurrency: number;
  readonly durationSeconds: number;
  readonly valueBytes: number;
  /** A directory for ghz's data file. */
  readonly dir: string;
  /** quorumkv's W and R for the calls; the server's default when absent. */
  readonly quorum?: number;
}

/** ghz with the admin client certificate when the system hands out a certificate directory (`--certs-dir DIR`). */
export async function measureWithGhz(running: RunningSystem, options: GhzMeasureOptions): Promise<GhzMeasurement> {
  const certsDir = running.clientArgs?.[0] === '--certs-dir' ? running.clientArgs[1] : undefined;
  const admin = certsDir === undefined ? undefined : clientPaths(certsDir, BUILT_IN_ADMIN);
  const tls = admin === undefined ? undefined : { caCert: join(certsDir!, CA_CERTIFICATE_FILE), cert: admin.certificatePath, key: admin.keyPath, serverName: 'localhost' };
  const cpuBefore = running.processCpuSeconds();
  const startedAt = performance.now();
  const summary = await runGhz({
    ghz: options.ghz,
    system: options.protocol,
    operation: options.operation,
    address: running.addresses[0]!,
    concurrency: options.concurrency,
    durationSeconds: options.durationSeconds,
    valueBytes: options.valueBytes,
    dir: options.dir,
    ...(tls === undefined ? {} : { tls }),
    ...(options.quorum === undefined ? {} : { quorum: options.quorum }),
  });
  return { ...summary, ...serverCpu(cpuBefore, running.processCpuSeconds(), (performance.now() - startedAt) / 1000) };
}

/** The servers' CPU during a run and its busiest process's share of one core; nothing where /proc could not be read. */
export function serverCpu(before: ReadonlyArray<number | undefined>, after: ReadonlyArray<number | undefined>, wallSeconds: number): Pick<GhzMeasurement, 'serverCpuSeconds' | 'busiestProcessShare'> {
  const used = before.map((start, i) => (start === undefined || after[i] === undefined ? undefined : after[i]! - start));
  if (used.length === 0 || used.some((seconds) => seconds === undefined)) return {};
  const seconds = used as number[];
  return { serverCpuSeconds: seconds.reduce((sum, value) => sum + value, 0), busiestProcessShare: Math.max(...seconds) / wallSeconds };
}

/** Server CPU per completed call in µs, or undefined where it was not read. */
export function cpuMicrosPerCall(measurement: GhzMeasurement): number | undefined {
  return measurement.serverCpuSeconds === undefined || measurement.count === 0 ? undefined : (measurement.serverCpuSeconds * 1e6) / measurement.count;
}
