// `qkv server`: runs one node until SIGTERM or SIGINT, then drains it (see
// src/node/quorum-node.ts) and exits 0. Configuration comes from flags, QKV_*
// environment variables and an optional JSON file (src/config). A configuration or
// start-up problem is one line on stderr and a non-zero exit, never a stack trace.
import { loadNodeConfig, nodeConfigUsage } from '../../config/load-config.js';
import { isQkvError } from '../../errors/errors.js';
import { createNodeLogger } from '../../node/node-logger.js';
import { QuorumNode } from '../../node/quorum-node.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from '../cli-io.js';

export const SERVER_USAGE = `usage: qkv server [flags]

Runs one quorumkv node. Every flag has a QKV_* environment variable and a key in the
JSON config file; flags win over the environment, which wins over the file.

${nodeConfigUsage()}
`;

export async function runServer(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(SERVER_USAGE);
    return EXIT_OK;
  }
  let config;
  try {
    config = loadNodeConfig({ argv: args, env: io.env });
  } catch (error) {
    io.stderr.write(`qkv server: ${isQkvError(error) ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_USAGE;
  }
  const logger = createNodeLogger({ nodeId: config.nodeId, level: config.logLevel, pretty: config.logPretty });

  // A signal that arrives while the node is still starting is remembered and honoured
  // as soon as it is up, so a quick Ctrl-C never leaves a half-open store behind.
  let requestStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'already draining; the drain timeout bounds how long it takes');
      return;
    }
    signalled = true;
    requestStop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // Set when the running node finds it cannot go on (it was forgotten while away): it
  // drains and the process exits with a failure, so a supervisor shows why.
  let fatal: Error | undefined;
  const onFatal = (error: Error): void => {
    fatal ??= error;
    requestStop('fatal');
  };

  try {
    let node: QuorumNode;
    try {
      node = await QuorumNode.start(config, logger, { setLogLevel: (level) => (logger.level = level), onFatal });
    } catch (error) {
      logger.error({ err: error }, 'start failed');
      const message = error instanceof Error ? error.message : String(error);
      io.stderr.write(`qkv server: ${isQkvError(error) ? `${error.code}: ` : ''}${message}\n`);
      return EXIT_FAILURE;
    }
    await node.drain(await stopRequested);
    if (fatal !== undefined) {
      io.stderr.write(`qkv server: ${isQkvError(fatal) ? `${fatal.code}: ` : ''}${fatal.message}\n`);
      return EXIT_FAILURE;
    }
  } catch (error) {
    logger.error({ err: error }, 'drain failed');
    return EXIT_FAILURE;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return EXIT_OK;
}
