// Who may do what on the client port. A client is known by the user name in its client
// certificate (src/security/certificate-identity.ts); a user holds roles:
//   read   Get, BatchGet, the KV stream's reads, and the read-only Admin calls
//   write  everything `read` may, and Put, Delete, BatchPut
//   admin  the Admin calls that change the cluster: repair, cleanup, decommission
// Users come from a JSON file (`qkv server --users-file`) or the QuorumKVCluster's
// spec.users, applied live. The built-in user `admin` always holds every role, like
// CockroachDB's root: a typo in the users list must not lock the operator out.
import { readFile } from 'node:fs/promises';
import { ConfigInvalidError } from '../errors/errors.js';
import { USERS_MAX } from '../limits.js';

export const ROLES = ['read', 'write', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The user every cluster has, with every role; the CLI's default identity. */
export const BUILT_IN_ADMIN = 'admin';

export interface UserEntry {
  readonly name: string;
  readonly roles: readonly Role[];
}

/** The same character set as node ids: it travels in a certificate URI. */
const USER_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class UserRoles {
  private readonly roles: ReadonlyMap<string, ReadonlySet<Role>>;

  constructor(users: readonly UserEntry[]) {
    const roles = new Map<string, ReadonlySet<Role>>();
    for (const user of users) roles.set(user.name, new Set(user.roles));
    roles.set(BUILT_IN_ADMIN, new Set(ROLES));
    this.roles = roles;
  }

  /** Whether `user` may do what `role` allows; `write` includes `read`. */
  allows(user: string, role: Role): boolean {
    const held = this.roles.get(user);
    if (held === undefined) return false;
    if (held.has(role)) return true;
    return role === 'read' && held.has('write');
  }

  get size(): number {
    return this.roles.size;
  }
}

/** Checks a users list from any source; `where` names the source in errors. */
export function parseUsers(value: unknown, where: string): UserEntry[] {
  if (!Array.isArray(value)) throw new ConfigInvalidError(`${where}: users must be a list of {name, roles}`);
  if (value.length > USERS_MAX) throw new ConfigInvalidError(`${where}: ${value.length} users; the limit is ${USERS_MAX}`);
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const path = `${where}: users[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigInvalidError(`${path} must be an object with name and roles`);
    const { name, roles } = entry as { name?: unknown; roles?: unknown };
    if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
      throw new ConfigInvalidError(`${path}.name must be 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit`);
    }
    if (seen.has(name)) throw new ConfigInvalidError(`${path}: user ${name} is listed twice`);
    seen.add(name);
    if (!Array.isArray(roles)) throw new ConfigInvalidError(`${path}.roles must be a list of ${ROLES.join(', ')}`);
    for (const role of roles) {
      if (!ROLES.includes(role as Role)) throw new ConfigInvalidError(`${path}.roles: unknown role ${JSON.stringify(role)} (known: ${ROLES.join(', ')})`);
    }
    return { name, roles: roles as Role[] };
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
  return parseUsers((parsed as { users?: unknown }).users, `users file ${path}`);
}
