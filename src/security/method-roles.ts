// The role each client-port method needs (src/security/user-roles.ts). A method missing
// here needs `admin`: a method added later is closed until someone decides otherwise.
import type { Role } from './user-roles.js';

/** Methods anyone may call, certificate or not: probes of health carry no data. */
export const PUBLIC_METHODS: ReadonlySet<string> = new Set(['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch']);

const METHOD_ROLES: ReadonlyMap<string, Role> = new Map([
  ['/quorumkv.v1.KV/Get', 'read'],
  ['/quorumkv.v1.KV/BatchGet', 'read'],
  ['/quorumkv.v1.KV/Put', 'write'],
  ['/quorumkv.v1.KV/Delete', 'write'],
  ['/quorumkv.v1.KV/BatchPut', 'write'],
  ['/quorumkv.v1.Admin/Status', 'read'],
  ['/quorumkv.v1.Admin/Ring', 'read'],
  ['/quorumkv.v1.Admin/Repair', 'admin'],
  ['/quorumkv.v1.Admin/Cleanup', 'admin'],
  ['/quorumkv.v1.Admin/Decommission', 'admin'],
  // The schema is public (it is in the repository), but only to known users.
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'read'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'read'],
]);

export function roleNeededFor(methodPath: string): Role {
  return METHOD_ROLES.get(methodPath) ?? 'admin';
}
