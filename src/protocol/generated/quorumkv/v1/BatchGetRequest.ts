// Original file: proto/quorumkv/v1/kv.proto


export interface BatchGetRequest {
  'keys'?: (Buffer | Uint8Array | string)[];
  'r'?: (number);
}

export interface BatchGetRequest__Output {
  'keys': (Buffer)[];
  'r': (number);
}
