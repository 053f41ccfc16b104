// Operating errors: the failures a correct program still meets (bad input, a lost
// quorum, a damaged file). Each has one class, a stable uppercase `code` that clients
// may match on, and maps to exactly one gRPC status in src/protocol. Programmer errors are
// not here: they are `assert`s that crash (docs/style.md point 5).
//
// The README lists every code; add a row there when you add a class here.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'KEY_TOO_LARGE'
  | 'KEY_EMPTY'
  | 'VALUE_TOO_LARGE'
  | 'BATCH_TOO_LARGE'
  | 'QUORUM_INVALID'
  | 'QUORUM_NOT_MET'
  | 'DEADLINE_EXCEEDED'
  | 'OVERLOADED'
  | 'RESPONSE_TOO_LARGE'
  | 'NOT_READY'
  | 'SHUTTING_DOWN'
  | 'WAL_CORRUPT'
  | 'WAL_RECORD_TOO_LARGE'
  | 'STORE_CLOSED'
  | 'CONFIG_INVALID'
  | 'PEER_UNREACHABLE'
  | 'REPLICA_STALE'
  | 'DECOMMISSION_REFUSED'
  | 'CLEANUP_REFUSED'
  | 'FORGET_REFUSED'
  | 'FORGET_NOT_AUTHORIZED'
  | 'MEMBER_FORGOTTEN'
  | 'STATE_FILE_CORRUPT'
  | 'STAMP_FROM_FUTURE'
  | 'RING_STATE_VERSION_FROM_FUTURE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'PEER_IDENTITY_MISMATCH'
  | 'CERTIFICATE_NAME_INVALID'
  | 'CERTIFICATE_MISSING'
  | 'CERTIFICATE_EXISTS'
  | 'CERTIFICATE_INVALID'
  | 'BACKUP_DIR_NOT_CONFIGURED'
  | 'BACKUP_DESTINATION_INVALID'
  | 'BACKUP_DESTINATION_UNSUPPORTED'
  | 'BACKUP_NOT_FOUND'
  | 'BACKUP_CORRUPT'
  | 'BACKUP_FAILED'
  | 'RESTORE_FAILED'
  | 'BACKUP_STORE_UNREACHABLE'
  | 'BACKUP_BUCKET_MISSING'
  | 'BACKUP_STORE_ACCESS_DENIED'
  | 'BACKUP_STORE_FAILED'
  | 'INTERNAL';

export class QkvError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export function isQkvError(error: unknown): error is QkvError {
  return error instanceof QkvError;
}

export class InvalidArgumentError extends QkvError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class KeyEmptyError extends QkvError {
  constructor() {
    super('KEY_EMPTY', 'key must be at least 1 byte');
  }
}

export class KeyTooLargeError extends QkvError {
  constructor(readonly keyBytes: number, readonly keyBytesMax: number) {
    super('KEY_TOO_LARGE', `key is ${keyBytes} bytes; the limit is ${keyBytesMax}`);
  }
}

export class ValueTooLargeError extends QkvError {
  constructor(readonly valueBytes: number, readonly valueBytesMax: number) {
    super('VALUE_TOO_LARGE', `value is ${valueBytes} bytes; the limit is ${valueBytesMax}`);
  }
}

export class BatchTooLargeError extends QkvError {
  /**
   * `items` is undefined when a decoder stopped at the first item past the limit, before
   * it read (or counted) the rest (docs/decisions/0102-bounded-decoding.md); `what`
   * names the repeated field then.
   */
  constructor(
    readonly items: number | undefined,
    readonly itemsMax: number,
    what = 'batch',
  ) {
    super('BATCH_TOO_LARGE', `${what} has ${items ?? `more than ${itemsMax}`} items; the limit is ${itemsMax}`);
  }
}

export class QuorumInvalidError extends QkvError {
  constructor(readonly quorum: 'w' | 'r', readonly value: number, readonly replicationFactor: number) {
    super('QUORUM_INVALID', `${quorum}=${value} is outside 1..${replicationFactor} (the replication factor)`);
  }
}

export class QuorumNotMetError extends QkvError {
  constructor(readonly acks: number, readonly required: number, readonly replicas: number, detail: string) {
    super('QUORUM_NOT_MET', `quorum not met: ${acks} of ${required} required acks from ${replicas} replicas (${detail})`);
  }
}

export class DeadlineExceededError extends QkvError {
  constructor(readonly acks: number, readonly required: number, readonly timeoutMs: number) {
    super('DEADLINE_EXCEEDED', `deadline of ${timeoutMs} ms passed with ${acks} of ${required} required acks`);
  }
}

export class OverloadedError extends QkvError {
  constructor(what: string, limit: number) {
    super('OVERLOADED', `too many in-flight ${what}; the limit is ${limit}`);
  }
}

