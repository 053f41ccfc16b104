// Original file: proto/quorumkv/v1/replica.proto


export interface ReadResponse {
  'found'?: (boolean)[];
  'batch'?: (Buffer | Uint8Array | string);
}

export interface ReadResponse__Output {
  'found': (boolean)[];
  'batch': (Buffer);
}
