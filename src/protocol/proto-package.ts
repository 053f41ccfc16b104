// Loads the quorumkv.v1 protocol (proto/quorumkv/v1) at run time with
// @grpc/proto-loader. The options here decide how protobuf values look in JavaScript
// and must match the ones scripts/proto-types.mjs generates src/protocol/generated with:
//
// - 64-bit integers (`uint64 stamp`, `ttl_ms`, `expires_at_ms`) arrive as decimal
//   strings (`longs: String`). protobufjs has no bigint support, and `Number` would
//   silently round stamps above 2^53; the codecs in wire-codec.ts turn the strings
//   into bigint (versions) or checked numbers (milliseconds) at the edge
//   (docs/decisions/0030-proto-longs-as-strings.md).
// - `defaults: true`, so an absent scalar reads as its zero value (w = 0 means the
//   cluster default, exactly as proto3 intends).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as KvProto } from './generated/kv.js';
import type { ProtoGrpcType as AdminProto } from './generated/admin.js';
import type { ProtoGrpcType as ReplicaProto } from './generated/replica.js';
import { boundProbeAnswers } from './probe-answer-bounds.js';

/** The proto/ directory of this package, found relative to the compiled module. */
export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));

export const PROTO_FILES = ['quorumkv/v1/kv.proto', 'quorumkv/v1/admin.proto', 'quorumkv/v1/replica.proto'] as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export type QuorumKvGrpcObject = KvProto & AdminProto & ReplicaProto;

export interface QuorumKvProtocol {
  readonly packageDefinition: protoLoader.PackageDefinition;
  readonly grpcObject: QuorumKvGrpcObject;
}

let cached: QuorumKvProtocol | undefined;

/** The loaded protocol; parsed once per process. */
export function loadQuorumKvProtocol(): QuorumKvProtocol {
  if (cached === undefined) {
    const packageDefinition = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
    // Before the client constructors copy the decoders: a peer's answer is bounded too.
    boundProbeAnswers(packageDefinition);
    const grpcObject = grpc.loadPackageDefinition(packageDefinition) as unknown as QuorumKvGrpcObject;
    cached = { packageDefinition, grpcObject };
  }
  return cached;
}

/**
 * The files of the services a node serves on its client port (KV, Admin, and what they
 * import); the Replica service of replica.proto is served on the peer port only.
 */
export const CLIENT_PROTO_FILES = ['quorumkv/v1/kv.proto', 'quorumkv/v1/admin.proto'] as const;

/**
 * The protocol as the client port's server reflection publishes it: its own services
 * only, never the internal Replica protocol (reflection serves whole files, so the
 * Replica service is left out by not loading its file). Loaded apart from the one the
 * services use, with `keepCase: true`, so that grpcurl and other reflection clients see
 * the field names of the .proto files (`ttl_ms`), not protobufjs's camelCase (`ttlMs`).
 */
export function loadClientReflectionDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...CLIENT_PROTO_FILES], { ...PROTO_LOADER_OPTIONS, keepCase: true });
}
