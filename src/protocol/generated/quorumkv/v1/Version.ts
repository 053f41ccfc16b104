// Original file: proto/quorumkv/v1/common.proto

import type { Long } from '@grpc/proto-loader';

export interface Version {
  'stamp'?: (number | string | Long);
  'nodeId'?: (string);
}

export interface Version__Output {
  'stamp': (string);
  'nodeId': (string);
}
