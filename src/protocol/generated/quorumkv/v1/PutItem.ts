// Original file: proto/quorumkv/v1/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface PutItem {
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  'ttlMs'?: (number | string | Long);
}

export interface PutItem__Output {
  'key': (Buffer);
  'value': (Buffer);
  'ttlMs': (string);
}
