// Original file: proto/quorumkv/v1/kv.proto


export interface GetRequest {
  'key'?: (Buffer | Uint8Array | string);
  'r'?: (number);
  'includeReplicas'?: (boolean);
}

export interface GetRequest__Output {
  'key': (Buffer);
  'r': (number);
  'includeReplicas': (boolean);
}
