// Original file: proto/quorumkv/v1/kv.proto

import type { PutItem as _quorumkv_v1_PutItem, PutItem__Output as _quorumkv_v1_PutItem__Output } from '../../quorumkv/v1/PutItem.js';

export interface BatchPutRequest {
  'items'?: (_quorumkv_v1_PutItem)[];
  'w'?: (number);
}

export interface BatchPutRequest__Output {
  'items': (_quorumkv_v1_PutItem__Output)[];
  'w': (number);
}
