// Original file: proto/quorumkv/v1/replica.proto

import type { ReadResult as _quorumkv_v1_ReadResult, ReadResult__Output as _quorumkv_v1_ReadResult__Output } from '../../quorumkv/v1/ReadResult.js';

export interface ReadResponse {
  'results'?: (_quorumkv_v1_ReadResult)[];
  'found'?: (boolean)[];
  'batch'?: (Buffer | Uint8Array | string);
}

export interface ReadResponse__Output {
  'results': (_quorumkv_v1_ReadResult__Output)[];
  'found': (boolean)[];
  'batch': (Buffer);
}
