// Original file: proto/quorumkv/v1/kv.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from '../../quorumkv/v1/ItemError.js';

export interface GetResult {
  'ok'?: (boolean);
  'key'?: (Buffer | Uint8Array | string);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (_quorumkv_v1_Version | null);
  'acks'?: (number);
  'error'?: (_quorumkv_v1_ItemError | null);
}

export interface GetResult__Output {
  'ok': (boolean);
  'key': (Buffer);
  'found': (boolean);
  'value': (Buffer);
  'version': (_quorumkv_v1_Version__Output | null);
  'acks': (number);
  'error': (_quorumkv_v1_ItemError__Output | null);
}
