// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface CleanupStatus {
  'needed'?: (boolean);
  'running'?: (boolean);
  'rangesDone'?: (number);
  'rangesTotal'?: (number);
  'recordsScanned'?: (number | string | Long);
  'recordsRemoved'?: (number | string | Long);
  'lastError'?: (string);
}

export interface CleanupStatus__Output {
  'needed': (boolean);
  'running': (boolean);
  'rangesDone': (number);
  'rangesTotal': (number);
  'recordsScanned': (string);
  'recordsRemoved': (string);
  'lastError': (string);
}
