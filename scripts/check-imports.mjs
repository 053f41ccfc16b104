#!/usr/bin/env node
// Fails when the compiled modules under dist/src import each other in a cycle.
// A cycle between layers means a port has leaked into an adapter or the other way
// round; catching it in `npm test` keeps the architecture that the tree shows honest.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'dist/src');
const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g;

function listModules(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listModules(path);
    return path.endsWith('.js') ? [path] : [];
  });
}

const graph = new Map();
for (const file of listModules(root)) {
  const text = readFileSync(file, 'utf8');
  const edges = [];
  for (const match of text.matchAll(importPattern)) {
    // `import type` is erased by the compiler, so only runtime imports reach here.
    edges.push(resolve(dirname(file), match[1]));
  }
  graph.set(file, edges);
}

const state = new Map(); // undefined = unvisited, 1 = on the stack, 2 = done
const cycles = [];
function visit(node, stack) {
  state.set(node, 1);
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    if (!graph.has(next)) continue;
    if (state.get(next) === 1) cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (state.get(next) === undefined) visit(next, stack);
  }
  stack.pop();
  state.set(node, 2);
}
for (const node of graph.keys()) if (state.get(node) === undefined) visit(node, []);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error('import cycle: ' + cycle.map((p) => p.slice(root.length + 1)).join(' -> '));
  process.exit(1);
}
console.log(`check-imports: ${graph.size} modules, no import cycles`);