/** An answer would be larger than its byte bound; the items left out must be asked for again. */
export class ResponseTooLargeError extends QkvError {
  constructor(readonly bytesMax: number) {
    super('RESPONSE_TOO_LARGE', `left out: the answer holds ${bytesMax} bytes of keys and values already; ask for this key again`);
  }
}

export class NotReadyError extends QkvError {
  constructor(reason: string) {
    super('NOT_READY', `node is not ready: ${reason}`);
  }
}

export class ShuttingDownError extends QkvError {
  constructor() {
    super('SHUTTING_DOWN', 'node is shutting down and accepts no new requests');
  }
}

export class WalCorruptError extends QkvError {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super('WAL_CORRUPT', `WAL file ${file} is corrupt at offset ${offset}: ${reason}`);
  }
}

export class WalRecordTooLargeError extends QkvError {
  constructor(readonly recordBytes: number, readonly recordBytesMax: number) {
    super('WAL_RECORD_TOO_LARGE', `WAL record is ${recordBytes} bytes; the limit is ${recordBytesMax}`);
  }
}

export class StoreClosedError extends QkvError {
  constructor() {
    super('STORE_CLOSED', 'the storage engine is closed');
  }
}

export class ConfigInvalidError extends QkvError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** The node was down longer than the tombstone grace period and may hold deleted data. */
export class ReplicaStaleError extends QkvError {
  constructor(readonly downMs: number, readonly tombstoneGraceMs: number) {
    super(
      'REPLICA_STALE',
      `this node was last seen ${Math.round(downMs / 60_000)} min ago, longer than the tombstone grace period of ` +
        `${Math.round(tombstoneGraceMs / 60_000)} min: peers may have purged tombstones for data it still holds, which it ` +
        'would bring back. Wipe its data directory and let repair rebuild it, or start it with --allow-stale-rejoin to rejoin ' +
        'and run a full repair at once (deleted data it holds may reappear).',
    );
  }
}

export class PeerUnreachableError extends QkvError {
  constructor(readonly peer: string, options?: { cause?: unknown }) {
    super('PEER_UNREACHABLE', `peer ${peer} is unreachable`, options);
  }
}

/** Decommission cannot start: the node is joining, or too few members would stay. */
export class DecommissionRefusedError extends QkvError {
  constructor(reason: string) {
    super('DECOMMISSION_REFUSED', `decommission refused: ${reason}`);
  }
}

/**
 * Cleanup cannot run now, or had to stop: the node or a member is not NORMAL, a member
 * does not answer, or routes by other rings (a move is under way or not yet heard).
 */
export class CleanupRefusedError extends QkvError {
  constructor(reason: string) {
    super('CLEANUP_REFUSED', `cleanup refused: ${reason}`);
  }
}

/**
 * `qkv forget` cannot forget that member now: unknown, this node, alive, or a range
 * movement is under way (docs/decisions/0180-forget-a-member-gone-for-good.md).
 */
export class ForgetRefusedError extends QkvError {
  constructor(reason: string) {
    super('FORGET_REFUSED', `forget refused: ${reason}`);
  }
}

/**
 * A forget that no admin user signed, with TLS: only an admin may take a member out of
 * the rings, and its signature travels with the mark to every node
 * (docs/decisions/0268-forget-signed-by-an-admin.md).
 */
export class ForgetNotAuthorizedError extends QkvError {
  constructor(member: string, reason: string) {
    super('FORGET_NOT_AUTHORIZED', `forget of ${member} refused: ${reason}; run qkv forget with an admin user's certificate and key (--certs-dir, --user)`);
  }
}

/**
 * This node was forgotten (`qkv forget`) while it was away, and its data directory is
 * from before that: it must not serve or rejoin with it (docs/decisions/0180).
 */
export class MemberForgottenError extends QkvError {
  constructor(readonly nodeId: string, readonly forgottenVersion: number) {
    super(
      'MEMBER_FORGOTTEN',
      `${nodeId} was forgotten by qkv forget at ${new Date(forgottenVersion).toISOString()} and its data directory is from before that; ` +
        'it stops instead of rejoining with out-of-date data. Delete its data directory (on Kubernetes: its PVC) to join again as a new, empty member',
    );
  }
}

/** A small state file of the data directory (ring states, streaming progress, held ranges) cannot be read. */
export class StateFileCorruptError extends QkvError {
  constructor(readonly file: string, reason: string) {
    super(
      'STATE_FILE_CORRUPT',
      `${file} is damaged: ${reason}. Restore it, or remove it to let the node decide again as on a first start ` +
        '(it joins and streams its ranges when the cluster already has NORMAL members)',
    );
  }
}

