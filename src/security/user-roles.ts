// Who may do what on the client port. A client is known by the user name in its client
// certificate (src/security/certificate-identity.ts); a user holds roles:
//   read   Get, BatchGet, and the Admin calls that only look (Status, Ring)
//   write  everything `read` may, and Put, Delete, BatchPut
//   admin  everything `read` may, and the Admin calls that change the cluster: repair,
//          cleanup, decommission. It includes `read` because no one can operate a
//          cluster without looking at it (the scale controller polls Status); it does
//          not include `write`: operating the cluster is not changing its data.
// Users come from a JSON file (`qkv server --users-file`) or the QuorumKVCluster's
// spec.users, applied live. The built-in user `admin` always holds every role, like
// CockroachDB's root: a typo in the users list must not lock the operator out.
import { readFile } from 'node:fs/promises';
import { ConfigInvalidError } from '../errors/errors.js';
import { CERTIFICATE_NAME_CHARS_MAX, USERS_MAX } from '../limits.js';
import { IDENTITY_NAME_PATTERN } from './certificate-identity.js';

export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The user every cluster has, with every role; the CLI's default identity. */
export const BUILT_IN_ADMIN = 'admin';

export interface UserEntry {
  readonly name: string;
  readonly roles: readonly Role[];
}

/**
 * A user name: what follows `quorumkv://user/` in a client certificate, so exactly the
 * names a certificate can carry (src/security/certificate-identity.ts): 1..63 of a-z,
 * 0-9, '.', '_' and '-', starting with a letter or digit. The CRD and the chart's values
 * schema state the same pattern and length (a test keeps them equal).
 */
export const USER_NAME_PATTERN = IDENTITY_NAME_PATTERN;
export const USER_NAME_LENGTH_MAX = CERTIFICATE_NAME_CHARS_MAX;

export class UserRoles {
  private readonly roles: ReadonlyMap<string, ReadonlySet<Role>>;

  constructor(users: readonly UserEntry[]) {
    const roles = new Map<string, ReadonlySet<Role>>();
    for (const user of users) roles.set(user.name, new Set(user.roles));
    roles.set(BUILT_IN_ADMIN, new Set(ROLES));
    this.roles = roles;
  }

  /** Whether `user` may do what `role` allows; `write` and `admin` include `read`. */
  allows(user: string, role: Role): boolean {
    const held = this.roles.get(user);
    if (held === undefined) return false;
    if (held.has(role)) return true;
    return role === 'read' && (held.has('write') || held.has('admin'));
  }

  get size(): number {
    return this.roles.size;
  }
}

/**
 * A users list from any source: [{name, roles}], names unique, roles from ROLES without
 * repeats, nothing else. `where` names the list in errors (`spec.users`, or the file).
 */
export function parseUsers(value: unknown, where = 'spec.users'): UserEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigInvalidError(`${where} must be a list of {name, roles}, got ${JSON.stringify(value)?.slice(0, 200)}`);
  if (value.length > USERS_MAX) throw new ConfigInvalidError(`${where} has ${value.length} entries; at most ${USERS_MAX}`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    const path = `${where}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigInvalidError(`${path} must be an object {name, roles}, got ${JSON.stringify(entry)?.slice(0, 200)}`);
    const { name, roles, ...rest } = entry as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ConfigInvalidError(`${path} has unknown field(s) ${unknown.join(', ')}; known: name, roles`);
    if (typeof name !== 'string' || name.length === 0 || name.length > USER_NAME_LENGTH_MAX || !USER_NAME_PATTERN.test(name)) {
      throw new ConfigInvalidError(`${path}.name must be 1 to ${USER_NAME_LENGTH_MAX} of a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(name)?.slice(0, 100)}`);
    }
    if (seen.has(name)) throw new ConfigInvalidError(`${path}.name "${name}" is listed twice`);
    seen.add(name);
    if (!Array.isArray(roles) || roles.length === 0) throw new ConfigInvalidError(`${path}.roles must be a non-empty list of ${ROLES.join(', ')}, got ${JSON.stringify(roles)?.slice(0, 200)}`);
    const checked: Role[] = [];
    for (const role of roles as unknown[]) {
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw new ConfigInvalidError(`${path}.roles: ${JSON.stringify(role)?.slice(0, 100)} is not one of ${ROLES.join(', ')} (user "${name}")`);
      if (checked.includes(role as Role)) throw new ConfigInvalidError(`${path}.roles lists "${role}" twice (user "${name}")`);
      checked.push(role as Role);
    }
    return { name, roles: checked };
  });
}

/** Reads a users file: `{"users": [{"name": "alice", "roles": ["read"]}]}`. */
export async function loadUsersFile(path: string): Promise<UserEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigInvalidError(`users file ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigInvalidError(`users file ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new ConfigInvalidError(`users file ${path} must hold an object with a users list`);
  return parseUsers((parsed as { users?: unknown }).users ?? null, `users file ${path}: users`);
}
