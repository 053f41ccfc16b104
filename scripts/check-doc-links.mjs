#!/usr/bin/env node
// Fails when a relative link in a Markdown file of the repository points nowhere: a file
// or directory that does not exist, or a `#fragment` that names no heading of the target
// file. Docs move (docs/operations, docs/reference, docs/decisions) and headings get
// renamed; this keeps every link that `npm test` can see honest. Links to other sites
// (http:, https:, mailto:) are not fetched. Fenced code blocks and inline code are
// skipped, since they show commands, not links.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'data', '.git']);

function markdownFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    if (SKIPPED_DIRECTORIES.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code spans. */
function proseOf(markdown) {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slugOf(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const anchorsByFile = new Map();
function anchorsOf(file) {
  if (!anchorsByFile.has(file)) {
    const seen = new Map();
    const anchors = new Set();
    const withoutFences = readFileSync(file, 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
    for (const match of withoutFences.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
      const slug = slugOf(match[1]);
      const count = seen.get(slug) ?? 0;
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
      seen.set(slug, count + 1);
    }
    anchorsByFile.set(file, anchors);
  }
  return anchorsByFile.get(file);
}

const problems = [];
for (const file of markdownFiles(ROOT)) {
  const prose = proseOf(readFileSync(file, 'utf8'));
  for (const match of prose.matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
    const target = match[1];
    if (/^[a-z]+:/i.test(target)) continue;
    const [pathPart, fragment] = target.split('#', 2);
    const targetFile = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(ROOT, file)}: (${target})`;
    if (!existsSync(targetFile)) {
      problems.push(`${where}: no such file`);
    } else if (!targetFile.startsWith(ROOT)) {
      problems.push(`${where}: points outside the repository`);
    } else if (fragment !== undefined && targetFile.endsWith('.md') && !anchorsOf(targetFile).has(fragment)) {
      problems.push(`${where}: no heading with the anchor #${fragment}`);
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-doc-links: ${problem}`);
  process.exit(1);
}
