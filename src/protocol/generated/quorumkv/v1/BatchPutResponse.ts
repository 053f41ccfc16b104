// Original file: proto/quorumkv/v1/kv.proto

import type { PutResult as _quorumkv_v1_PutResult, PutResult__Output as _quorumkv_v1_PutResult__Output } from '../../quorumkv/v1/PutResult.js';

export interface BatchPutResponse {
  'results'?: (_quorumkv_v1_PutResult)[];
}

export interface BatchPutResponse__Output {
  'results': (_quorumkv_v1_PutResult__Output)[];
}
