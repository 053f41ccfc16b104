// Original file: proto/quorumkv/v1/replica.proto


export interface ApplyRequest {
  'batch'?: (Buffer | Uint8Array | string);
}

export interface ApplyRequest__Output {
  'batch': (Buffer);
}
