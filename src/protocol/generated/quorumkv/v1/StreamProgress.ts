// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface StreamProgress {
  'rangesDone'?: (number);
  'rangesTotal'?: (number);
  'keys'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  'phase'?: (string);
  'lastError'?: (string);
  'waitingFor'?: (string)[];
  'movement'?: (string);
}

export interface StreamProgress__Output {
  'rangesDone': (number);
  'rangesTotal': (number);
  'keys': (string);
  'bytes': (string);
  'phase': (string);
  'lastError': (string);
  'waitingFor': (string)[];
  'movement': (string);
}
