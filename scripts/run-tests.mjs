#!/usr/bin/env node
// Runs every compiled `*.test.js` under dist/test with Node's test runner. Files are
// listed explicitly because, given a directory, Node 20 also runs every .js file under
// any `test/` folder — support modules and child-process fixtures included.
// Extra arguments (e.g. --test-name-pattern=...) are passed through.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function listTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = listTests('dist/test').sort();
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...process.argv.slice(2), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
