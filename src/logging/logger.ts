// The logging port the core writes to. pino's Logger satisfies it, so the node passes
// its pino instance; tests pass `silentLogger` or a recorder. Keeping the core on this
// small interface means it never imports pino or decides where logs go.

export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => {};

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
