// The layer check (scripts/check-imports.mjs with the rules of .dependency-cruiser.mjs,
// docs/decisions/0115-layers-checked-by-a-tool.md) run on small trees of its own: it
// passes a tree that keeps the order and fails one with a single bad import. The bad
// imports are `import type`, which the compiler erases; the check exists because the
// old one, reading compiled output, could not see them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.js';

const repositoryFile = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** Files of a tree that keeps the layer order: replica (higher) uses storage (lower). */
const ORDERED_TREE: Record<string, string> = {
  'src/storage/record.ts': 'export interface KvRecord { readonly key: string }\n',
  'src/replica/peer-liveness.ts':
    "import type { KvRecord } from '../storage/record.js';\nexport interface PeerLiveness { last(): KvRecord | undefined }\n",
  'src/clock/hybrid-logical-clock.ts': 'export interface Stamp { readonly wallMs: number }\n',
  'src/logging/logger.ts': "import type { Stamp } from '../clock/hybrid-logical-clock.js';\nexport interface Logger { info(at: Stamp): void }\n",
};

async function check(files: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const root = await tempDir(undefined, 'qkv-layers-');
  await copyFile(repositoryFile('.dependency-cruiser.mjs'), join(root, '.dependency-cruiser.mjs'));
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts'] }),
  );
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const result = spawnSync(process.execPath, [repositoryFile('scripts/check-imports.mjs')], { cwd: root, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('layer check', () => {
  it('passes a tree whose imports point down the layer order', async () => {
    const { status, output } = await check(ORDERED_TREE);
    assert.equal(status, 0, output);
  });

  it('fails a type-only import of a higher layer, and the directory cycle it closes', async () => {
    const { status, output } = await check({
      ...ORDERED_TREE,
      'src/storage/record.ts':
        "import type { PeerLiveness } from '../replica/peer-liveness.js';\nexport interface KvRecord { readonly key: string; readonly seenBy?: PeerLiveness }\n",
    });
    assert.equal(status, 1, output);
    assert.match(output, /layer-storage: src\/storage\/record\.ts → src\/replica\/peer-liveness\.ts/);
    assert.match(output, /no-directory-cycle/);
  });

  it('fails a type-only cycle between two directories of the same layer', async () => {
    const { status, output } = await check({
      ...ORDERED_TREE,
      'src/clock/hybrid-logical-clock.ts':
        "import type { Logger } from '../logging/logger.js';\nexport interface Stamp { readonly wallMs: number; readonly loggedBy?: Logger }\n",
    });
    assert.equal(status, 1, output);
    assert.match(output, /no-directory-cycle: src\/(clock|logging) →/);
    assert.doesNotMatch(output, /layer-/);
  });

  it('fails the client reaching past the protocol', async () => {
    const { status, output } = await check({
      ...ORDERED_TREE,
      'src/client/kv-client.ts': "import type { KvRecord } from '../storage/record.js';\nexport type ClientRecord = KvRecord;\n",
    });
    assert.equal(status, 1, output);
    assert.match(output, /client-only-protocol: src\/client\/kv-client\.ts → src\/storage\/record\.ts/);
  });

  it('fails a directory that has no place in the layer order', async () => {
    const { status, output } = await check({
      ...ORDERED_TREE,
      'src/assembly/parts.ts': "import type { Logger } from '../logging/logger.js';\nexport type PartLogger = Logger;\n",
    });
    assert.equal(status, 1, output);
    assert.match(output, /not-in-a-layer: src\/assembly\/parts\.ts → src\/logging\/logger\.ts/);
  });
});
