// A Logger that keeps what it was told, so tests can check that recovery reports
// exactly what it dropped or skipped.
import type { Logger } from '../../src/logging/logger.js';

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];

  debug(fields: object, message: string): void {
    this.entries.push({ level: 'debug', fields: fields as Record<string, unknown>, message });
  }

  info(fields: object, message: string): void {
    this.entries.push({ level: 'info', fields: fields as Record<string, unknown>, message });
  }

  warn(fields: object, message: string): void {
    this.entries.push({ level: 'warn', fields: fields as Record<string, unknown>, message });
  }

  error(fields: object, message: string): void {
    this.entries.push({ level: 'error', fields: fields as Record<string, unknown>, message });
  }

  find(message: RegExp): LogEntry | undefined {
    return this.entries.find((entry) => message.test(entry.message));
  }
}
