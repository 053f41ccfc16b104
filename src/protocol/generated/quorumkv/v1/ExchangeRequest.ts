// Original file: proto/quorumkv/v1/replica.proto

import type { ApplyRequest as _quorumkv_v1_ApplyRequest, ApplyRequest__Output as _quorumkv_v1_ApplyRequest__Output } from '../../quorumkv/v1/ApplyRequest.js';
import type { ReadRequest as _quorumkv_v1_ReadRequest, ReadRequest__Output as _quorumkv_v1_ReadRequest__Output } from '../../quorumkv/v1/ReadRequest.js';

export interface ExchangeRequest {
  'id'?: (number);
  'apply'?: (_quorumkv_v1_ApplyRequest | null);
  'read'?: (_quorumkv_v1_ReadRequest | null);
  'body'?: "apply"|"read";
}

export interface ExchangeRequest__Output {
  'id': (number);
  'apply'?: (_quorumkv_v1_ApplyRequest__Output | null);
  'read'?: (_quorumkv_v1_ReadRequest__Output | null);
  'body'?: "apply"|"read";
}
