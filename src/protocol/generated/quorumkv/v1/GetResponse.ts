// Original file: proto/quorumkv/v1/kv.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';
import type { ReplicaAnswer as _quorumkv_v1_ReplicaAnswer, ReplicaAnswer__Output as _quorumkv_v1_ReplicaAnswer__Output } from '../../quorumkv/v1/ReplicaAnswer.js';

export interface GetResponse {
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (_quorumkv_v1_Version | null);
  'acks'?: (number);
  'replicas'?: (_quorumkv_v1_ReplicaAnswer)[];
}

export interface GetResponse__Output {
  'found': (boolean);
  'value': (Buffer);
  'version': (_quorumkv_v1_Version__Output | null);
  'acks': (number);
  'replicas': (_quorumkv_v1_ReplicaAnswer__Output)[];
}
