// Original file: proto/quorumkv/v1/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface PutRequest {
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  'w'?: (number);
  'ttlMs'?: (number | string | Long);
}

export interface PutRequest__Output {
  'key': (Buffer);
  'value': (Buffer);
  'w': (number);
  'ttlMs': (string);
}
