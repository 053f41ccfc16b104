// Original file: proto/quorumkv/v1/replica.proto

import type { ApplyResponse as _quorumkv_v1_ApplyResponse, ApplyResponse__Output as _quorumkv_v1_ApplyResponse__Output } from '../../quorumkv/v1/ApplyResponse.js';
import type { ReadResponse as _quorumkv_v1_ReadResponse, ReadResponse__Output as _quorumkv_v1_ReadResponse__Output } from '../../quorumkv/v1/ReadResponse.js';
import type { ExchangeError as _quorumkv_v1_ExchangeError, ExchangeError__Output as _quorumkv_v1_ExchangeError__Output } from '../../quorumkv/v1/ExchangeError.js';

export interface ExchangeReply {
  'id'?: (number);
  'apply'?: (_quorumkv_v1_ApplyResponse | null);
  'read'?: (_quorumkv_v1_ReadResponse | null);
  'error'?: (_quorumkv_v1_ExchangeError | null);
  'body'?: "apply"|"read"|"error";
}

export interface ExchangeReply__Output {
  'id': (number);
  'apply'?: (_quorumkv_v1_ApplyResponse__Output | null);
  'read'?: (_quorumkv_v1_ReadResponse__Output | null);
  'error'?: (_quorumkv_v1_ExchangeError__Output | null);
  'body'?: "apply"|"read"|"error";
}
