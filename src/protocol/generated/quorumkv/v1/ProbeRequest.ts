// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ProbeRequest {
  'sender'?: (string);
  'ringState'?: (string);
  'ringStateVersion'?: (number | string | Long);
  'heardRingState'?: (string);
  'heardRingStateVersion'?: (number | string | Long);
}

export interface ProbeRequest__Output {
  'sender': (string);
  'ringState': (string);
  'ringStateVersion': (string);
  'heardRingState': (string);
  'heardRingStateVersion': (string);
}
