#!/usr/bin/env node
// Runs the compiled `*.test.js` files under dist/test with Node's test runner, one tier
// or all of them (scripts/test-tiers.mjs says which file is in which tier):
//   node scripts/run-tests.mjs                         every tier (npm test)
//   node scripts/run-tests.mjs --tier fast [--tier process ...]
//   node scripts/run-tests.mjs --list [--tier ...]      print the files, run nothing
// Files are listed explicitly because, given a directory, Node 20 also runs every .js
// file under any `test/` folder — support modules and child-process fixtures included.
// Before running anything it checks that every compiled test file is in exactly one
// tier, so no test is silently left out of every tier. Other arguments (e.g.
// --test-name-pattern=...) are passed through to node --test.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TIER_ORDER, classify } from './test-tiers.mjs';

function listTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

function parseArguments(argv) {
  const tiers = [];
  const passThrough = [];
  let list = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--tier') {
      tiers.push(argv[index + 1]);
      index += 1;
    } else if (argument === '--list') {
      list = true;
    } else if (argument.startsWith('--tier=')) {
      tiers.push(argument.slice('--tier='.length));
    } else {
      passThrough.push(argument);
    }
  }
  return { tiers, passThrough, list };
}

const { tiers, passThrough, list } = parseArguments(process.argv.slice(2));
const unknown = tiers.filter((tier) => !TIER_ORDER.includes(tier));
if (unknown.length > 0) {
  console.error(`run-tests: unknown tier ${unknown.join(', ')}; the tiers are ${TIER_ORDER.join(', ')}`);
  process.exit(2);
}

const { byTier, problems } = classify(listTests('dist/test').sort());
if (problems.length > 0) {
  for (const problem of problems) console.error(`run-tests: ${problem}`);
  process.exit(1);
}

const selected = tiers.length > 0 ? TIER_ORDER.filter((tier) => tiers.includes(tier)) : TIER_ORDER;
if (list) {
  for (const tier of selected) for (const file of byTier[tier]) console.log(`${tier}\t${file}`);
  process.exit(0);
}
const files = selected.flatMap((tier) => byTier[tier]);
console.log(`run-tests: ${selected.map((tier) => `${tier} (${byTier[tier].length} files)`).join(', ')}`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
