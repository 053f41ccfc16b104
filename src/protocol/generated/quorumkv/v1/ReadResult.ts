// Original file: proto/quorumkv/v1/replica.proto

import type { Record as _quorumkv_v1_Record, Record__Output as _quorumkv_v1_Record__Output } from '../../quorumkv/v1/Record.js';

export interface ReadResult {
  'found'?: (boolean);
  'record'?: (_quorumkv_v1_Record | null);
}

export interface ReadResult__Output {
  'found': (boolean);
  'record': (_quorumkv_v1_Record__Output | null);
}