/** The caller presented no client certificate that this cluster's CA signed. */
export class UnauthenticatedError extends QkvError {
  constructor(reason: string) {
    super('UNAUTHENTICATED', `unauthenticated: ${reason}`);
  }
}

/** The caller is known, but none of its roles allows the method. */
export class PermissionDeniedError extends QkvError {
  constructor(readonly user: string, readonly method: string, readonly roleNeeded: string) {
    super('PERMISSION_DENIED', `user ${JSON.stringify(user)} may not call ${method}: it needs the role ${roleNeeded}`);
  }
}

/**
 * A peer-port message claims to come from a member other than the one its sender's
 * certificate names (or the certificate names no member at all).
 */
export class PeerIdentityMismatchError extends QkvError {
  constructor(readonly certified: string, readonly claimed: string) {
    super('PEER_IDENTITY_MISMATCH', `the sender's certificate names ${certified}, but the message says it is from ${claimed}`);
  }
}

/** A node id, user name, host or CA name that a certificate cannot carry (src/security/certificate-identity.ts). */
export class CertificateNameInvalidError extends QkvError {
  constructor(readonly what: string, readonly value: string, reason: string) {
    super('CERTIFICATE_NAME_INVALID', `${what} ${JSON.stringify(value)} ${reason}`);
  }
}

/**
 * A certificate or key file that a node or command needs is not there (most often the
 * CA: run `qkv certs create-ca`; for a node: `qkv certs create-node`, or --insecure).
 */
export class CertificateMissingError extends QkvError {
  constructor(readonly file: string, hint: string) {
    super('CERTIFICATE_MISSING', `${file} does not exist; ${hint}`);
  }
}

/**
 * A certificate or key file is already there and was not to be replaced. For the CA this
 * guards the cluster's trust: a new CA key makes every certificate issued so far useless.
 */
export class CertificateExistsError extends QkvError {
  constructor(readonly file: string, hint: string) {
    super('CERTIFICATE_EXISTS', `${file} already exists; ${hint}`);
  }
}

/**
 * A certificate or key file cannot be used: unreadable, not PEM, the wrong key type,
 * expired, not signed by the CA, naming another node, or not matching its pair.
 */
export class CertificateInvalidError extends QkvError {
  constructor(readonly file: string, reason: string, options?: { cause?: unknown }) {
    super('CERTIFICATE_INVALID', `${file}: ${reason}`, options);
  }
}

/**
 * A server-side backup or restore names a directory destination, but the operator gave
 * the node no --backup-dir (QKV_BACKUP_DIR): a node writes and reads backups only under
 * a root its operator chose, never where a caller says.
 */
export class BackupDirNotConfiguredError extends QkvError {
  constructor() {
    super('BACKUP_DIR_NOT_CONFIGURED', 'this node has no backup directory: start it with --backup-dir DIR (env QKV_BACKUP_DIR) to back up to or restore from a directory');
  }
}

/** A backup destination or name that would leave the backup root, or is not well formed. */
export class BackupDestinationInvalidError extends QkvError {
  constructor(readonly destination: string, reason: string) {
    super('BACKUP_DESTINATION_INVALID', `backup destination ${JSON.stringify(destination.slice(0, 200))} refused: ${reason}`);
  }
}

/** A destination with a scheme this build cannot write to. */
export class BackupDestinationUnsupportedError extends QkvError {
  constructor(readonly destination: string, readonly scheme: string) {
    super('BACKUP_DESTINATION_UNSUPPORTED', `backup destination ${JSON.stringify(destination.slice(0, 200))}: the scheme ${JSON.stringify(scheme)} is not supported (use a directory path, file:path or s3://bucket/prefix)`);
  }
}

/** No complete backup set (or not the one asked for) at a destination. */
export class BackupNotFoundError extends QkvError {
  constructor(what: string) {
    super('BACKUP_NOT_FOUND', what);
  }
}

/**
 * A file of a backup set is damaged: a checksum that does not match, a file shorter or
 * longer than its manifest says, an unknown format version, a frame that does not decode.
 */
export class BackupCorruptError extends QkvError {
  /**
   * `partlyRestored`: found at the end of a file a restore was already applying (it changed
   * after verification), so the records read before the damage may be on their replicas.
   */
  constructor(readonly file: string, readonly reason: string, options?: { readonly partlyRestored?: boolean }) {
    const outcome = options?.partlyRestored === true ? 'records of it read before the damage may have been restored; restore a sound set again' : 'nothing of it was restored';
    super('BACKUP_CORRUPT', `backup file ${file} is damaged: ${reason}; ${outcome}`);
  }
}

