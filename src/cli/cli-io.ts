// What every `qkv` command shares: its exit codes, the usage error, where it writes,
// and the few formatting rules (versions, values) that must look the same in every
// command. Exit codes are part of the interface scripts rely on:
//   0 success, 1 operating error (the server or the network said no),
//   2 usage error (bad flags or arguments), 3 key not found (`get`).
import { logicalOf, wallMsOf } from '../clock/hybrid-logical-clock.js';
import type { Version__Output } from '../protocol/generated/quorumkv/v1/Version.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A mistake in how the command was called; printed as one line, exit code 2. */
export class UsageError extends Error {}

/** `<stamp> (<wall time> +<logical>) by <node>`, or `-` when there is no version. */
export function formatVersion(version: Version__Output | null | undefined): string {
  if (version === null || version === undefined || version.nodeId === '') return '-';
  const stamp = BigInt(version.stamp);
  const wallMs = Number(wallMsOf(stamp));
  return `${version.stamp} (${new Date(wallMs).toISOString()} +${logicalOf(stamp)}) by ${version.nodeId}`;
}

export function versionJson(version: Version__Output | null | undefined): { stamp: string; nodeId: string } | null {
  if (version === null || version === undefined || version.nodeId === '') return null;
  return { stamp: version.stamp, nodeId: version.nodeId };
}

/** The value as text when it is valid UTF-8, else null (JSON then carries base64). */
export function utf8OrNull(value: Buffer): string | null {
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? text : null;
}

export function writeJson(io: CliIo, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

/** Left-aligned columns for human output. */
export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ').trimEnd()).join('\n') + '\n';
}
