// Original file: proto/quorumkv/v1/kv.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from '../../quorumkv/v1/ItemError.js';

export interface PutResult {
  'ok'?: (boolean);
  'version'?: (_quorumkv_v1_Version | null);
  'acks'?: (number);
  'error'?: (_quorumkv_v1_ItemError | null);
}

export interface PutResult__Output {
  'ok': (boolean);
  'version': (_quorumkv_v1_Version__Output | null);
  'acks': (number);
  'error': (_quorumkv_v1_ItemError__Output | null);
}
