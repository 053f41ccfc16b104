// Operating errors: the failures a correct program still meets (bad input, a lost
// quorum, a damaged file). Each has one class, a stable uppercase `code` that clients
// may match on, and maps to exactly one gRPC status in src/api. Programmer errors are
// not here: they are `assert`s that crash (the house style's two kinds of error, after
// TigerBeetle).
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
  | 'STATE_FILE_CORRUPT'
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
