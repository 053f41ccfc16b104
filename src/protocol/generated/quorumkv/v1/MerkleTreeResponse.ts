// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface MerkleTreeResponse {
  'root'?: (Buffer | Uint8Array | string);
  'leaves'?: (Buffer | Uint8Array | string)[];
  'records'?: (number | string | Long);
}

export interface MerkleTreeResponse__Output {
  'root': (Buffer);
  'leaves': (Buffer)[];
  'records': (string);
}
