// Original file: proto/quorumkv/v1/kv.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';

export interface ReplicaAnswer {
  'nodeId'?: (string);
  'answered'?: (boolean);
  'found'?: (boolean);
  'version'?: (_quorumkv_v1_Version | null);
  'error'?: (string);
}

export interface ReplicaAnswer__Output {
  'nodeId': (string);
  'answered': (boolean);
  'found': (boolean);
  'version': (_quorumkv_v1_Version__Output | null);
  'error': (string);
}
