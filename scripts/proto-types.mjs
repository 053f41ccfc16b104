#!/usr/bin/env node
// Generates the TypeScript types of proto/quorumkv/v1 into src/protocol/generated, or, with
// `--check`, generates them into a temporary directory and fails when the committed
// copy differs. `npm test` runs the check so a .proto edit without a regeneration
// cannot land. The options here must match the proto-loader options in
// src/protocol/proto-package.ts (longs as String, enums as String, defaults on).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package's main module is build/src/index.js; the generator sits in build/bin.
const generator = resolve(require.resolve('@grpc/proto-loader'), '..', '..', 'bin', 'proto-loader-gen-types.js');
const committed = resolve('src/protocol/generated');
// Only the files with services are roots; the shared messages come in through imports,
// which keeps the generator from emitting a root file with unused declarations.
const roots = ['quorumkv/v1/kv.proto', 'quorumkv/v1/admin.proto', 'quorumkv/v1/replica.proto'];

function generate(outDir) {
  execFileSync(process.execPath, [
    generator,
    '--longs=String', '--enums=String', '--defaults', '--oneofs',
    '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js',
    '-I', 'proto', '-O', outDir, ...roots,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

if (!process.argv.includes('--check')) {
  rmSync(committed, { recursive: true, force: true });
  generate(committed);
  console.log(`proto-types: generated ${listFiles(committed).length} files into ${relative('.', committed)}`);
  process.exit(0);
}

const fresh = mkdtempSync(join(tmpdir(), 'qkv-proto-types-'));
try {
  generate(fresh);
  const want = new Map(listFiles(fresh).map((p) => [relative(fresh, p), readFileSync(p, 'utf8')]));
  const have = new Map(listFiles(committed).map((p) => [relative(committed, p), readFileSync(p, 'utf8')]));
  const problems = [];
  for (const [path, text] of want) {
    if (!have.has(path)) problems.push(`missing: ${path}`);
    else if (have.get(path) !== text) problems.push(`differs: ${path}`);
  }
  for (const path of have.keys()) if (!want.has(path)) problems.push(`not generated: ${path}`);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`proto-types: ${problem}`);
    console.error('proto-types: src/protocol/generated is stale; run `npm run proto:gen` and commit the result');
    process.exit(1);
  }
  console.log(`proto-types: ${want.size} generated files match the .proto sources`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
