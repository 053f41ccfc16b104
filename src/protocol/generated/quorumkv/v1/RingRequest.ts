// Original file: proto/quorumkv/v1/admin.proto


export interface RingRequest {
  'key'?: (Buffer | Uint8Array | string);
}

export interface RingRequest__Output {
  'key': (Buffer);
}
