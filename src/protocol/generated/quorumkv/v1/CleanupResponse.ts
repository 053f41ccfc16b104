// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface CleanupResponse {
  'ranges'?: (number);
  'recordsScanned'?: (number | string | Long);
  'recordsRemoved'?: (number | string | Long);
  'elapsedMs'?: (number | string | Long);
  'ringDigest'?: (string);
}

export interface CleanupResponse__Output {
  'ranges': (number);
  'recordsScanned': (string);
  'recordsRemoved': (string);
  'elapsedMs': (string);
  'ringDigest': (string);
}
