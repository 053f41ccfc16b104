// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RestoreProgress {
  'backupId'?: (string);
  'phase'?: (string);
  'filesDone'?: (number);
  'filesTotal'?: (number);
  'records'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'elapsedMs'?: (number | string | Long);
  'done'?: (boolean);
  'recordsRead'?: (number | string | Long);
  'bytesSent'?: (number | string | Long);
}

export interface RestoreProgress__Output {
  'backupId': (string);
  'phase': (string);
  'filesDone': (number);
  'filesTotal': (number);
  'records': (string);
  'bytes': (string);
  'elapsedMs': (string);
  'done': (boolean);
  'recordsRead': (string);
  'bytesSent': (string);
}
