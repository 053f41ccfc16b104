// What a program that stores keys in quorumkv talks to, whether the cluster is across
// the network (src/client/grpc-kv-client.ts, over the public KV service) or in this
// process (src/coordinator/coordinator-kv-client.ts, straight to a Coordinator). Both
// answer in these domain types, so code and tests written against KvClient run on
// either, and test/kv/kv-client-contract.ts holds both to the same behaviour
// (docs/decisions/0121-kv-client-contract.md).
//
// This directory depends only on src/errors: client, coordinator and api may all import
// it without a cycle.
//
// Every failure is a QkvError with its stable code (README's error-code table). A batch
// answers per key: one key may miss its quorum while the others succeed.
import type { QkvError } from '../errors/errors.js';

/** A write's version: hybrid-logical-clock stamp, then the coordinating node's id (last writer wins). */
export interface KvVersion {
  readonly stamp: bigint;
  readonly nodeId: string;
}

export interface KvWriteOptions {
  /** Acknowledgements to wait for; absent or 0 = the cluster's default W. */
  readonly w?: number;
  /** How long the caller waits; absent = the client's or the cluster's default. */
  readonly timeoutMs?: number;
}

export interface KvPutOptions extends KvWriteOptions {
  /** Time to live; absent or 0 = forever. */
  readonly ttlMs?: number;
}

export interface KvReadOptions {
  /** Replies to wait for; absent or 0 = the cluster's default R. */
  readonly r?: number;
  readonly timeoutMs?: number;
}

/** A write that met its quorum. */
export interface KvWritten {
  readonly version: KvVersion;
  /** Replicas that had acknowledged when the call returned (at least W). */
  readonly acks: number;
}

/**
 * A read that met its quorum: the newest live value, or not found when the newest
 * version is a tombstone, has expired, or there is none.
 */
export type KvRead =
  | { readonly found: true; readonly value: Buffer; readonly version: KvVersion; readonly acks: number }
  | { readonly found: false; readonly acks: number };

export interface KvPutItem {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly ttlMs?: number;
}

/** One key of a batch that missed its quorum or was refused; the others are unaffected. */
export interface KvItemFailure {
  readonly ok: false;
  readonly error: QkvError;
  readonly acks: number;
}

export type KvBatchWritten = ({ readonly ok: true } & KvWritten) | KvItemFailure;
export type KvBatchRead = ({ readonly ok: true } & KvRead) | KvItemFailure;

export interface KvClient {
  put(key: Buffer, value: Buffer, options?: KvPutOptions): Promise<KvWritten>;
  get(key: Buffer, options?: KvReadOptions): Promise<KvRead>;
  /** Writes a tombstone: later reads find nothing until a newer put. */
  delete(key: Buffer, options?: KvWriteOptions): Promise<KvWritten>;
  /** One result per item, in order. A request that is refused as a whole (too many items) rejects. */
  batchPut(items: readonly KvPutItem[], options?: KvWriteOptions): Promise<KvBatchWritten[]>;
  /** One result per key, in order. */
  batchGet(keys: readonly Buffer[], options?: KvReadOptions): Promise<KvBatchRead[]>;
}
