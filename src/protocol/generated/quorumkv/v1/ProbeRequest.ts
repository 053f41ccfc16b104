// Original file: proto/quorumkv/v1/replica.proto

import type { ForgottenMember as _quorumkv_v1_ForgottenMember, ForgottenMember__Output as _quorumkv_v1_ForgottenMember__Output } from '../../quorumkv/v1/ForgottenMember.js';
import type { Long } from '@grpc/proto-loader';

export interface ProbeRequest {
  'sender'?: (string);
  'ringState'?: (string);
  'ringStateVersion'?: (number | string | Long);
  'heardRingState'?: (string);
  'heardRingStateVersion'?: (number | string | Long);
  'forgotten'?: (_quorumkv_v1_ForgottenMember)[];
}

export interface ProbeRequest__Output {
  'sender': (string);
  'ringState': (string);
  'ringStateVersion': (string);
  'heardRingState': (string);
  'heardRingStateVersion': (string);
  'forgotten': (_quorumkv_v1_ForgottenMember__Output)[];
}
