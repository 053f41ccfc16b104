// Original file: proto/quorumkv/v1/kv.proto


export interface DeleteRequest {
  'key'?: (Buffer | Uint8Array | string);
  'w'?: (number);
}

export interface DeleteRequest__Output {
  'key': (Buffer);
  'w': (number);
}
