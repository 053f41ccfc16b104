// Retention keeps the newest `retention` succeeded scheduled backups, and the newest set
// that read every member even when it is older than those.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupsBeyondRetention } from '../../src/controller/backup-retention.js';

const complete = (name: string, scheduledAtMs: number) => ({ name, scheduledAtMs, missingMembers: [] });
const lacking = (name: string, scheduledAtMs: number) => ({ name, scheduledAtMs, missingMembers: ['qkv-2'] });
const names = (backups: readonly { name: string }[]): string[] => backups.map((backup) => backup.name);

test('beyond the newest `retention` succeeded backups, the older ones go, newest first in the answer', () => {
  const backups = [complete('b1', 1), complete('b3', 3), complete('b2', 2), complete('b4', 4)];
  assert.deepEqual(names(backupsBeyondRetention(backups, 2)), ['b2', 'b1']);
  assert.deepEqual(names(backupsBeyondRetention(backups, 4)), []);
  assert.deepEqual(names(backupsBeyondRetention([], 3)), []);
});

test('a member down for longer than retention does not take the last complete set with it', () => {
  const backups = [complete('b1', 1), complete('b2', 2), lacking('b3', 3), lacking('b4', 4), lacking('b5', 5)];
  // b2 is the newest set that read every member: it stays beside the newest two.
  assert.deepEqual(names(backupsBeyondRetention(backups, 2)), ['b3', 'b1']);
});

test('once a newer complete set exists, the older complete one goes as usual', () => {
  const backups = [complete('b1', 1), lacking('b2', 2), lacking('b3', 3), complete('b4', 4)];
  assert.deepEqual(names(backupsBeyondRetention(backups, 2)), ['b2', 'b1']);
});

test('with no complete set at all, retention keeps the newest sets that lack members', () => {
  const backups = [lacking('b1', 1), lacking('b2', 2), lacking('b3', 3)];
  assert.deepEqual(names(backupsBeyondRetention(backups, 1)), ['b2', 'b1']);
});
