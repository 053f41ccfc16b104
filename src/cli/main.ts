#!/usr/bin/env node
// The `qkv` command. It dispatches to one command module and owns the one rule every
// command keeps: an operating error is one clear line on stderr (`qkv: CODE: message`)
// and a non-zero exit code, never a stack trace. Exit codes: src/cli/cli-io.ts.
import { isQkvError } from '../errors/errors.js';
import { softwareVersion } from '../node/software-version.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from './cli-io.js';
import { CLIENT_USAGE, runBackup, runCleanup, runRestore, runDecommission, runDelete, runForget, runGet, runPut, runRepair, runRingView, runStatus } from './commands/client-commands.js';
import { runBenchCommand } from './commands/bench-command.js';
import { CERTS_USAGE, runCerts } from './commands/certs-command.js';
import { runController } from './commands/controller-command.js';
import { runLocalCluster } from './commands/local-cluster-command.js';
import { runRingSimulate } from './commands/ring-simulate.js';
import { runServer } from './commands/server-command.js';

const USAGE = `usage: qkv <command> [flags]

${CLIENT_USAGE}

Node commands:
  qkv server [flags]          run one node (qkv server --help lists every flag)
  qkv local-cluster           run a 3-node cluster on localhost (what npm start runs); with
                              --in-memory --nodes N, N nodes in one process, data in memory
  qkv controller [flags]      size a StatefulSet to its QuorumKVCluster's spec.replicas, decommissioning
                              members before they are removed (qkv controller --help lists every flag)
  qkv ring simulate [flags]   compare placement strategies offline: --strategy modulo|consistent|virtual|all,
                              --nodes, --keys, --vnodes, --replicas, --node-prefix, --json

${CERTS_USAGE}

Benchmark:
  qkv bench [flags]           YCSB-style workloads against quorumkv, etcd, redis or a no-op
                              gRPC server (qkv bench --help lists every flag)

Exit codes: 0 ok, 1 operating error, 2 usage error, 3 key not found.
`;

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  put: runPut,
  get: runGet,
  delete: runDelete,
  status: runStatus,
  repair: runRepair,
  decommission: runDecommission,
  forget: runForget,
  cleanup: runCleanup,
  backup: runBackup,
  restore: runRestore,
  ring: (args, io) => (args[0] === 'simulate' ? runRingSimulate(args.slice(1), io.stdout, io.stderr) : runRingView(args, io)),
  server: runServer,
  'local-cluster': runLocalCluster,
  controller: runController,
  bench: runBenchCommand,
  certs: runCerts,
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(USAGE);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === 'version') {
    io.stdout.write(`qkv ${softwareVersion()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`qkv: unknown command ${JSON.stringify(name)}; run 'qkv help'\n`);
    return EXIT_USAGE;
  }
  try {
    return await command(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr.write(`qkv: ${(error as Error).message}; run 'qkv help'\n`);
    return EXIT_USAGE;
  }
  if (isQkvError(error)) {
    io.stderr.write(`qkv: ${error.code}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  // Not an operating error: a bug. Still one line, plus where to look.
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`qkv: internal error: ${message} (set QKV_DEBUG=1 for details)\n`);
  if (io.env['QKV_DEBUG'] === '1' && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT_FAILURE;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
const code = await main(process.argv.slice(2), io);
// Exit explicitly: client channels and keepalive timers must not keep a finished
// command alive, and a drained server has nothing left to flush (logs are synchronous).
process.stdout.write('', () => process.exit(code));
