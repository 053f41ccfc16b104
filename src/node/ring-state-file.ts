// `<data dir>/ring-state.json`: this node's own ring state and the states it last heard
// from each peer (src/membership/ring-state-table.ts), so that a restart neither
// forgets that the node is JOINING or LEAVING nor shifts the ring while a peer is down.
//
// Format (JSON, replaced atomically):
//   { "format": 1,
//     "self": { "state": "NORMAL", "version": 1763900000000 } | null,
//     "peers": { "<node id>": { "state": "JOINING", "version": 1763900000123 }, ... },
//     "rereplicate": ["<node id>", ...] }
// A peer marked LEFT by `qkv forget` has "forgotten": true; "rereplicate" lists the
// forgotten members whose ranges this node has not pulled from the survivors yet
// (docs/decisions/0180-forget-a-member-gone-for-good.md). Both are absent in files of
// earlier versions, which read as nothing forgotten. A forgotten peer's mark also keeps
// the admin's signature that decided it, base64: "signed": { "certificate": "<DER>",
// "signature": "<bytes>" } (docs/decisions/0268-forget-signed-by-an-admin.md), so the
// node passes on a mark peers can check after a restart too; absent in earlier files
// and with --insecure.
//
// A version is any non-negative integer here, even one past 2^53 (a node made to outrun
// a forged version of 2^53-1 saved 2^53 before peers refused such versions): the table
// does not trust versions further ahead than a clock may run and starts such a node
// again from the current time (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md),
// where refusing the file would keep the node from starting at all.
import { join } from 'node:path';
import { StateFileCorruptError } from '../errors/errors.js';
import type { RingStateSnapshot, RingStateStore } from '../membership/ring-state-table.js';
import { parseRingState, type AnnouncedRingState, type ForgetSignature } from '../ring/ring-state.js';
import { readFileIfExists, writeFileAtomic } from '../fs/atomic-file.js';

const FILE_NAME = 'ring-state.json';
const FORMAT = 1;

export class RingStateFile implements RingStateStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, FILE_NAME);
  }

  /** What was saved; empty when the file does not exist (a new data directory or an older version). */
  async load(): Promise<RingStateSnapshot & { readonly exists: boolean }> {
    const text = await readFileIfExists(this.path);
    if (text === undefined) return { exists: false, self: undefined, peers: new Map() };
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new StateFileCorruptError(this.path, `not JSON (${(error as Error).message})`);
    }
    const { format, self, peers, rereplicate } = (document ?? {}) as { format?: unknown; self?: unknown; peers?: unknown; rereplicate?: unknown };
    if (format !== FORMAT) throw new StateFileCorruptError(this.path, `unknown format ${JSON.stringify(format)}`);
    if (typeof peers !== 'object' || peers === null) throw new StateFileCorruptError(this.path, 'peers is missing');
    const peerStates = new Map<string, AnnouncedRingState>();
    for (const [peer, announced] of Object.entries(peers)) peerStates.set(peer, this.announced(announced, `peers.${peer}`));
    if (rereplicate !== undefined && (!Array.isArray(rereplicate) || !rereplicate.every((id) => typeof id === 'string'))) {
      throw new StateFileCorruptError(this.path, 'rereplicate is not a list of node ids');
    }
    return { exists: true, self: self === null ? undefined : this.announced(self, 'self'), peers: peerStates, rereplicate: (rereplicate as string[] | undefined) ?? [] };
  }

  async save(snapshot: RingStateSnapshot): Promise<void> {
    const document = {
      format: FORMAT,
      self: snapshot.self ?? null,
      peers: Object.fromEntries([...snapshot.peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([peer, announced]) => [peer, announcedJson(announced)])),
      ...(snapshot.rereplicate !== undefined && snapshot.rereplicate.length > 0 ? { rereplicate: snapshot.rereplicate } : {}),
    };
    await writeFileAtomic(this.path, `${JSON.stringify(document, null, 1)}\n`);
  }

  private announced(value: unknown, field: string): AnnouncedRingState {
    const { state, version, forgotten, signed } = (value ?? {}) as { state?: unknown; version?: unknown; forgotten?: unknown; signed?: unknown };
    const parsed = typeof state === 'string' ? parseRingState(state) : undefined;
    if (parsed === undefined) throw new StateFileCorruptError(this.path, `${field}.state ${JSON.stringify(state)} is not a ring state`);
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
      throw new StateFileCorruptError(this.path, `${field}.version ${JSON.stringify(version)} is not a version`);
    }
    if (forgotten !== undefined && (forgotten !== true || parsed !== 'LEFT')) throw new StateFileCorruptError(this.path, `${field}.forgotten is set on a state other than LEFT or is not true`);
    if (forgotten !== true) {
      if (signed !== undefined) throw new StateFileCorruptError(this.path, `${field}.signed is set on a state that is not forgotten`);
      return { state: parsed, version };
    }
    return signed === undefined ? { state: parsed, version, forgotten } : { state: parsed, version, forgotten, signed: this.signature(signed, `${field}.signed`) };
  }

  private signature(value: unknown, field: string): ForgetSignature {
    const { certificate, signature } = (value ?? {}) as { certificate?: unknown; signature?: unknown };
    if (typeof certificate !== 'string' || typeof signature !== 'string') throw new StateFileCorruptError(this.path, `${field} needs certificate and signature in base64`);
    return { certificate: Buffer.from(certificate, 'base64'), signature: Buffer.from(signature, 'base64') };
  }
}

/** A state as the file holds it: a forget's signature in base64 (JSON has no bytes). */
function announcedJson(announced: AnnouncedRingState): object {
  const { signed, ...rest } = announced;
  return signed === undefined ? rest : { ...rest, signed: { certificate: signed.certificate.toString('base64'), signature: signed.signature.toString('base64') } };
}
