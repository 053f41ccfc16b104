// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RepairResponse {
  'rangesCompared'?: (number);
  'rangesMismatched'?: (number);
  'keysPulled'?: (number | string | Long);
  'keysPushed'?: (number | string | Long);
  'peersSkipped'?: (number);
  'elapsedMs'?: (number | string | Long);
}

export interface RepairResponse__Output {
  'rangesCompared': (number);
  'rangesMismatched': (number);
  'keysPulled': (string);
  'keysPushed': (string);
  'peersSkipped': (number);
  'elapsedMs': (string);
}
