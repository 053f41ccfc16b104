// Original file: proto/quorumkv/v1/kv.proto

import type { GetResult as _quorumkv_v1_GetResult, GetResult__Output as _quorumkv_v1_GetResult__Output } from '../../quorumkv/v1/GetResult.js';

export interface BatchGetResponse {
  'results'?: (_quorumkv_v1_GetResult)[];
}

export interface BatchGetResponse__Output {
  'results': (_quorumkv_v1_GetResult__Output)[];
}
