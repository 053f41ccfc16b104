#!/usr/bin/env node
// Keeps docs/decisions/README.md, the index of the architecture decision records, equal
// to the ADRs themselves: every `NNNN-*.md` file has one row, every row names an ADR
// that exists, and the row's title, status and date are the ones the ADR states under
// its title (`Status: Accepted. Date: YYYY-MM-DD.`). An ADR without that line fails
// too, so the index can always be built from the files.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const DECISIONS = resolve(dirname(new URL(import.meta.url).pathname), '..', 'docs', 'decisions');
const INDEX = join(DECISIONS, 'README.md');
const TITLE_LINE = /^# (\d{4})(?: —|\.) (.+)$/;
// The status word's case is not checked: "accepted" and "Accepted" are the same status.
const STATUS_LINE = /^Status: (Proposed|Accepted|Deprecated|Superseded by \d{4})\. Date: (\d{4}-\d{2}-\d{2})\.$/i;
const INDEX_ROW = /^\| \[(\d{4})\]\(([^)]+)\) \| (.+) \| (.+) \| (\d{4}-\d{2}-\d{2}) \|$/;

const problems = [];

/** What one ADR file says about itself, or undefined after recording why it cannot be read. */
function adrOf(name) {
  const lines = readFileSync(join(DECISIONS, name), 'utf8').split('\n');
  const title = TITLE_LINE.exec(lines[0]);
  if (title === null) {
    problems.push(`${name}: the first line is not "# NNNN. Title"`);
    return undefined;
  }
  if (!name.startsWith(`${title[1]}-`)) problems.push(`${name}: the title's number ${title[1]} is not the file's`);
  const status = STATUS_LINE.exec(lines[2] ?? '');
  if (lines[1] !== '' || status === null) {
    problems.push(`${name}: the third line must be "Status: Accepted. Date: YYYY-MM-DD." after an empty line`);
    return undefined;
  }
  return { number: title[1], title: title[2], status: status[1], date: status[2] };
}

const adrFiles = readdirSync(DECISIONS).filter((name) => /^\d{4}-.+\.md$/.test(name)).sort();
const rows = new Map();
for (const line of readFileSync(INDEX, 'utf8').split('\n')) {
  const row = INDEX_ROW.exec(line);
  if (row === null) continue;
  const [, number, file, title, status, date] = row;
  if (rows.has(file)) problems.push(`README.md lists ${file} twice`);
  rows.set(file, { number, title, status, date });
}

for (const name of adrFiles) {
  const adr = adrOf(name);
  const row = rows.get(name);
  if (row === undefined) {
    problems.push(`${name} is missing from docs/decisions/README.md`);
    continue;
  }
  if (adr === undefined) continue;
  if (row.number !== adr.number) problems.push(`README.md: the row of ${name} says ${row.number}, the ADR ${adr.number}`);
  if (row.title !== adr.title) problems.push(`README.md: the title of ${name} is "${adr.title}", the row says "${row.title}"`);
  if (row.status.toLowerCase() !== adr.status.toLowerCase()) {
    problems.push(`README.md: the status of ${name} is "${adr.status}", the row says "${row.status}"`);
  }
  if (row.date !== adr.date) problems.push(`README.md: the date of ${name} is ${adr.date}, the row says ${row.date}`);
}
for (const file of rows.keys()) {
  if (!adrFiles.includes(file)) problems.push(`README.md lists ${file}, which is not an ADR in docs/decisions`);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`check-adr-index: ${problem}`);
  process.exit(1);
}
