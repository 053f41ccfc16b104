// Original file: proto/quorumkv/v1/replica.proto

import type { Record as _quorumkv_v1_Record, Record__Output as _quorumkv_v1_Record__Output } from '../../quorumkv/v1/Record.js';

export interface ApplyRequest {
  'records'?: (_quorumkv_v1_Record)[];
  'batch'?: (Buffer | Uint8Array | string);
}

export interface ApplyRequest__Output {
  'records': (_quorumkv_v1_Record__Output)[];
  'batch': (Buffer);
}
