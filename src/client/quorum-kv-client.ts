// A promise-based client of the public API (KV and Admin) for the CLI and the tests.
// Given several addresses it uses the first and moves to the next only when a node
// cannot be reached at all (a connection failure, not an answer such as
// QUORUM_NOT_MET), so `qkv` keeps working against the local cluster while one node is
// down. Every failure is a QkvError carrying the server's stable code.
//
// KV calls go over KV.Multiplex streams to each node by default (kv-stream-connection.ts,
// docs/decisions/0170-multiplexed-kv-stream.md, four per node since
// docs/decisions/0230-client-requests-spread-over-streams.md); `transport: 'unary'` sends each as its
// own unary call instead, as grpcurl and generated clients do. On the stream, a request
// that never reached a node moves on to the next one as a unary connection failure
// does; one that waited when its stream broke moves on only if it is a read (Get,
// BatchGet): a write that broke mid-flight fails PEER_UNREACHABLE, because the node may
// have applied it and a second send would write a second version.
import * as grpc from '@grpc/grpc-js';
import { QkvError, isQkvError } from '../errors/errors.js';
import { CLIENT_CHANNEL_OPTIONS } from '../protocol/grpc-options.js';
import { ERROR_CODE_METADATA_KEY, errorOfServiceError } from '../protocol/error-status.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import { TLS_CHANNEL_OPTIONS } from '../security/tls-credentials.js';
import type { ForgetSignature } from '../security/forget-signature.js';
import type { KVClient } from '../protocol/generated/quorumkv/v1/KV.js';
import type { KvStreamReply__Output } from '../protocol/generated/quorumkv/v1/KvStreamReply.js';
import { KvStreamConnection, NeverSentError, type KvStreamBody } from './kv-stream-connection.js';
import type { AdminClient } from '../protocol/generated/quorumkv/v1/Admin.js';
import type { PutResponse__Output } from '../protocol/generated/quorumkv/v1/PutResponse.js';
import type { GetResponse__Output } from '../protocol/generated/quorumkv/v1/GetResponse.js';
import type { DeleteResponse__Output } from '../protocol/generated/quorumkv/v1/DeleteResponse.js';
import type { BatchPutResponse__Output } from '../protocol/generated/quorumkv/v1/BatchPutResponse.js';
import type { BatchGetResponse__Output } from '../protocol/generated/quorumkv/v1/BatchGetResponse.js';
import type { RepairResponse__Output } from '../protocol/generated/quorumkv/v1/RepairResponse.js';
import type { StatusResponse__Output } from '../protocol/generated/quorumkv/v1/StatusResponse.js';
import type { RingResponse__Output } from '../protocol/generated/quorumkv/v1/RingResponse.js';
import type { DecommissionResponse__Output } from '../protocol/generated/quorumkv/v1/DecommissionResponse.js';
import type { ForgetResponse__Output } from '../protocol/generated/quorumkv/v1/ForgetResponse.js';
import type { CleanupResponse__Output } from '../protocol/generated/quorumkv/v1/CleanupResponse.js';
import type { BackupProgress__Output } from '../protocol/generated/quorumkv/v1/BackupProgress.js';
import type { RestoreProgress__Output } from '../protocol/generated/quorumkv/v1/RestoreProgress.js';

export interface ClientOptions {
  /** host:port of one or more nodes, tried in order. */
  readonly addresses: readonly string[];
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /**
   * TLS with a client certificate (src/security/tls-credentials.ts
   * clientChannelCredentials); plaintext, for an --insecure cluster, when not given.
   */
  readonly credentials?: grpc.ChannelCredentials;
  /** How KV calls travel: multiplexed streams to each node (the default), or a unary call each. */
  readonly transport?: KvTransport;
}

export type KvTransport = 'stream' | 'unary';

interface Endpoint {
  readonly address: string;
  readonly kv: KVClient;
  readonly admin: AdminClient;
  readonly stream: KvStreamConnection;
}

/** Reads may be asked again on another node after their stream broke; writes may not. */
type Retry = 'read' | 'write';

type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;

/** Per call: a deadline of its own instead of the client's `timeoutMs`. */
export interface CallOptions {
  readonly timeoutMs?: number;
}

export class QuorumKvClient {
  private readonly endpoints: Endpoint[];
  private readonly streamed: boolean;

  constructor(private readonly options: ClientOptions) {
    if (options.addresses.length === 0) throw new QkvError('INVALID_ARGUMENT', 'no address to connect to');
    const { grpcObject } = loadQuorumKvProtocol();
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    const channelOptions = options.credentials === undefined ? CLIENT_CHANNEL_OPTIONS : { ...CLIENT_CHANNEL_OPTIONS, ...TLS_CHANNEL_OPTIONS };
    this.endpoints = options.addresses.map((address) => ({
      address,
      kv: new grpcObject.quorumkv.v1.KV(address, credentials, channelOptions),
      admin: new grpcObject.quorumkv.v1.Admin(address, credentials, channelOptions),
    })).map((endpoint) => ({ ...endpoint, stream: new KvStreamConnection(endpoint.address, endpoint.kv) }));
    this.streamed = (options.transport ?? 'stream') === 'stream';
  }

