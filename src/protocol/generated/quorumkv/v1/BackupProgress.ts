// Original file: proto/quorumkv/v1/admin.proto

import type { MissingMember as _quorumkv_v1_MissingMember, MissingMember__Output as _quorumkv_v1_MissingMember__Output } from '../../quorumkv/v1/MissingMember.js';
import type { Long } from '@grpc/proto-loader';

export interface BackupProgress {
  'backupId'?: (string);
  'member'?: (string);
  'membersDone'?: (number);
  'membersTotal'?: (number);
  'records'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'elapsedMs'?: (number | string | Long);
  'done'?: (boolean);
  'location'?: (string);
  'missingMembers'?: (_quorumkv_v1_MissingMember)[];
}

export interface BackupProgress__Output {
  'backupId': (string);
  'member': (string);
  'membersDone': (number);
  'membersTotal': (number);
  'records': (string);
  'bytes': (string);
  'elapsedMs': (string);
  'done': (boolean);
  'location': (string);
  'missingMembers': (_quorumkv_v1_MissingMember__Output)[];
}
