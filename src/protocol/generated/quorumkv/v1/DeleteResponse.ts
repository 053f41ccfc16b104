// Original file: proto/quorumkv/v1/kv.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';

export interface DeleteResponse {
  'version'?: (_quorumkv_v1_Version | null);
  'acks'?: (number);
}

export interface DeleteResponse__Output {
  'version': (_quorumkv_v1_Version__Output | null);
  'acks': (number);
}
