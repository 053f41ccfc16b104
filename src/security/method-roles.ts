// The role each client-port method needs (src/security/user-roles.ts). A method missing
// here needs `admin`: a method added later is closed until someone decides otherwise.
import type { Role } from './user-roles.js';

/**
 * Methods any verified certificate of the CA may call, whatever its roles: health carries
 * no data. Not open to callers without a certificate: grpc-js receives a call's whole
 * message before any handler runs, so every method open to anonymous callers is a way to
 * make the node hold up to 16 MiB per call (the Kubernetes probes use /readyz and /livez
 * on the HTTP port instead).
 */
export const ANY_IDENTITY_METHODS: ReadonlySet<string> = new Set(['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch']);

const METHOD_ROLES: ReadonlyMap<string, Role> = new Map([
  ['/quorumkv.v1.KV/Get', 'read'],
  ['/quorumkv.v1.KV/BatchGet', 'read'],
  ['/quorumkv.v1.KV/Put', 'write'],
  ['/quorumkv.v1.KV/Delete', 'write'],
  ['/quorumkv.v1.KV/BatchPut', 'write'],
  // Opening the stream needs only `read` (every role includes it); each request on it
  // then needs its own method's role (src/api/kv-stream.ts).
  ['/quorumkv.v1.KV/Multiplex', 'read'],
  ['/quorumkv.v1.Admin/Status', 'read'],
  ['/quorumkv.v1.Admin/Ring', 'read'],
  ['/quorumkv.v1.Admin/Repair', 'admin'],
  ['/quorumkv.v1.Admin/Cleanup', 'admin'],
  ['/quorumkv.v1.Admin/Decommission', 'admin'],
  // Drops a member from every node's rings for good.
  ['/quorumkv.v1.Admin/Forget', 'admin'],
  // A backup reads every record of the cluster; a restore writes with versions of its own.
  ['/quorumkv.v1.Admin/Backup', 'admin'],
  ['/quorumkv.v1.Admin/Restore', 'admin'],
  // The schema is public (it is in the repository), but only to known users.
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'read'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'read'],
]);

export function roleNeededFor(methodPath: string): Role {
  return METHOD_ROLES.get(methodPath) ?? 'admin';
}
