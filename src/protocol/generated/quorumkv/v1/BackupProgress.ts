// Original file: proto/quorumkv/v1/admin.proto

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
}
