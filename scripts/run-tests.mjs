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
//
// The e2e tier shares one real single-node Kubernetes: it is brought up with
// scripts/k8s-cluster.sh before the tier's files run (their kubeconfig in
// QKV_E2E_KUBECONFIG) and torn down after them, also when they fail or the run is
// interrupted. When it cannot come up, the files are told why (QKV_E2E_UNAVAILABLE) and
// skip, or, under QKV_E2E_REQUIRED=1 (CI), fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
console.log(`run-tests: ${selected.map((tier) => `${tier} (${byTier[tier].length} files)`).join(', ')}`);

function runFiles(files, env = process.env) {
  if (files.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    // --test-force-exit: a test file whose tests are done exits even if something it started
    // still runs (a writer left spinning by a failed test would otherwise hold CI until
    // its time limit); --test-timeout: a test without a timeout of its own fails after
    // 15 minutes instead of waiting forever.
    ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-force-exit', '--test-timeout=900000', ...passThrough, ...files],
    { stdio: 'inherit', env },
  );
  return result.status ?? 1;
}

function runE2eTier(files) {
  if (files.length === 0) return 0;
  const stateDir = mkdtempSync(join(tmpdir(), 'qkv-e2e-cluster-'));
  const script = join('scripts', 'k8s-cluster.sh');
  const down = () => spawnSync('bash', [script, 'down', stateDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  // An interrupted run still tears the cluster down: the signal reaches the test
  // runner too (same process group), and this process waits for it, then cleans up.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
  const started = Date.now();
  const up = spawnSync('bash', [script, 'up', stateDir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const env = { ...process.env };
  if (up.status === 0) {
    env.QKV_E2E_KUBECONFIG = up.stdout.trim().split('\n').at(-1);
    console.log(`run-tests: e2e cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } else {
    env.QKV_E2E_UNAVAILABLE = `the e2e cluster did not come up (scripts/k8s-cluster.sh up exited ${up.status}; its output is above)`;
  }
  let status = 1;
  try {
    status = runFiles(files, env);
    if (up.status !== 0 && process.env.QKV_E2E_REQUIRED === '1') status = 1;
  } finally {
    const stopped = down();
    if (stopped.status !== 0) status = 1;
    // The components' logs stay for a failed run (a failed teardown is one).
    if (status === 0) rmSync(stateDir, { recursive: true, force: true });
    else console.log(`run-tests: the e2e cluster's logs are in ${join(stateDir, 'logs')}`);
  }
  return status;
}

const otherFiles = selected.filter((tier) => tier !== 'e2e').flatMap((tier) => byTier[tier]);
let status = runFiles(otherFiles);
if (selected.includes('e2e')) {
  const e2eStatus = runE2eTier(byTier.e2e);
  if (status === 0) status = e2eStatus;
}
process.exit(status);