  /** How this client's KV calls travel. */
  get transport(): KvTransport {
    return this.streamed ? 'stream' : 'unary';
  }

  put(key: Buffer, value: Buffer, options: { w?: number; ttlMs?: number } & CallOptions = {}): Promise<PutResponse__Output> {
    const request = { key, value, w: options.w ?? 0, ttlMs: String(options.ttlMs ?? 0) };
    if (this.streamed) return this.streamCall({ put: request }, 'write', (reply) => reply.put, options.timeoutMs);
    return this.call((e, cb: Callback<PutResponse__Output>, deadline) => e.kv.Put(request, { deadline }, cb), options.timeoutMs);
  }

  get(key: Buffer, options: { r?: number; includeReplicas?: boolean } & CallOptions = {}): Promise<GetResponse__Output> {
    const request = { key, r: options.r ?? 0, includeReplicas: options.includeReplicas ?? false };
    if (this.streamed) return this.streamCall({ get: request }, 'read', (reply) => reply.get, options.timeoutMs);
    return this.call((e, cb: Callback<GetResponse__Output>, deadline) => e.kv.Get(request, { deadline }, cb), options.timeoutMs);
  }

  delete(key: Buffer, options: { w?: number } & CallOptions = {}): Promise<DeleteResponse__Output> {
    const request = { key, w: options.w ?? 0 };
    if (this.streamed) return this.streamCall({ delete: request }, 'write', (reply) => reply.delete, options.timeoutMs);
    return this.call((e, cb: Callback<DeleteResponse__Output>, deadline) => e.kv.Delete(request, { deadline }, cb), options.timeoutMs);
  }

  batchPut(items: ReadonlyArray<{ key: Buffer; value: Buffer; ttlMs?: number }>, options: { w?: number } & CallOptions = {}): Promise<BatchPutResponse__Output> {
    const request = { w: options.w ?? 0, items: items.map((item) => ({ key: item.key, value: item.value, ttlMs: String(item.ttlMs ?? 0) })) };
    if (this.streamed) return this.streamCall({ batchPut: request }, 'write', (reply) => reply.batchPut, options.timeoutMs);
    return this.call((e, cb: Callback<BatchPutResponse__Output>, deadline) => e.kv.BatchPut(request, { deadline }, cb), options.timeoutMs);
  }

  batchGet(keys: readonly Buffer[], options: { r?: number } & CallOptions = {}): Promise<BatchGetResponse__Output> {
    const request = { keys: [...keys], r: options.r ?? 0 };
    if (this.streamed) return this.streamCall({ batchGet: request }, 'read', (reply) => reply.batchGet, options.timeoutMs);
    return this.call((e, cb: Callback<BatchGetResponse__Output>, deadline) => e.kv.BatchGet(request, { deadline }, cb), options.timeoutMs);
  }

  status(): Promise<StatusResponse__Output> {
    return this.call((e, cb: Callback<StatusResponse__Output>, deadline) => e.admin.Status({}, { deadline }, cb));
  }

  /** One anti-entropy pass on the node answering (the first address that answers). */
  repair(): Promise<RepairResponse__Output> {
    return this.call((e, cb: Callback<RepairResponse__Output>, deadline) => e.admin.Repair({}, { deadline }, cb));
  }

  /** Starts decommissioning the node answering; returns at once with its ring state. */
  decommission(): Promise<DecommissionResponse__Output> {
    return this.call((e, cb: Callback<DecommissionResponse__Output>, deadline) => e.admin.Decommission({}, { deadline }, cb));
  }

  /**
   * Forgets `member`, gone for good, on the node answering; returns once it is saved there.
   * `decision`: the version and an admin's signature of it (src/security/forget-signature.ts),
   * which a node with TLS requires (docs/decisions/0268-forget-signed-by-an-admin.md).
   */
  forget(member: string, decision?: { readonly version: number; readonly signed: ForgetSignature }): Promise<ForgetResponse__Output> {
    const request =
      decision === undefined ? { member } : { member, version: String(decision.version), signerCertificate: decision.signed.certificate, signature: decision.signed.signature };
    return this.call((e, cb: Callback<ForgetResponse__Output>, deadline) => e.admin.Forget(request, { deadline }, cb));
  }

  /**
   * Deletes, on the node answering, the records of the ranges it no longer replicates;
   * resolves when done. Give the client one address, or it may clean another node.
   */
  cleanup(): Promise<CleanupResponse__Output> {
    return this.call((e, cb: Callback<CleanupResponse__Output>, deadline) => e.admin.Cleanup({}, { deadline }, cb));
  }

