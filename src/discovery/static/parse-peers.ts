// The text form of a static member list: `name=host:port,name=host:port,...`, as given
// to `--peers` or QKV_PEERS. Names are node ids (the stable names the ring hashes),
// so they must be unique; addresses are where each node's gRPC port listens.
import { NODE_ID_BYTES_MAX } from '../../limits.js';
import type { Member } from '../../ring/member.js';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws a plain Error naming the bad entry; the config loader adds the source. */
export function parsePeers(text: string): Member[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const members: Member[] = [];
  const seen = new Set<string>();
  for (const entry of trimmed.split(',')) {
    const part = entry.trim();
    const equals = part.indexOf('=');
    if (equals <= 0) throw new Error(`peer "${part}" is not name=host:port`);
    const id = part.slice(0, equals);
    checkNodeId(id);
    if (seen.has(id)) throw new Error(`peer "${id}" appears twice`);
    seen.add(id);
    members.push({ id, address: checkAddress(part.slice(equals + 1)), ready: true });
  }
  return members;
}

export function checkNodeId(id: string): string {
  if (!NODE_ID.test(id)) throw new Error(`node id "${id}" must start with a letter or digit and hold only letters, digits, '.', '_' and '-'`);
  if (Buffer.byteLength(id) > NODE_ID_BYTES_MAX) throw new Error(`node id "${id}" is longer than ${NODE_ID_BYTES_MAX} bytes`);
  return id;
}

/** host:port or [v6-host]:port with a port in 1..65535. */
export function checkAddress(address: string): string {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(address);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65535) throw new Error(`address "${address}" is not host:port with a port in 1..65535`);
  return address;
}
