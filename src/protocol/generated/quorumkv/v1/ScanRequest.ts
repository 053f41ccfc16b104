// Original file: proto/quorumkv/v1/replica.proto

import type { TokenRange as _quorumkv_v1_TokenRange, TokenRange__Output as _quorumkv_v1_TokenRange__Output } from '../../quorumkv/v1/TokenRange.js';
import type { ScanCursor as _quorumkv_v1_ScanCursor, ScanCursor__Output as _quorumkv_v1_ScanCursor__Output } from '../../quorumkv/v1/ScanCursor.js';

export interface ScanRequest {
  'range'?: (_quorumkv_v1_TokenRange | null);
  'limit'?: (number);
  'resumeAfter'?: (_quorumkv_v1_ScanCursor | null);
}

export interface ScanRequest__Output {
  'range': (_quorumkv_v1_TokenRange__Output | null);
  'limit': (number);
  'resumeAfter': (_quorumkv_v1_ScanCursor__Output | null);
}
