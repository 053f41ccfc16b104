// The node's pino logger: JSON lines on stdout, one `node` field on every line. With
// --log-pretty the same records go through pino-pretty for reading in a terminal.
import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from '../logging/log-level.js';

export function createNodeLogger(options: { nodeId: string; level: LogLevel; pretty: boolean }): PinoLogger {
  const settings = { level: options.level, base: { node: options.nodeId } };
  if (options.pretty) return pino(settings, pretty({ sync: true, colorize: process.stdout.isTTY }));
  return pino(settings);
}
