// Original file: proto/quorumkv/v1/replica.proto


export interface ApplyResponse {
  'records'?: (number);
}

export interface ApplyResponse__Output {
  'records': (number);
}
