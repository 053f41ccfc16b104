// Original file: proto/quorumkv/v1/admin.proto

import type { MemberStatus as _quorumkv_v1_MemberStatus, MemberStatus__Output as _quorumkv_v1_MemberStatus__Output } from '../../quorumkv/v1/MemberStatus.js';
import type { StreamProgress as _quorumkv_v1_StreamProgress, StreamProgress__Output as _quorumkv_v1_StreamProgress__Output } from '../../quorumkv/v1/StreamProgress.js';
import type { CleanupStatus as _quorumkv_v1_CleanupStatus, CleanupStatus__Output as _quorumkv_v1_CleanupStatus__Output } from '../../quorumkv/v1/CleanupStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'nodeId'?: (string);
  'state'?: (string);
  'version'?: (string);
  'uptimeMs'?: (number | string | Long);
  'ringDigest'?: (string);
  'replicationFactor'?: (number);
  'vnodes'?: (number);
  'members'?: (_quorumkv_v1_MemberStatus)[];
  'ringState'?: (string);
  'stream'?: (_quorumkv_v1_StreamProgress | null);
  'cleanup'?: (_quorumkv_v1_CleanupStatus | null);
}

export interface StatusResponse__Output {
  'nodeId': (string);
  'state': (string);
  'version': (string);
  'uptimeMs': (string);
  'ringDigest': (string);
  'replicationFactor': (number);
  'vnodes': (number);
  'members': (_quorumkv_v1_MemberStatus__Output)[];
  'ringState': (string);
  'stream': (_quorumkv_v1_StreamProgress__Output | null);
  'cleanup': (_quorumkv_v1_CleanupStatus__Output | null);
}
