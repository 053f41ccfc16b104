// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ScanCursor {
  'token'?: (number | string | Long);
  'key'?: (Buffer | Uint8Array | string);
}

export interface ScanCursor__Output {
  'token': (string);
  'key': (Buffer);
}
