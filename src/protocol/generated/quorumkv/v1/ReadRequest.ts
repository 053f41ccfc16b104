// Original file: proto/quorumkv/v1/replica.proto


export interface ReadRequest {
  'keys'?: (Buffer | Uint8Array | string)[];
}

export interface ReadRequest__Output {
  'keys': (Buffer)[];
}
