// Original file: proto/quorumkv/v1/replica.proto

import type { Record as _quorumkv_v1_Record, Record__Output as _quorumkv_v1_Record__Output } from '../../quorumkv/v1/Record.js';
import type { ScanCursor as _quorumkv_v1_ScanCursor, ScanCursor__Output as _quorumkv_v1_ScanCursor__Output } from '../../quorumkv/v1/ScanCursor.js';

export interface ScanResponse {
  'records'?: (_quorumkv_v1_Record)[];
  'resumeAfter'?: (_quorumkv_v1_ScanCursor | null);
}

export interface ScanResponse__Output {
  'records': (_quorumkv_v1_Record__Output)[];
  'resumeAfter': (_quorumkv_v1_ScanCursor__Output | null);
}
