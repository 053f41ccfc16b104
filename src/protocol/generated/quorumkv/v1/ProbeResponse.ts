// Original file: proto/quorumkv/v1/replica.proto

import type { ForgottenMember as _quorumkv_v1_ForgottenMember, ForgottenMember__Output as _quorumkv_v1_ForgottenMember__Output } from '../../quorumkv/v1/ForgottenMember.js';
import type { Long } from '@grpc/proto-loader';

export interface ProbeResponse {
  'ringState'?: (string);
  'ringStateVersion'?: (number | string | Long);
  'ringDigest'?: (string);
  'writeRingDigest'?: (string);
  'forgotten'?: (_quorumkv_v1_ForgottenMember)[];
}

export interface ProbeResponse__Output {
  'ringState': (string);
  'ringStateVersion': (string);
  'ringDigest': (string);
  'writeRingDigest': (string);
  'forgotten': (_quorumkv_v1_ForgottenMember__Output)[];
}