/** A backup could not be completed (a member did not answer, the store failed): no manifest was written. */
export class BackupFailedError extends QkvError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('BACKUP_FAILED', `backup failed, the set is incomplete and will not be restored: ${reason}`, options);
  }
}

/** A restore stopped before every record was on its replicas; running it again resumes it. */
export class RestoreFailedError extends QkvError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('RESTORE_FAILED', `restore stopped: ${reason}`, options);
  }
}

/**
 * A record from another node carries a time no honest node writes: a version stamp more
 * than the drift bound ahead of this node's clock, or an expiry later than the longest
 * TTL from now (docs/decisions/0101-bounds-on-peer-stamps-and-ring-versions.md). Stored,
 * such a stamp would win over every later write of the key, for good.
 */
export class StampFromFutureError extends QkvError {
  constructor(
    readonly key: Buffer,
    readonly field: 'stamp' | 'expires_at_ms',
    /** The stamp as sent (the field `stamp`), or the expiry in ms. */
    readonly value: bigint,
    /** The time it names, in wall-clock ms since the epoch. */
    readonly atMs: number,
    /** This node's wall clock when it refused. */
    readonly nowMs: number,
    /** How far ahead of `nowMs` the field may lie. */
    readonly aheadMsMax: number,
  ) {
    super(
      'STAMP_FROM_FUTURE',
      `record of key ${describeKey(key)} refused: its ${field} ${value} (${isoTime(atMs)}) lies ${atMs - nowMs} ms ahead of this ` +
        `node's clock (${isoTime(nowMs)}); no node writes one more than ${aheadMsMax} ms ahead. Nothing of its batch was stored`,
    );
  }
}

/**
 * A probe announces a ring-state version (its sender's own, or what it heard of this
 * node) further ahead of this node's clock than any honest node's version can be.
 * Refused whole: nothing of the probe is learned or saved.
 */
export class RingStateVersionFromFutureError extends QkvError {
  constructor(
    readonly sender: string,
    readonly field: 'ring_state' | 'heard_ring_state' | 'forgotten',
    readonly version: number,
    readonly nowMs: number,
    readonly aheadMsMax: number,
  ) {
    super(
      'RING_STATE_VERSION_FROM_FUTURE',
      `probe from ${JSON.stringify(sender.slice(0, 64))} refused: its ${field} version ${version} lies ${version - nowMs} ms ahead of this ` +
        `node's clock (${isoTime(nowMs)}); ring-state versions are wall-clock ms and may be at most ${aheadMsMax} ms ahead. Nothing of the probe was learned`,
    );
  }
}

/**
 * A backup store (an S3-compatible endpoint) did not answer: refused connection, no
 * such host, a timeout. Nothing was written; trying again later may work.
 */
export class BackupStoreUnreachableError extends QkvError {
  constructor(readonly store: string, reason: string, cause?: unknown) {
    super('BACKUP_STORE_UNREACHABLE', `backup store ${store} cannot be reached: ${reason}`, { cause });
  }
}

/** The bucket a backup destination names does not exist; quorumkv never creates one. */
export class BackupBucketMissingError extends QkvError {
  constructor(readonly store: string, readonly bucket: string, cause?: unknown) {
    super('BACKUP_BUCKET_MISSING', `backup store ${store}: bucket ${JSON.stringify(bucket)} does not exist; create it first`, { cause });
  }
}

/**
 * The object store refused the node's credentials or their rights (403, an unknown
 * access key, a bad signature). The store's own code is in the message.
 */
export class BackupStoreAccessDeniedError extends QkvError {
  constructor(readonly store: string, readonly storeCode: string, cause?: unknown) {
    super(
      'BACKUP_STORE_ACCESS_DENIED',
      `backup store ${store} refused the credentials (${storeCode}); check the access key and secret (the AWS_* variables or the credentials file) and the bucket's policy`,
      { cause },
    );
  }
}

/** Any other failure the object store reported (a 5xx, an unexpected answer). */
export class BackupStoreFailedError extends QkvError {
  constructor(readonly store: string, readonly storeCode: string, detail: string, cause?: unknown) {
    super('BACKUP_STORE_FAILED', `backup store ${store} failed: ${storeCode}: ${detail}`, { cause });
  }
}

/** A key for a message: printable ASCII quoted, anything else in hex; long keys cut. */
function describeKey(key: Buffer): string {
  const shown = key.subarray(0, 64);
  const printable = shown.every((byte) => byte >= 0x20 && byte < 0x7f);
  const body = printable ? JSON.stringify(shown.toString('latin1')) : `0x${shown.toString('hex')}`;
  return key.length > shown.length ? `${body}… (${key.length} bytes)` : body;
}

/** An ISO time when the ms fit a Date (every 48-bit stamp does; a far expiry may not). */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}
