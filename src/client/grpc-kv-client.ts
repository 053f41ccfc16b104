// The KvClient port (src/kv/kv-client.ts) over the public KV service: QuorumKvClient's
// wire answers (decimal stamps, optional message fields, item errors as code strings)
// turned into the domain types that the in-process coordinator answers in too, so a
// program or a test written against KvClient runs against a remote cluster unchanged
// (docs/decisions/0121-kv-client-contract.md).
import { QkvError } from '../errors/errors.js';
import { isErrorCode } from '../protocol/error-status.js';
import type { KvBatchRead, KvBatchWritten, KvClient, KvPutItem, KvPutOptions, KvRead, KvReadOptions, KvVersion, KvWriteOptions, KvWritten } from '../kv/kv-client.js';
import type { Version__Output } from '../protocol/generated/quorumkv/v1/Version.js';
import type { ItemError__Output } from '../protocol/generated/quorumkv/v1/ItemError.js';
import type { QuorumKvClient } from './quorum-kv-client.js';

export class GrpcKvClient implements KvClient {
  /** `client` stays the caller's: closing it ends this one too. */
  constructor(private readonly client: QuorumKvClient) {}

  async put(key: Buffer, value: Buffer, options: KvPutOptions = {}): Promise<KvWritten> {
    const response = await this.client.put(key, value, options);
    return { version: versionOf(response.version), acks: response.acks };
  }

  async get(key: Buffer, options: KvReadOptions = {}): Promise<KvRead> {
    const response = await this.client.get(key, options);
    if (!response.found) return { found: false, acks: response.acks };
    return { found: true, value: response.value, version: versionOf(response.version), acks: response.acks };
  }

  async delete(key: Buffer, options: KvWriteOptions = {}): Promise<KvWritten> {
    const response = await this.client.delete(key, options);
    return { version: versionOf(response.version), acks: response.acks };
  }

  async batchPut(items: readonly KvPutItem[], options: KvWriteOptions = {}): Promise<KvBatchWritten[]> {
    const { results } = await this.client.batchPut(items, options);
    answersFor(items.length, results.length);
    return results.map((result) =>
      result.ok ? { ok: true, version: versionOf(result.version), acks: result.acks } : { ok: false, error: errorOf(result.error), acks: result.acks },
    );
  }

  async batchGet(keys: readonly Buffer[], options: KvReadOptions = {}): Promise<KvBatchRead[]> {
    const { results } = await this.client.batchGet(keys, options);
    answersFor(keys.length, results.length);
    return results.map((result) => {
      if (!result.ok) return { ok: false, error: errorOf(result.error), acks: result.acks };
      if (!result.found) return { ok: true, found: false, acks: result.acks };
      return { ok: true, found: true, value: result.value, version: versionOf(result.version), acks: result.acks };
    });
  }
}

/** A server's answer without a version where one is due is a broken server, not a caller's error. */
function versionOf(version: Version__Output | null): KvVersion {
  if (version === null) throw new QkvError('INTERNAL', 'the server answered a write or a found key without its version');
  return { stamp: BigInt(version.stamp), nodeId: version.nodeId };
}

function errorOf(error: ItemError__Output | null): QkvError {
  if (error === null) return new QkvError('INTERNAL', 'the server reported a failed item without its error');
  return new QkvError(isErrorCode(error.code) ? error.code : 'INTERNAL', error.message);
}

function answersFor(asked: number, answered: number): void {
  if (asked !== answered) throw new QkvError('INTERNAL', `the server answered ${answered} results for ${asked} items`);
}
