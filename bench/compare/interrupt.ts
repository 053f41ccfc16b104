// Stops a benchmark's processes on SIGINT or SIGTERM. The first signal runs the
// benchmark's clean-up (stop every process it started, remove its data directory) and
// exits 130, as a shell reports a command ended by Ctrl-C; the benchmark reads
// `interrupted` meanwhile so that it starts nothing new. The clean-up runs once: a
// benchmark that ends while a signal's clean-up is under way waits for that one, rather
// than exiting before it has removed the data directory.

export interface Interruption {
  readonly interrupted: boolean;
  /** Runs the clean-up, or returns the one already running. */
  cleanUp(): Promise<void>;
}

export function cleanUpOnInterrupt(cleanUp: () => Promise<void>): Interruption {
  let interrupted = false;
  let cleaning: Promise<void> | undefined;
  const cleanUpOnce = (): Promise<void> => (cleaning ??= cleanUp());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${signal}: stopping everything that was started...`);
      void cleanUpOnce().finally(() => process.exit(130));
    });
  }
  return {
    get interrupted() {
      return interrupted;
    },
    cleanUp: cleanUpOnce,
  };
}
