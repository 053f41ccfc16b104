// Original file: proto/quorumkv/v1/replica.proto

import type { TokenRange as _quorumkv_v1_TokenRange, TokenRange__Output as _quorumkv_v1_TokenRange__Output } from '../../quorumkv/v1/TokenRange.js';

export interface MerkleTreeRequest {
  'range'?: (_quorumkv_v1_TokenRange | null);
  'depth'?: (number);
}

export interface MerkleTreeRequest__Output {
  'range': (_quorumkv_v1_TokenRange__Output | null);
  'depth': (number);
}
