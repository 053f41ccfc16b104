#!/usr/bin/env node
// Temporary entry point of the `qkv` command: it knows only `qkv ring simulate`. The CLI
// proper replaces this dispatcher with the full command set; until then it stays this
// small on purpose.
import { runRingSimulate } from './commands/ring-simulate.js';

const USAGE = 'usage: qkv ring simulate [--strategy modulo|consistent|virtual|all] [--nodes n] [--keys n] [--vnodes n] [--replicas n] [--json]\n';

const [group, command, ...rest] = process.argv.slice(2);
if (group === 'ring' && command === 'simulate') {
  process.exitCode = await runRingSimulate(rest, process.stdout, process.stderr);
} else {
  process.stderr.write(USAGE);
  process.exitCode = 2;
}
