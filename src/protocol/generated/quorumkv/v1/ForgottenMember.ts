// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ForgottenMember {
  'nodeId'?: (string);
  'version'?: (number | string | Long);
}

export interface ForgottenMember__Output {
  'nodeId': (string);
  'version': (string);
}
