// The one table that maps every quorumkv error code to exactly one gRPC status, and
// the two directions of travel: an error thrown on a node becomes a gRPC status whose
// trailing metadata carries the stable code (`qkv-error-code`), and a status received
// by a client or a peer becomes a QkvError with that code again. The README shows
// the same table ("Error codes"); test/protocol/error-status.test.ts keeps the two equal.
import * as grpc from '@grpc/grpc-js';
import { QkvError, isQkvError, type ErrorCode } from '../errors/errors.js';

/** Trailing metadata key that carries the stable quorumkv error code. */
export const ERROR_CODE_METADATA_KEY = 'qkv-error-code';

export const ERROR_STATUS: Readonly<Record<ErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  KEY_EMPTY: grpc.status.INVALID_ARGUMENT,
  KEY_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  VALUE_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  BATCH_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  QUORUM_INVALID: grpc.status.INVALID_ARGUMENT,
  WAL_RECORD_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  QUORUM_NOT_MET: grpc.status.UNAVAILABLE,
  NOT_READY: grpc.status.UNAVAILABLE,
  SHUTTING_DOWN: grpc.status.UNAVAILABLE,
  STORE_CLOSED: grpc.status.UNAVAILABLE,
  PEER_UNREACHABLE: grpc.status.UNAVAILABLE,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
  RESPONSE_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  CONFIG_INVALID: grpc.status.FAILED_PRECONDITION,
  REPLICA_STALE: grpc.status.FAILED_PRECONDITION,
  DECOMMISSION_REFUSED: grpc.status.FAILED_PRECONDITION,
  CLEANUP_REFUSED: grpc.status.FAILED_PRECONDITION,
  FORGET_REFUSED: grpc.status.FAILED_PRECONDITION,
  FORGET_NOT_AUTHORIZED: grpc.status.PERMISSION_DENIED,
  MEMBER_FORGOTTEN: grpc.status.FAILED_PRECONDITION,
  STAMP_FROM_FUTURE: grpc.status.FAILED_PRECONDITION,
  RING_STATE_VERSION_FROM_FUTURE: grpc.status.FAILED_PRECONDITION,
  WAL_CORRUPT: grpc.status.DATA_LOSS,
  STATE_FILE_CORRUPT: grpc.status.DATA_LOSS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  PEER_IDENTITY_MISMATCH: grpc.status.PERMISSION_DENIED,
  CERTIFICATE_NAME_INVALID: grpc.status.INVALID_ARGUMENT,
  CERTIFICATE_MISSING: grpc.status.FAILED_PRECONDITION,
  CERTIFICATE_EXISTS: grpc.status.FAILED_PRECONDITION,
  CERTIFICATE_INVALID: grpc.status.FAILED_PRECONDITION,
  BACKUP_DIR_NOT_CONFIGURED: grpc.status.FAILED_PRECONDITION,
  BACKUP_DESTINATION_INVALID: grpc.status.INVALID_ARGUMENT,
  BACKUP_DESTINATION_UNSUPPORTED: grpc.status.INVALID_ARGUMENT,
  BACKUP_NOT_FOUND: grpc.status.NOT_FOUND,
  BACKUP_CORRUPT: grpc.status.DATA_LOSS,
  BACKUP_FAILED: grpc.status.ABORTED,
  RESTORE_FAILED: grpc.status.ABORTED,
  BACKUP_STORE_UNREACHABLE: grpc.status.UNAVAILABLE,
  BACKUP_STORE_FAILED: grpc.status.UNAVAILABLE,
  BACKUP_BUCKET_MISSING: grpc.status.FAILED_PRECONDITION,
  BACKUP_STORE_ACCESS_DENIED: grpc.status.FAILED_PRECONDITION,
  INTERNAL: grpc.status.INTERNAL,
};

/** What a status without our metadata (a proxy, a dead peer, grpc-js itself) means. */
const CODE_OF_BARE_STATUS: ReadonlyMap<grpc.status, ErrorCode> = new Map([
  [grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
  [grpc.status.UNAVAILABLE, 'PEER_UNREACHABLE'],
  [grpc.status.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED'],
  [grpc.status.RESOURCE_EXHAUSTED, 'OVERLOADED'],
  [grpc.status.CANCELLED, 'PEER_UNREACHABLE'],
  [grpc.status.UNAUTHENTICATED, 'UNAUTHENTICATED'],
  [grpc.status.PERMISSION_DENIED, 'PERMISSION_DENIED'],
]);

export function isErrorCode(text: string): text is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, text);
}

/** gRPC status name, e.g. `UNAVAILABLE`, for tables and messages. */
export function statusName(status: grpc.status): string {
  return grpc.status[status] ?? String(status);
}

/**
 * The status object a handler passes to its callback. Non-quorumkv errors are bugs:
 * their message may hold anything, so the client sees INTERNAL and a fixed text while
 * the caller logs the original.
 */
export function serviceErrorOf(error: unknown): { code: grpc.status; details: string; metadata: grpc.Metadata } {
  const qkvError = isQkvError(error) ? error : new QkvError('INTERNAL', 'internal error; the node has logged it');
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, qkvError.code);
  return { code: ERROR_STATUS[qkvError.code], details: qkvError.message, metadata };
}

/** The QkvError a failed call stands for, as seen by a client or a peer. */
export function errorOfServiceError(error: grpc.ServiceError): QkvError {
  const [raw] = error.metadata?.get(ERROR_CODE_METADATA_KEY) ?? [];
  const text = typeof raw === 'string' ? raw : raw?.toString('utf8');
  if (text !== undefined && isErrorCode(text)) return new QkvError(text, error.details, { cause: error });
  const code = CODE_OF_BARE_STATUS.get(error.code) ?? 'INTERNAL';
  return new QkvError(code, `${statusName(error.code)}: ${error.details}`, { cause: error });
}
