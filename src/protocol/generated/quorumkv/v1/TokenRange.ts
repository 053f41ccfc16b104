// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface TokenRange {
  'start'?: (number | string | Long);
  'end'?: (number | string | Long);
}

export interface TokenRange__Output {
  'start': (string);
  'end': (string);
}
