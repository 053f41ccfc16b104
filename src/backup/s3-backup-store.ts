// The BackupStore adapter for S3-compatible object stores (AWS S3, versitygw, Ceph RGW,
// Garage, ...) through the AWS SDK for JavaScript v3. A file is one object under the
// destination's prefix. Writes go through lib-storage's Upload: a small file is one
// PutObject, a large one a multipart upload that is completed only after its last part,
// and aborted when the body or the store fails, so an object appears whole or not at
// all (S3 never shows an incomplete multipart upload as an object). Credentials come from
// the SDK's standard chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN),
// or the file AWS_SHARED_CREDENTIALS_FILE names, with AWS_PROFILE; in Kubernetes a
// Secret provides either (docs/operations/backup.md).

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  BackupBucketMissingError,
  BackupNotFoundError,
  BackupStoreAccessDeniedError,
  BackupStoreFailedError,
  BackupStoreUnreachableError,
  isQkvError,
} from '../errors/errors.js';
import {
  S3_CONNECT_TIMEOUT_MS,
  S3_REQUEST_ATTEMPTS_MAX,
  S3_REQUEST_TIMEOUT_MS,
  S3_UPLOAD_PART_BYTES,
  S3_UPLOAD_PARTS_IN_FLIGHT_MAX,
} from '../limits.js';
import type { BackupStore } from './backup-store.js';
import { checkBackupPath } from './backup-path.js';
import type { S3Destination } from './s3-destination.js';

export interface S3BackupStoreOptions {
  /** Keys per ListObjectsV2 page; S3's own maximum (1000) unless a test wants pages. */
  readonly listPageKeys?: number;
  /** Bytes per multipart part; at least 5 MiB, as S3 requires of every part but the last. */
  readonly partBytes?: number;
  readonly requestAttemptsMax?: number;
  /**
   * Fixed credentials, for a program that holds them itself (tests do); without them the
   * SDK's standard chain applies.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * S3 error names that mean "these credentials may not do this". XAdminUserNotFound is
 * versitygw's answer (a 404) for an access key it does not know, where AWS says
 * InvalidAccessKeyId.
 */
const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'InvalidToken', 'ExpiredToken', 'XAdminUserNotFound']);
/** Node and SDK error codes that mean the endpoint did not answer at all. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

export class S3BackupStore implements BackupStore {
  readonly #client: S3Client;
  readonly #destination: S3Destination;
  readonly #listPageKeys: number;
  readonly #partBytes: number;

  constructor(destination: S3Destination, options: S3BackupStoreOptions = {}) {
    this.#destination = destination;
    this.#listPageKeys = options.listPageKeys ?? 1000;
    this.#partBytes = options.partBytes ?? S3_UPLOAD_PART_BYTES;
    this.#client = new S3Client({
      ...(destination.endpoint === undefined ? {} : { endpoint: destination.endpoint }),
      // The SDK finds AWS_REGION itself; a store that ignores regions still wants one named.
      region: destination.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      forcePathStyle: destination.forcePathStyle,
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      maxAttempts: options.requestAttemptsMax ?? S3_REQUEST_ATTEMPTS_MAX,
      requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_REQUEST_TIMEOUT_MS },
      // Checksums only when the operation requires one: several S3-compatible stores
      // refuse the newer default trailing CRC32 headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  describe(): string {
    const { bucket, prefix, endpoint } = this.#destination;
    return `s3://${bucket}/${prefix}${endpoint === undefined ? '' : ` at ${endpoint}`}`;
  }

  async write(name: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    checkObjectName(name);
    // A failing body is the caller's error, not the store's: remember it to rethrow as is.
    const bodyFailure: { error?: unknown; failed: boolean } = { failed: false };
    async function* watched(): AsyncIterable<Uint8Array> {
      try {
        yield* body;
      } catch (error) {
        bodyFailure.failed = true;
        bodyFailure.error = error;
        throw error;
      }
    }
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#destination.bucket, Key: this.#keyOf(name), Body: Readable.from(watched(), { objectMode: false }) },
      partSize: this.#partBytes,
      queueSize: S3_UPLOAD_PARTS_IN_FLIGHT_MAX,
      // The default, said out loud: a failed multipart upload is aborted, its parts deleted.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      if (bodyFailure.failed) throw bodyFailure.error;
      throw this.#translate(error, name);
    }
  }

  async *read(name: string): AsyncIterable<Uint8Array> {
    checkObjectName(name);
    let stream: AsyncIterable<Uint8Array>;
    try {
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#destination.bucket, Key: this.#keyOf(name) }));
      if (answer.Body === undefined) throw new BackupNotFoundError(`${this.describe()} has no ${name}`);
      stream = answer.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw this.#translate(error, name);
    }
    try {
      for await (const chunk of stream) yield chunk;
    } catch (error) {
      throw this.#translate(error, name);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.#client, pageSize: this.#listPageKeys },
        { Bucket: this.#destination.bucket, Prefix: this.#keyOf(prefix) },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) names.push(object.Key.slice(this.#destination.prefix.length));
        }
      }
    } catch (error) {
      throw this.#translate(error, undefined);
    }
    return names.sort();
  }

  async remove(name: string): Promise<void> {
    checkObjectName(name);
    try {
      // S3 answers 204 for a key that is not there, which is what the port promises.
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#destination.bucket, Key: this.#keyOf(name) }));
    } catch (error) {
      throw this.#translate(error, name);
    }
  }

  /** Lets go of the SDK's sockets; the store is unusable after. */
  close(): void {
    this.#client.destroy();
  }

  #keyOf(name: string): string {
    return `${this.#destination.prefix}${name}`;
  }

  /** One operating error for whatever the SDK or the network threw. */
  #translate(error: unknown, name: string | undefined): Error {
    if (isQkvError(error)) return error;
    const store = this.describe();
    const errorName = error instanceof Error ? error.name : '';
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
    if (errorName === 'NoSuchBucket') return new BackupBucketMissingError(store, this.#destination.bucket, error);
    if ((errorName === 'NoSuchKey' || errorName === 'NotFound') && name !== undefined) return new BackupNotFoundError(`${store} has no ${name}`);
    if (ACCESS_DENIED_NAMES.has(errorName)) return new BackupStoreAccessDeniedError(store, errorName, error);
    if (error instanceof S3ServiceException) {
      if (error.$metadata.httpStatusCode === 403) return new BackupStoreAccessDeniedError(store, errorName, error);
      return new BackupStoreFailedError(store, errorName, error.message, error);
    }
    const causeCode = unreachableCodeOf(error);
    if (UNREACHABLE_CODES.has(code) || UNREACHABLE_CODES.has(errorName) || causeCode !== undefined) {
      return new BackupStoreUnreachableError(store, causeCode ?? (code || errorName), error);
    }
    const message = error instanceof Error ? error.message : String(error);
    return new BackupStoreFailedError(store, errorName || 'Error', message, error);
  }
}

/** The same names as every store takes (backup-path.ts); an empty one is a bug of ours. */
function checkObjectName(name: string): void {
  const segments = checkBackupPath(name);
  assert.ok(segments.length > 0, 'an object name must not be empty');
}

/** The network error code somewhere in an error's cause chain (or an AggregateError's list). */
function unreachableCodeOf(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = unreachableCodeOf(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return unreachableCodeOf((error as { cause?: unknown }).cause, depth + 1);
}