  /**
   * Backs up the whole cluster from the node answering into `destination` (a directory
   * under its --backup-dir); `onProgress` gets each progress message; resolves with the
   * last one (`done`). The deadline is the whole backup's. With `requireAllMembers` a
   * member that cannot be read fails it (BACKUP_FAILED) instead of being left out.
   */
  backup(destination: string, onProgress: (progress: BackupProgress__Output) => void, options: CallOptions & { readonly requireAllMembers?: boolean } = {}): Promise<BackupProgress__Output> {
    const requireAllMembers = options.requireAllMembers ?? false;
    return this.stream((e, deadline) => e.admin.Backup({ destination, requireAllMembers }, { deadline }), onProgress, options.timeoutMs);
  }

  /** Restores a backup set (the newest when `backupId` is '') into the cluster; as backup(). */
  restore(destination: string, backupId: string, onProgress: (progress: RestoreProgress__Output) => void, options: CallOptions = {}): Promise<RestoreProgress__Output> {
    return this.stream((e, deadline) => e.admin.Restore({ destination, backupId }, { deadline }), onProgress, options.timeoutMs);
  }

  ring(key?: Buffer): Promise<RingResponse__Output> {
    const request = { key: key ?? Buffer.alloc(0) };
    return this.call((e, cb: Callback<RingResponse__Output>, deadline) => e.admin.Ring(request, { deadline }, cb));
  }

  close(): void {
    for (const endpoint of this.endpoints) {
      endpoint.stream.close();
      endpoint.kv.close();
      endpoint.admin.close();
    }
  }

  /** A server-streaming call, moving to the next address only when a node cannot be reached at all. */
  private async stream<T>(start: (endpoint: Endpoint, deadline: Date) => grpc.ClientReadableStream<T>, onMessage: (message: T) => void, timeoutMs = this.options.timeoutMs): Promise<T> {
    let lastError: QkvError | undefined;
    for (const endpoint of this.endpoints) {
      let received = false;
      try {
        return await lastMessageOf(start(endpoint, new Date(Date.now() + timeoutMs)), (message) => {
          received = true;
          onMessage(message);
        });
      } catch (error) {
        const serviceError = error as grpc.ServiceError;
        const converted = isQkvError(error) ? error : errorOfServiceError(serviceError);
        if (received || !isConnectionFailure(serviceError)) throw converted;
        lastError = new QkvError('PEER_UNREACHABLE', `cannot reach ${endpoint.address}: ${serviceError.details}`, { cause: error });
      }
    }
    throw lastError ?? new QkvError('INTERNAL', 'no endpoint answered');
  }

  /** One KV call on the endpoints' streams; `answer` picks the reply's body of the request's kind. */
  private async streamCall<T>(body: KvStreamBody, retry: Retry, answer: (reply: KvStreamReply__Output) => T | null | undefined, timeoutMs = this.options.timeoutMs): Promise<T> {
    const deadlineMs = Date.now() + timeoutMs;
    let lastError: QkvError | undefined;
    for (const endpoint of this.endpoints) {
      try {
        const reply = await endpoint.stream.request(body, deadlineMs);
        const value = answer(reply);
        if (value === null || value === undefined) throw new QkvError('INTERNAL', `node ${endpoint.address} answered a ${Object.keys(body)[0]} request with a ${reply.body ?? 'missing'} reply`);
        return value;
      } catch (error) {
        if (!isQkvError(error)) throw error;
        const tryNext = error instanceof NeverSentError || (retry === 'read' && error.code === 'PEER_UNREACHABLE');
        if (!tryNext) throw error;
        lastError = error;
      }
    }
    throw lastError ?? new QkvError('INTERNAL', 'no endpoint answered');
  }

  private async call<T>(start: (endpoint: Endpoint, callback: Callback<T>, deadline: Date) => void, timeoutMs = this.options.timeoutMs): Promise<T> {
    let lastError: QkvError | undefined;
    for (const endpoint of this.endpoints) {
      try {
        return await new Promise<T>((resolve, reject) => {
          start(endpoint, (error, response) => (error !== null ? reject(error) : resolve(response as T)), new Date(Date.now() + timeoutMs));
        });
      } catch (error) {
        const serviceError = error as grpc.ServiceError;
        const converted = isQkvError(error) ? error : errorOfServiceError(serviceError);
        if (!isConnectionFailure(serviceError)) throw converted;
        lastError = new QkvError('PEER_UNREACHABLE', `cannot reach ${endpoint.address}: ${serviceError.details}`, { cause: error });
      }
    }
    throw lastError ?? new QkvError('INTERNAL', 'no endpoint answered');
  }
}

/** A server stream's messages; resolves with the last one. */
function lastMessageOf<T>(call: grpc.ClientReadableStream<T>, onMessage: (message: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: T | undefined;
    call.on('data', (message: T) => {
      last = message;
      onMessage(message);
    });
    call.on('error', reject);
    call.on('end', () => (last === undefined ? reject(new QkvError('INTERNAL', 'the stream ended without a message')) : resolve(last)));
  });
}

/** UNAVAILABLE without our error code: the node was never reached. */
function isConnectionFailure(error: grpc.ServiceError): boolean {
  return error.code === grpc.status.UNAVAILABLE && error.metadata?.get(ERROR_CODE_METADATA_KEY).length === 0;
}
