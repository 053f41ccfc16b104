// Sends arbitrary bytes as a gRPC request, for tests that play a hostile or broken
// client: truncated or garbage messages, varints no protobuf library would write, wrong
// wire types. Also a few protobuf field writers to build such messages by hand, and the
// real serializer of each quorumkv request type for the well-formed-but-extreme ones.
// Against a secure node the client port takes a client certificate (clientChannelCredentials)
// and the peer port a node certificate with `sender` naming the same node
// (nodeChannelCredentials); the bytes are then judged by the code behind the guards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '../../src/protocol/error-status.js';
import { loadQuorumKvProtocol } from '../../src/protocol/proto-package.js';
import { senderMetadata } from '../../src/protocol/sender-metadata.js';
import { TLS_CHANNEL_OPTIONS } from '../../src/security/tls-credentials.js';

export interface RawOutcome {
  /** gRPC status name, e.g. `INVALID_ARGUMENT` or `OK`. */
  readonly status: string;
  /** The `qkv-error-code` trailer, when the node sent one. */
  readonly code: string | undefined;
  readonly details: string;
  readonly response: Buffer | undefined;
  readonly elapsedMs: number;
}

export interface RawClientOptions {
  /** Plaintext when not given (a node started with --insecure, or a test's own server). */
  readonly credentials?: grpc.ChannelCredentials;
  /** Merged over unlimited message lengths (and the TLS server name when `credentials` is given). */
  readonly channelOptions?: grpc.ChannelOptions;
  /** The member every call says it is from (`qkv-from`), as the peer port requires. */
  readonly sender?: string;
}

/**
 * The credentials of a member calling a peer port: the node certificate in `nodeDir`
 * (node.crt, node.key, ca.crt). Any node certificate of the CA is taken as the server's,
 * since a raw test client does not care which member answers.
 */
export function nodeChannelCredentials(nodeDir: string): grpc.ChannelCredentials {
  const read = (name: string): Buffer => readFileSync(join(nodeDir, name));
  return grpc.credentials.createSsl(read('ca.crt'), read('node.key'), read('node.crt'), { checkServerIdentity: () => undefined });
}

export class RawGrpcClient {
  private readonly client: grpc.Client;
  private readonly sender: string | undefined;

  constructor(address: string, options: RawClientOptions = {}) {
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    const tls = options.credentials === undefined ? {} : TLS_CHANNEL_OPTIONS;
    this.client = new grpc.Client(address, credentials, { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1, ...tls, ...options.channelOptions });
    this.sender = options.sender;
  }

  /** One unary call of `path` (e.g. `/quorumkv.v1.Replica/Read`) with `bytes` as the message. */
  call(path: string, bytes: Buffer, timeoutMs = 30_000): Promise<RawOutcome> {
    const started = Date.now();
    const identity = (buffer: Buffer): Buffer => buffer;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, bytes, senderMetadata(this.sender), { deadline: new Date(started + timeoutMs) }, (error, response) => {
        const [code] = error?.metadata?.get(ERROR_CODE_METADATA_KEY) ?? [];
        resolve({
          status: grpc.status[error?.code ?? grpc.status.OK],
          code: code === undefined ? undefined : String(code),
          details: error?.details ?? '',
          response,
          elapsedMs: Date.now() - started,
        });
      });
    });
  }

  /**
   * One bidirectional stream of `path`: writes `messages`, half-closes, and collects the
   * replies and the final status (the stream's own, not a reply's).
   */
  stream(path: string, messages: readonly Buffer[], timeoutMs = 30_000): Promise<RawOutcome & { readonly replies: Buffer[] }> {
    const started = Date.now();
    const identity = (buffer: Buffer): Buffer => buffer;
    return new Promise((resolve) => {
      const call = this.client.makeBidiStreamRequest(path, identity, identity, senderMetadata(this.sender), { deadline: new Date(started + timeoutMs) });
      const replies: Buffer[] = [];
      call.on('data', (reply: Buffer) => replies.push(reply));
      call.on('error', () => {});
      call.on('status', (status: grpc.StatusObject) => {
        const [code] = status.metadata?.get(ERROR_CODE_METADATA_KEY) ?? [];
        resolve({
          status: grpc.status[status.code],
          code: code === undefined ? undefined : String(code),
          details: status.details,
          response: undefined,
          replies,
          elapsedMs: Date.now() - started,
        });
      });
      for (const message of messages) call.write(message);
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

type ServiceName = 'KV' | 'Admin' | 'Replica';

/** A request of `service`/`method` serialized by the real protobuf code (longs as decimal strings). */
export function encodeRequest(service: ServiceName, method: string, request: object): Buffer {
  const definition = loadQuorumKvProtocol().packageDefinition[`quorumkv.v1.${service}`] as Record<string, { requestSerialize(value: object): Buffer }>;
  const methodDefinition = definition[method];
  if (methodDefinition === undefined) throw new Error(`no method ${service}/${method}`);
  return methodDefinition.requestSerialize(request);
}

/** A response of `service`/`method` parsed by the real protobuf code. */
export function decodeResponse<T>(service: ServiceName, method: string, bytes: Buffer): T {
  const definition = loadQuorumKvProtocol().packageDefinition[`quorumkv.v1.${service}`] as Record<string, { responseDeserialize(bytes: Buffer): unknown }>;
  return definition[method]!.responseDeserialize(bytes) as T;
}

/** A base-128 varint of `value`, which may exceed 64 bits (protobuf allows at most 10 bytes). */
export function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

/** Field `field` as a varint (wire type 0). */
export function varintField(field: number, value: bigint): Buffer {
  return Buffer.concat([varint(BigInt(field << 3)), varint(value)]);
}

/** Field `field` as length-delimited bytes (wire type 2): bytes, strings, nested messages. */
export function bytesField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint(BigInt((field << 3) | 2)), varint(BigInt(bytes.length)), bytes]);
}
