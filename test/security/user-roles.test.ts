// Users, roles and the role each client-port method needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigInvalidError } from '../../src/errors/errors.js';
import { BUILT_IN_ADMIN, UserRoles, loadUsersFile, parseUsers } from '../../src/security/user-roles.js';
import { ANY_IDENTITY_METHODS, roleNeededFor } from '../../src/security/method-roles.js';
import { tempDir } from '../support/temp-dir.js';

test('write and admin include read; neither includes the other; unknown users hold nothing', () => {
  const users = new UserRoles([
    { name: 'reader', roles: ['read'] },
    { name: 'writer', roles: ['write'] },
    { name: 'operator', roles: ['admin'] },
  ]);
  assert.equal(users.allows('reader', 'read'), true);
  assert.equal(users.allows('reader', 'write'), false);
  assert.equal(users.allows('reader', 'admin'), false);
  assert.equal(users.allows('writer', 'read'), true);
  assert.equal(users.allows('writer', 'write'), true);
  assert.equal(users.allows('writer', 'admin'), false);
  assert.equal(users.allows('operator', 'admin'), true);
  assert.equal(users.allows('operator', 'read'), true, 'an operator looks at the cluster (Status) before changing it');
  assert.equal(users.allows('operator', 'write'), false);
  assert.equal(users.allows('stranger', 'read'), false);
});

test('the built-in admin holds every role, whatever the list says', () => {
  const users = new UserRoles([{ name: BUILT_IN_ADMIN, roles: ['read'] }]);
  for (const role of ['read', 'write', 'admin'] as const) assert.equal(users.allows(BUILT_IN_ADMIN, role), true);
});

test('a users list with a bad name, an unknown role or a duplicate is refused with the place named', () => {
  const refused = (value: unknown, pattern: RegExp): void => {
    assert.throws(() => parseUsers(value, 'spec.users'), (error: unknown) => error instanceof ConfigInvalidError && pattern.test(error.message));
  };
  refused({ users: [] }, /spec.users must be a list/);
  refused([{ name: 'Alice', roles: ['read'] }], /spec.users\[0\]\.name/);
  refused([{ name: 'alice', roles: ['superuser'] }], /"superuser" is not one of read, write, admin/);
  refused([{ name: 'alice', roles: 'read' }], /spec.users\[0\]\.roles must be a non-empty list/);
  refused([{ name: 'alice', roles: ['read'] }, { name: 'alice', roles: ['write'] }], /listed twice/);
  assert.deepEqual(parseUsers([{ name: 'alice', roles: ['read', 'admin'] }], 'spec.users'), [{ name: 'alice', roles: ['read', 'admin'] }]);
});

test('a users file is read, and a damaged one names the file', async () => {
  const dir = await tempDir();
  await mkdir(dir, { recursive: true });
  const good = join(dir, 'users.json');
  await writeFile(good, JSON.stringify({ users: [{ name: 'alice', roles: ['write'] }] }));
  assert.deepEqual(await loadUsersFile(good), [{ name: 'alice', roles: ['write'] }]);
  const bad = join(dir, 'bad.json');
  await writeFile(bad, '{"users": [');
  await assert.rejects(loadUsersFile(bad), (error: unknown) => error instanceof ConfigInvalidError && error.message.includes(bad));
  await assert.rejects(loadUsersFile(join(dir, 'missing.json')), (error: unknown) => error instanceof ConfigInvalidError && /cannot be read/.test(error.message));
});

test('every client-port method needs a role, health only a certificate, and an unlisted method needs admin', () => {
  assert.equal(roleNeededFor('/quorumkv.v1.KV/Get'), 'read');
  assert.equal(roleNeededFor('/quorumkv.v1.KV/BatchGet'), 'read');
  assert.equal(roleNeededFor('/quorumkv.v1.KV/Put'), 'write');
  assert.equal(roleNeededFor('/quorumkv.v1.KV/Delete'), 'write');
  assert.equal(roleNeededFor('/quorumkv.v1.KV/BatchPut'), 'write');
  assert.equal(roleNeededFor('/quorumkv.v1.Admin/Status'), 'read');
  for (const method of ['Repair', 'Cleanup', 'Decommission', 'Forget', 'Backup', 'Restore']) assert.equal(roleNeededFor(`/quorumkv.v1.Admin/${method}`), 'admin');
  assert.equal(roleNeededFor('/quorumkv.v1.Admin/SomethingNew'), 'admin');
  assert.equal(roleNeededFor('/quorumkv.v1.Replica/Apply'), 'admin');
  assert.equal(ANY_IDENTITY_METHODS.has('/grpc.health.v1.Health/Check'), true);
  assert.equal(ANY_IDENTITY_METHODS.has('/quorumkv.v1.KV/Get'), false);
});
