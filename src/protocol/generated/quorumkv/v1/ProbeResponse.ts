// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ProbeResponse {
  'ringState'?: (string);
  'ringStateVersion'?: (number | string | Long);
  'ringDigest'?: (string);
  'writeRingDigest'?: (string);
}

export interface ProbeResponse__Output {
  'ringState': (string);
  'ringStateVersion': (string);
  'ringDigest': (string);
  'writeRingDigest': (string);
}
