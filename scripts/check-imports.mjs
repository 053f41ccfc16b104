#!/usr/bin/env node
// Fails when src/ breaks its architecture: a directory that imports a higher layer, a
// cycle between directories or between modules, the client reaching past the protocol,
// or anyone but the assembly opening a storage engine. The rules and the layer order are
// in .dependency-cruiser.mjs (docs/decisions/0115-layers-checked-by-a-tool.md).
//
// dependency-cruiser reads the TypeScript sources rather than the compiled output, so
// `import type` counts: a type-only edge ties two directories together as firmly as a
// runtime one, and the compiled .js files would not show it.
import { resolve } from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

// The project in the working directory is checked (test/architecture runs the script on
// small trees of its own).
const configFile = '.dependency-cruiser.mjs';
const options = await extractDepcruiseOptions(resolve(configFile));
const { output, exitCode } = await cruise(['src'], { ...options, outputType: 'err' }, {}, { tsConfig: extractTSConfig('tsconfig.json') });
if (exitCode !== 0) {
  console.error(output);
  console.error(`check-imports: src/ breaks the architecture rules of ${configFile} (above)`);
  process.exit(1);
}
console.log(`check-imports: ${output.trim()}`);
